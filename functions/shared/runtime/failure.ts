/** The `{Error, Cause}` object a Catch puts in the state, in words. */
export interface StepFailure {
  readonly Error: string;
  readonly Cause?: string | undefined;
}

/**
 * The cause's message. Step Functions puts a Lambda error's whole payload
 * (errorType, errorMessage, trace) in Cause as JSON; people need the message.
 */
export function failureMessage(failure: StepFailure): string {
  const cause = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: a plain cause (an ECS reason, States.Timeout, a SendTaskFailure cause).
  }
  return cause;
}

/** `Error: message`, or just the error name when there is no cause. */
export function describeFailure(failure: StepFailure): string {
  const message = failureMessage(failure);
  return message && message !== failure.Error ? `${failure.Error}: ${message}` : failure.Error;
}
