/**
 * The release workflow as data: its ASL file, the functions its placeholders
 * name, the deploy and rollback state machines it runs (nested, `.sync:2`),
 * and the rule that turns an ECR push into a release.
 */
import { advanceRelease } from '../../functions/advance-release/core';
import { checkReleaseIsNewest } from '../../functions/check-release-is-newest/core';
import { finalizeInterruptedRelease } from '../../functions/finalize-interrupted-release/core';
import { planRelease } from '../../functions/plan-release/core';
import { planReleaseRollback } from '../../functions/plan-release-rollback/core';
import { proveReleaseConsistency } from '../../functions/prove-release-consistency/core';
import { recordReleaseOutcome } from '../../functions/record-release-outcome/core';
import { startReleaseFromPush } from '../../functions/start-release-from-push/core';
import { ecrPushEventPattern, pushTriggeredServices, releaseExecutionEndPattern } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import type { WorkflowSpec } from './workflow-spec';

export const releaseWorkflow = {
  kind: 'workflow',
  name: 'release',
  aslFile: 'release.asl.json',
  substitutions: (config) => ({ DeployStateMachineArn: config.stateMachineArns.deploy, RollbackStateMachineArn: config.stateMachineArns.rollback }),
  functions: {
    PlanRelease: planRelease,
    CheckReleaseIsNewest: checkReleaseIsNewest,
    AdvanceRelease: advanceRelease,
    PlanReleaseRollback: planReleaseRollback,
    ProveReleaseConsistency: proveReleaseConsistency,
    RecordReleaseOutcome: recordReleaseOutcome,
  },
  standaloneFunctions: {
    StartReleaseFromPush: startReleaseFromPush,
    FinalizeInterruptedRelease: finalizeInterruptedRelease,
  },
  rules: [
    {
      id: 'EcrPushEvents',
      description: 'A push to the repository of a service released by push starts a release of the pushed digest',
      pattern: ecrPushEventPattern,
      target: 'StartReleaseFromPush',
      appliesTo: (fleet: Fleet) => pushTriggeredServices(fleet).length > 0,
    },
    {
      id: 'ReleaseExecutionEnds',
      description: 'Release executions stopped from outside or timed out are recorded FAILED and paged',
      pattern: releaseExecutionEndPattern,
      target: 'FinalizeInterruptedRelease',
    },
  ],
} as const satisfies WorkflowSpec;
