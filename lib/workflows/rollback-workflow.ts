/** The rollback workflow as data: its ASL file and the functions its placeholders name. */
import { acquireDeployLock } from '../../functions/acquire-deploy-lock/core';
import { awaitDeploymentOutcome } from '../../functions/await-deployment-outcome/core';
import { recordRollbackOutcome } from '../../functions/record-rollback-outcome/core';
import { releaseDeployLock } from '../../functions/release-deploy-lock/core';
import { rollBackService } from '../../functions/roll-back-service/core';
import { runHealthGate } from '../../functions/run-health-gate/core';
import { stopDeployForRollback } from '../../functions/stop-deploy-for-rollback/core';
import { validateRollbackRequest } from '../../functions/validate-rollback-request/core';
import type { WorkflowSpec } from './workflow-spec';

export const rollbackWorkflow = {
  kind: 'workflow',
  name: 'rollback',
  aslFile: 'rollback.asl.json',
  functions: {
    ValidateRollbackRequest: validateRollbackRequest,
    StopDeployForRollback: stopDeployForRollback,
    AcquireDeployLock: acquireDeployLock,
    RollBackService: rollBackService,
    AwaitDeploymentOutcome: awaitDeploymentOutcome,
    RunHealthGate: runHealthGate,
    ReleaseDeployLock: releaseDeployLock,
    RecordRollbackOutcome: recordRollbackOutcome,
  },
  standaloneFunctions: {},
  rules: [],
} as const satisfies WorkflowSpec;
