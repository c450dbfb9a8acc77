/**
 * What ECS needs of Elastic Load Balancing and Lambda to run blue/green, canary
 * and linear deployments: listener rules whose forward weights it changes (with
 * the advancedConfiguration role, which the sandbox does not check for ECS
 * itself), the target groups it registers tasks in, and a way to invoke a
 * lifecycle hook's function as the hook's role.
 */

export interface WeightedTargetGroup {
  readonly targetGroupArn: string;
  readonly weight: number;
}

export interface EcsLoadBalancing {
  /** Replaces the rule's forward action with these target groups and weights; false when there is no such rule. */
  forward(ruleArn: string, targetGroups: readonly WeightedTargetGroup[]): boolean;
  /** The rule's forward target groups and weights (undefined when there is no such rule). */
  weights(ruleArn: string): readonly WeightedTargetGroup[] | undefined;
  hasTargetGroup(targetGroupArn: string): boolean;
  hasRule(ruleArn: string): boolean;
  /** The rules and weights as plain data (saved with ECS's snapshot) and back. */
  snapshot(): unknown;
  restore(snapshot: unknown): void;
}

/** Invokes a lifecycle hook's function (RequestResponse) as the hook's role; rejects when the call or the function fails. */
export type HookInvoker = (hook: { readonly hookTargetArn: string; readonly roleArn: string }, payload: LifecycleHookPayload) => Promise<unknown>;

/** What ECS sends a lifecycle hook's Lambda function (developer guide, "Lifecycle hooks for Amazon ECS service deployments"). */
export interface LifecycleHookPayload {
  readonly executionDetails: {
    readonly serviceArn: string;
    readonly targetServiceRevisionArn: string;
    readonly testTrafficWeights: Record<string, number>;
    readonly productionTrafficWeights: Record<string, number>;
  };
  readonly executionId: string;
  readonly lifecycleStage: string;
  readonly resourceArn: string;
  readonly hookDetails?: unknown;
}

/** A hook's answer, as ECS reads it: anything but SUCCEEDED, FAILED or IN_PROGRESS (or an error) is a failure. */
export type HookAnswer =
  | { readonly status: 'SUCCEEDED' }
  | { readonly status: 'IN_PROGRESS'; readonly callBackDelaySeconds: number; readonly hookDetails?: unknown }
  | { readonly status: 'FAILED'; readonly reason: string };

/** The default wait before ECS invokes a hook again after IN_PROGRESS. */
export const DEFAULT_CALLBACK_DELAY_SECONDS = 30;

export function readHookAnswer(result: unknown): HookAnswer {
  const answer = typeof result === 'object' && result !== null ? (result as Record<string, unknown>) : {};
  const status = answer.hookStatus;
  if (status === 'SUCCEEDED') return { status };
  if (status === 'FAILED') return { status, reason: 'the hook returned hookStatus FAILED' };
  if (status === 'IN_PROGRESS') {
    const delay = answer.callBackDelay;
    const seconds = typeof delay === 'number' && Number.isFinite(delay) && delay >= 0 ? delay : DEFAULT_CALLBACK_DELAY_SECONDS;
    return { status, callBackDelaySeconds: seconds, ...(answer.hookDetails === undefined ? {} : { hookDetails: answer.hookDetails }) };
  }
  return {
    status: 'FAILED',
    reason: status === undefined ? 'the hook returned no hookStatus' : `the hook returned an invalid hookStatus ${JSON.stringify(status)}`,
  };
}
