/**
 * Named errors. A Lambda error's `name` becomes the Step Functions error name,
 * so the ASL Retry/Catch blocks match these exact strings: keep them stable.
 */

export abstract class AssureError extends Error {
  abstract override readonly name: string;
}

/** The input does not match the handler's schema; the message names each field and the reason. */
export class InvalidInputError extends AssureError {
  override readonly name = 'InvalidInputError';
}

/** A deploy request is malformed or names something the fleet does not have. */
export class InvalidDeployRequestError extends AssureError {
  override readonly name = 'InvalidDeployRequestError';
}

/** Another execution holds the service's deploy lock. */
export class DeployLockHeldError extends AssureError {
  override readonly name = 'DeployLockHeldError';
}

/** Trading is halted: no deploys until it is resumed. */
export class TradingHaltedError extends AssureError {
  override readonly name = 'TradingHaltedError';
}

/** The fleet's deploy windows are all closed now. */
export class DeployWindowClosedError extends AssureError {
  override readonly name = 'DeployWindowClosedError';
}

/** The service already has a rollout that Assure did not start. */
export class DeploymentInProgressError extends AssureError {
  override readonly name = 'DeploymentInProgressError';
}

/** ECS reported the rollout FAILED (circuit breaker or deployment alarm). */
export class DeploymentFailedError extends AssureError {
  override readonly name = 'DeploymentFailedError';
}

/** The deep health gate found the service unhealthy; the message lists the failed checks. */
export class HealthGateFailedError extends AssureError {
  override readonly name = 'HealthGateFailedError';
}

/** One of the service's rollback alarms went into ALARM. */
export class RollbackAlarmFiredError extends AssureError {
  override readonly name = 'RollbackAlarmFiredError';
}

/** The service could not be returned to a known-good revision. */
export class RollbackFailedError extends AssureError {
  override readonly name = 'RollbackFailedError';
}

/** The ECS service or its task definition is not in the shape Assure needs. */
export class ServiceStateError extends AssureError {
  override readonly name = 'ServiceStateError';
}

/**
 * An AWS call failed in a way that is worth retrying (throttling, 5xx, timeouts).
 * Retrying happens in one layer only: the state machine's Retry on this name.
 */
export class AwsTransientError extends AssureError {
  override readonly name = 'AwsTransientError';
  constructor(
    readonly operation: string,
    readonly causeName: string,
    message: string,
  ) {
    super(`${operation} failed transiently (${causeName}): ${message}`);
  }
}

/** A rollback that must not run: outside the rollback window, no earlier revision, or an unknown revision. */
export class RollbackRefusedError extends AssureError {
  override readonly name = 'RollbackRefusedError';
}

/** A rollback request is malformed or names something the fleet does not have. */
export class InvalidRollbackRequestError extends AssureError {
  override readonly name = 'InvalidRollbackRequestError';
}

/** A halt request is malformed. */
export class InvalidHaltRequestError extends AssureError {
  override readonly name = 'InvalidHaltRequestError';
}

/** A resume request is malformed, or there is no halt to resume from. */
export class InvalidResumeRequestError extends AssureError {
  override readonly name = 'InvalidResumeRequestError';
}

/** The fleet is not ready to resume trading: the message lists why. */
export class ResumeNotReadyError extends AssureError {
  override readonly name = 'ResumeNotReadyError';
}

/** This person may not decide this approval (the requester, or not an approver). */
export class ApprovalRefusedError extends AssureError {
  override readonly name = 'ApprovalRefusedError';
}
