/**
 * The deploy workflow as data: its ASL file, the functions its placeholders name,
 * and the EventBridge rules that feed it. The CDK construct and the sandbox both
 * build from this, so they cannot drift apart.
 */
import { acquireDeployLock } from '../../functions/acquire-deploy-lock/core';
import { awaitDeploymentOutcome } from '../../functions/await-deployment-outcome/core';
import { checkDeployGuards } from '../../functions/check-deploy-guards/core';
import { handleDeploymentEvent } from '../../functions/handle-deployment-event/core';
import { recordDeployOutcome } from '../../functions/record-deploy-outcome/core';
import { registerTaskDefinition } from '../../functions/register-task-definition/core';
import { releaseDeployLock } from '../../functions/release-deploy-lock/core';
import { rollBackDeployment } from '../../functions/roll-back-deployment/core';
import { runHealthGate } from '../../functions/run-health-gate/core';
import { startDeployment } from '../../functions/start-deployment/core';
import { startSoak } from '../../functions/start-soak/core';
import { validateDeployRequest } from '../../functions/validate-deploy-request/core';
import { finalizeInterruptedDeploy } from '../../functions/finalize-interrupted-deploy/core';
import { judgeDeploymentHook } from '../../functions/judge-deployment-hook/core';
import { decideReleaseApproval } from '../../functions/decide-release-approval/core';
import { deployExecutionEndPattern, ecsDeploymentEventPattern } from '../event-patterns';
import type { WorkflowSpec } from './workflow-spec';

export const deployWorkflow = {
  kind: 'workflow',
  name: 'deploy',
  aslFile: 'deploy.asl.json',
  /** Placeholder `${<Key>FunctionArn}` in the ASL → the handler behind it. */
  functions: {
    ValidateDeployRequest: validateDeployRequest,
    AcquireDeployLock: acquireDeployLock,
    CheckDeployGuards: checkDeployGuards,
    RegisterTaskDefinition: registerTaskDefinition,
    StartDeployment: startDeployment,
    AwaitDeploymentOutcome: awaitDeploymentOutcome,
    RunHealthGate: runHealthGate,
    StartSoak: startSoak,
    RollBackDeployment: rollBackDeployment,
    ReleaseDeployLock: releaseDeployLock,
    RecordDeployOutcome: recordDeployOutcome,
  },
  standaloneFunctions: {
    HandleDeploymentEvent: handleDeploymentEvent,
    FinalizeInterruptedDeploy: finalizeInterruptedDeploy,
    JudgeDeploymentHook: judgeDeploymentHook,
    DecideReleaseApproval: decideReleaseApproval,
  },
  rules: [
    {
      id: 'EcsDeploymentEvents',
      description: "ECS deployment outcomes for the fleet's services complete waiting deploy steps",
      pattern: ecsDeploymentEventPattern,
      target: 'HandleDeploymentEvent',
    },
    {
      id: 'DeployExecutionEnds',
      description: 'Deploy executions stopped from outside are recorded FAILED and their locks released',
      pattern: deployExecutionEndPattern,
      target: 'FinalizeInterruptedDeploy',
    },
  ],
} as const satisfies WorkflowSpec;
