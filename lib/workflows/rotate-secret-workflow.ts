/**
 * The rotate-secret workflow as data: its ASL file, the functions its
 * placeholders name, the rotation function Secrets Manager invokes, and the
 * rule that follows up a scheduled rotation. The CDK construct and the sandbox
 * both build from this.
 */
import { acquireDeployLock } from '../../functions/acquire-deploy-lock/core';
import { awaitDeploymentOutcome } from '../../functions/await-deployment-outcome/core';
import { checkRotationGuards } from '../../functions/check-rotation-guards/core';
import { confirmSecretRotation } from '../../functions/confirm-secret-rotation/core';
import { recordRotationOutcome } from '../../functions/record-rotation-outcome/core';
import { releaseDeployLock } from '../../functions/release-deploy-lock/core';
import { restartConsumerTasks } from '../../functions/restart-consumer-tasks/core';
import { restorePreviousSecretVersion } from '../../functions/restore-previous-secret-version/core';
import { rotateSecretValue } from '../../functions/rotate-secret-value/core';
import { runHealthGate } from '../../functions/run-health-gate/core';
import { startRotationFromEvent } from '../../functions/start-rotation-from-event/core';
import { startSecretRotation } from '../../functions/start-secret-rotation/core';
import { validateRotationRequest } from '../../functions/validate-rotation-request/core';
import { verifyConsumerTasks } from '../../functions/verify-consumer-tasks/core';
import type { EventPattern } from '../event-patterns';
import type { Fleet } from '../fleet/fleet';
import type { AccountContext } from '../naming';
import type { WorkflowSpec } from './workflow-spec';

/**
 * Secrets Manager's `RotationSucceeded` (a CloudTrail service event) for the
 * fleet's managed secrets. The event carries the secret's full ARN, whose
 * random suffix the fleet file does not know: matched by the ARN's prefix.
 */
export function rotationSucceededEventPattern(fleet: Fleet, context: AccountContext): EventPattern {
  return {
    source: ['aws.secretsmanager'],
    'detail-type': ['AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: ['RotationSucceeded'],
      additionalEventData: {
        SecretId: Object.values(fleet.secrets).map((s) => ({ prefix: `arn:aws:secretsmanager:${context.region}:${context.account}:secret:${s.name}-` })),
      },
    },
  };
}

export const rotateSecretWorkflow = {
  kind: 'workflow',
  name: 'rotate-secret',
  aslFile: 'rotate-secret.asl.json',
  functions: {
    ValidateRotationRequest: validateRotationRequest,
    CheckRotationGuards: checkRotationGuards,
    AcquireDeployLock: acquireDeployLock,
    StartSecretRotation: startSecretRotation,
    ConfirmSecretRotation: confirmSecretRotation,
    RestartConsumerTasks: restartConsumerTasks,
    AwaitDeploymentOutcome: awaitDeploymentOutcome,
    RunHealthGate: runHealthGate,
    VerifyConsumerTasks: verifyConsumerTasks,
    RestorePreviousSecretVersion: restorePreviousSecretVersion,
    ReleaseDeployLock: releaseDeployLock,
    RecordRotationOutcome: recordRotationOutcome,
  },
  standaloneFunctions: {
    /** Invoked by Secrets Manager (the managed secrets' rotation function), never by the state machine. */
    RotateSecretValue: rotateSecretValue,
    StartRotationFromEvent: startRotationFromEvent,
  },
  rules: [
    {
      id: 'RotationSucceededEvents',
      description: "A finished rotation of a managed secret redeploys the secret's consumers",
      pattern: rotationSucceededEventPattern,
      target: 'StartRotationFromEvent',
      appliesTo: (fleet: Fleet) => Object.keys(fleet.secrets).length > 0,
    },
  ],
} as const satisfies WorkflowSpec;
