/**
 * An error a simulated AWS service returns. The SDK transport turns it into the
 * SDK's own exception class for that name, so handlers see exactly what AWS sends.
 */
export class SimulatedAwsError extends Error {
  constructor(
    /** The AWS error code, e.g. `ServiceNotFoundException`. */
    readonly code: string,
    message: string,
    readonly httpStatusCode = 400,
    readonly fault: 'client' | 'server' = httpStatusCode >= 500 ? 'server' : 'client',
    /** Members of the error beyond its message, as the service returns them (e.g. `CancellationReasons`). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export const throttlingError = (service: string, operation: string): SimulatedAwsError =>
  new SimulatedAwsError('ThrottlingException', `Rate exceeded (${service}.${operation})`, 400);
