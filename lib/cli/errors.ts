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

/** A release id the state table has no record of (`release#<id>`). */
export class UnknownReleaseError extends Error {
  override readonly name = 'UnknownReleaseError';
  constructor(releaseId: string) {
    super(`release: ${releaseId} is not a release of this fleet (assure release status lists them)`);
  }
}
