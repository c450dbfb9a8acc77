/**
 * Retriers the ASL files share, defined once and asked for by name: a Retry
 * entry `{ "RetryPolicy": "standard" }` stands for the retriers listed here
 * (see asl.ts, which expands it when an ASL file is read).
 */

/** One Step Functions retrier, as written in a state's Retry list. */
export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly BackoffRate?: number;
  readonly MaxAttempts?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

/**
 * What every Lambda step retries: AwsTransientError (throttling and 5xx from
 * the SDK, converted by a client middleware, since the clients make a single
 * attempt) and the Lambda service's own transient errors. Full jitter and a
 * delay cap keep a burst of failing steps from retrying in lockstep.
 */
export const STANDARD_RETRIERS: readonly Retrier[] = [
  {
    ErrorEquals: [
      'AwsTransientError',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
      'Lambda.Unknown',
    ],
    IntervalSeconds: 1,
    BackoffRate: 2,
    MaxAttempts: 5,
    MaxDelaySeconds: 20,
    JitterStrategy: 'FULL',
  },
];

/** The key of a Retry entry that names a policy instead of spelling out retriers. */
export const RETRY_POLICY_KEY = 'RetryPolicy';

/** Policies an ASL file may name, by the name it uses. */
export const RETRY_POLICIES: Readonly<Record<string, readonly Retrier[]>> = {
  standard: STANDARD_RETRIERS,
};
