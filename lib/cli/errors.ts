/** Requests the CLI refuses before any workflow runs; runCli reports them as invalid (exit 2). */

export class UnknownServiceError extends Error {
  override readonly name = 'UnknownServiceError';
  constructor(service: string, known: readonly string[]) {
    super(`service: ${service} is not in the fleet (known: ${known.join(', ')})`);
  }
}

/** An event file `sandbox emit` cannot read or that is not an EventBridge event. */
export class EventFileError extends Error {
  override readonly name = 'EventFileError';
}
