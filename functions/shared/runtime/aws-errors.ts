import type { MetadataBearer } from '@smithy/types';

/** Error names AWS uses for throttling and transient faults across services. */
const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'LimitExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServiceError',
  'InternalServerException',
  'ServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_ERROR_NAMES.has(error.name)) return true;
  const metadata = (error as Partial<MetadataBearer> & { $retryable?: unknown }).$metadata;
  const status = metadata?.httpStatusCode;
  return (error as { $retryable?: unknown }).$retryable !== undefined || status === 429 || (status !== undefined && status >= 500);
}
