/**
 * Named errors. A Lambda error's `name` becomes the Step Functions error name,
 * so the ASL Retry/Catch blocks match these exact strings: keep them stable.
 * Each takes Error's `(message, { cause })`: a named error thrown for a caught
 * one keeps it as its cause, for whoever debugs (Step Functions sees only the
 * name and the message).
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
    options?: ErrorOptions,
  ) {
    super(`${operation} failed transiently (${causeName}): ${message}`, options);
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

/*
 * Secret rotation. Messages name the secret, the version and the reason, never a
 * secret value: a rotation function's errors reach CloudWatch Logs and CloudTrail.
 */

/** Secrets Manager invoked the rotation function for a secret whose rotation is not enabled. */
export class RotationNotEnabledError extends AssureError {
  override readonly name = 'RotationNotEnabledError';
}

/** The ClientRequestToken is not a version of the secret, or that version is not staged AWSPENDING. */
export class UnknownRotationTokenError extends AssureError {
  override readonly name = 'UnknownRotationTokenError';
}

/** The secret is not one the fleet file manages, so Assure does not know how to make its next value. */
export class UnmanagedSecretError extends AssureError {
  override readonly name = 'UnmanagedSecretError';
}

/** The secret's versions are not in the shape rotation needs (no AWSCURRENT value, no pending value). */
export class SecretVersionStateError extends AssureError {
  override readonly name = 'SecretVersionStateError';
}

/** The pending value does not meet its kind's policy (length, alphabet, encoding), or repeats the current one. */
export class SecretValuePolicyError extends AssureError {
  override readonly name = 'SecretValuePolicyError';
}

/** The downstream system refused a credential (the message names the HTTP status, never the credential). */
export class CredentialRejectedError extends AssureError {
  override readonly name = 'CredentialRejectedError';
}

/** The downstream credential API could not be reached (timeout, connection refused). */
export class CredentialProviderUnavailableError extends AssureError {
  override readonly name = 'CredentialProviderUnavailableError';
}

/** A scale request is malformed, or names a service or schedule the fleet does not scale. */
export class InvalidScaleRequestError extends AssureError {
  override readonly name = 'InvalidScaleRequestError';
}

/** A rotate-secret request is malformed, names no managed secret, or names a version that is not (or no longer) current. */
export class InvalidRotationRequestError extends AssureError {
  override readonly name = 'InvalidRotationRequestError';
}

/** The fleet file's consumers of a secret and the task definitions that reference it disagree in a way that makes rotating unsafe. */
export class SecretConsumersMismatchError extends AssureError {
  override readonly name = 'SecretConsumersMismatchError';
}

/** The rotation function has not finished yet: the new version is still AWSPENDING (retried by the state machine). */
export class SecretRotationPendingError extends AssureError {
  override readonly name = 'SecretRotationPendingError';
}

/** The rotation did not make the new version AWSCURRENT. */
export class SecretRotationFailedError extends AssureError {
  override readonly name = 'SecretRotationFailedError';
}

/** Running tasks of a consumer started before the secret version they should hold became current. */
export class StaleSecretTasksError extends AssureError {
  override readonly name = 'StaleSecretTasksError';
}

/** The previous secret version could not be made AWSCURRENT again (someone else changed the secret). */
export class SecretRestoreError extends AssureError {
  override readonly name = 'SecretRestoreError';
}

/** A release request is malformed, names something the fleet does not have, or cannot run (halted, window too far). */
export class InvalidReleaseRequestError extends AssureError {
  override readonly name = 'InvalidReleaseRequestError';
}

/** A released service has a running task that does not run the released digest: the release is not SUCCEEDED. */
export class ReleaseInconsistentError extends AssureError {
  override readonly name = 'ReleaseInconsistentError';
}

/** Other writers kept taking the next seq of a subject's audit chain: the record was not written. */
export class AuditChainContentionError extends AssureError {
  override readonly name = 'AuditChainContentionError';
}

/**
 * The audit table's stream carried an update or a deletion of an audit record: the records are written once,
 * so something rewrote history. The evidence is archived first; the error fails the batch so its dead-letter queue pages.
 */
export class AuditRecordTamperedError extends AssureError {
  override readonly name = 'AuditRecordTamperedError';
}
