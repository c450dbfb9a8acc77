/**
 * Task-token callbacks, race-free. A waiting state stores its token and an event
 * stores its outcome on the same DynamoDB item, each with one atomic update that
 * returns the whole item: whichever write comes second sees both and delivers.
 * (Both may deliver; the second SendTask* then meets a closed task: TaskTimedOut.)
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { HandlerDeps } from '../runtime/handler';

/** How an ECS deployment ended, as the deployment event handler and the outcome wait store it. */
export const deploymentOutcomeSchema = z.object({
  deploymentId: z.string(),
  status: z.enum(['COMPLETED', 'FAILED']),
  reason: z.string(),
  at: z.string(),
});
export type DeploymentOutcome = z.output<typeof deploymentOutcomeSchema>;

type CallbackDeps = Pick<HandlerDeps<'dynamodb' | 'sfn'>, 'clients' | 'config' | 'logger'>;

/** Callback items outlive any wait they serve by this much, then DynamoDB TTL removes them. */
const CALLBACK_RETENTION_SECONDS = 7 * 24 * 3600;

export const deploymentWaitKey = (deploymentId: string): string => `deployment#${deploymentId}`;
export const soakWaitKey = (service: string): string => `soak#${service}`;

export interface CallbackItem {
  readonly pk: string;
  readonly taskToken?: string;
  readonly outcome?: DeploymentOutcome;
  readonly [key: string]: unknown;
}

async function updateCallbackItem(deps: CallbackDeps, key: string, values: Record<string, unknown>): Promise<CallbackItem> {
  const names: Record<string, string> = {};
  const assignments = Object.keys(values).map((field, index) => {
    names[`#f${index}`] = field;
    return `#f${index} = :v${index}`;
  });
  const result = await deps.clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: deps.config.callbackTableName,
      Key: marshall({ pk: key }),
      UpdateExpression: `SET ${assignments.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(Object.fromEntries(Object.values(values).map((v, i) => [`:v${i}`, v])), {
        removeUndefinedValues: true,
      }),
      ReturnValues: 'ALL_NEW',
    }),
  );
  return unmarshall(result.Attributes ?? {}) as CallbackItem;
}

/** Stores a waiting state's task token; returns the item, with an outcome if one arrived first. */
export async function storeTaskToken(deps: CallbackDeps, key: string, taskToken: string, details: Record<string, unknown>): Promise<CallbackItem> {
  return updateCallbackItem(deps, key, { ...details, taskToken, expiresAt: Math.floor(Date.now() / 1000) + CALLBACK_RETENTION_SECONDS });
}

/**
 * Stores a deployment's latest outcome; returns the item, with a token if a state is waiting.
 * A deployment id can finish more than once: an ECS rollback re-promotes the earlier
 * COMPLETED deployment (same id) to IN_PROGRESS and completes it again.
 */
export async function storeDeploymentOutcome(deps: CallbackDeps, outcome: DeploymentOutcome): Promise<CallbackItem> {
  const item = await updateCallbackItem(deps, deploymentWaitKey(outcome.deploymentId), {
    outcome,
    expiresAt: Math.floor(Date.now() / 1000) + CALLBACK_RETENTION_SECONDS,
  });
  return { ...item, outcome: deploymentOutcomeSchema.parse(item.outcome) };
}

/**
 * Stores a deployment's outcome only where a deploy of `service` waits for that
 * deployment id (its token is on the item); undefined, and nothing written, when
 * none does: an event for a deployment nobody awaits changes nothing.
 */
export async function storeAwaitedDeploymentOutcome(deps: CallbackDeps, service: string, outcome: DeploymentOutcome): Promise<CallbackItem | undefined> {
  try {
    const result = await deps.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: deps.config.callbackTableName,
        Key: marshall({ pk: deploymentWaitKey(outcome.deploymentId) }),
        UpdateExpression: 'SET #outcome = :outcome',
        ConditionExpression: 'attribute_exists(#taskToken) AND #service = :service',
        ExpressionAttributeNames: { '#outcome': 'outcome', '#taskToken': 'taskToken', '#service': 'service' },
        ExpressionAttributeValues: marshall({ ':outcome': outcome, ':service': service }, { removeUndefinedValues: true }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = unmarshall(result.Attributes ?? {}) as CallbackItem;
    return { ...item, outcome: deploymentOutcomeSchema.parse(item.outcome) };
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
}

/** The outcome the waiting state asked for: one that happened at or after the wait's `notBefore`. */
export function outcomeForWait(item: CallbackItem): DeploymentOutcome | undefined {
  const notBefore = typeof item.notBefore === 'string' ? Date.parse(item.notBefore) : 0;
  return item.outcome && Date.parse(item.outcome.at) >= notBefore ? item.outcome : undefined;
}

export type Delivery = 'delivered' | 'task-already-closed';

/** Completes or fails a waiting task. A token whose task has closed is reported, not thrown. */
export async function completeTask(
  deps: CallbackDeps,
  taskToken: string,
  result: { readonly output: unknown } | { readonly error: string; readonly cause: string },
): Promise<Delivery> {
  try {
    if ('output' in result) {
      await deps.clients.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result.output) }));
    } else {
      await deps.clients.sfn.send(new SendTaskFailureCommand({ taskToken, error: result.error, cause: result.cause.slice(0, 32_768) }));
    }
    return 'delivered';
  } catch (error) {
    // TaskTimedOut: the task already closed (timed out, or another delivery won the race).
    if ((error as Error).name === 'TaskTimedOut') {
      deps.logger.info('Task already closed; nothing to deliver', { reason: (error as Error).message });
      return 'task-already-closed';
    }
    throw error;
  }
}

export async function deliverDeploymentOutcome(deps: CallbackDeps, taskToken: string, outcome: DeploymentOutcome): Promise<Delivery> {
  return completeTask(
    deps,
    taskToken,
    outcome.status === 'COMPLETED'
      ? { output: outcome }
      : { error: 'DeploymentFailedError', cause: `Deployment ${outcome.deploymentId} failed: ${outcome.reason}` },
  );
}
