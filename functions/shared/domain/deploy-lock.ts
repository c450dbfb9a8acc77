/**
 * The deploy lock: one deployment (a deploy, a rollback, a rotation's redeploys)
 * per service at a time. A DynamoDB lease in the lock table, keyed by service,
 * owned by an execution ARN. A lease that has run out can be taken over; the
 * same execution taking it again (a retried step) succeeds; only the owner
 * releases it, so a holder whose lease was taken over cannot free the new
 * owner's lock.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DeployLockHeldError } from '../runtime/errors';
import type { HandlerDeps } from '../runtime/handler';

type LockDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config'>;

const lockKey = (service: string): Record<string, { S: string }> => ({ pk: { S: `service#${service}` } });

/** The lock item as its readers see it. */
export interface DeployLock {
  /** The execution ARN holding the lock. */
  readonly owner: string;
  /** Epoch seconds; NaN when the item has none (such a lease is never live). */
  readonly leaseExpiresAt: number;
  readonly image?: string;
  readonly reason?: string;
  readonly requestedBy?: string;
}

export interface LockRequest {
  readonly service: string;
  /** The execution taking the lock. */
  readonly owner: string;
  readonly leaseSeconds: number;
  readonly reason: string;
  readonly requestedBy: string;
  readonly image?: string | undefined;
  /** A stopped execution whose lock this one may take over (a rollback that stopped a deploy). */
  readonly takeOverFrom?: string | null | undefined;
}

/**
 * Takes the lock for `request.owner`, or throws DeployLockHeldError naming the
 * holder (the refused write as its cause). Returns the lease's end, epoch seconds.
 */
export async function takeDeployLock(deps: LockDeps, request: LockRequest, now = new Date()): Promise<number> {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const leaseExpiresAt = nowSeconds + request.leaseSeconds;
  try {
    await deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.lockTableName,
        Item: {
          ...lockKey(request.service),
          ...marshall({
            owner: request.owner,
            ...(request.image ? { image: request.image } : {}),
            reason: request.reason,
            requestedBy: request.requestedBy,
            acquiredAt: now.toISOString(),
            leaseExpiresAt,
          }),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now OR #owner IN (:owner, :stopped)',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: marshall({ ':now': nowSeconds, ':owner': request.owner, ':stopped': request.takeOverFrom ?? request.owner }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const holder = await readDeployLock(deps, request.service);
    throw new DeployLockHeldError(
      holder
        ? `${request.service} is locked by ${holder.owner} (${holder.image ? `image ${holder.image}` : String(holder.reason)}, requested by ${String(holder.requestedBy)}, lease until ${leaseEnd(holder)})`
        : `${request.service} deploy lock is held by another execution`,
      { cause: error },
    );
  }
  return leaseExpiresAt;
}

/** The service's lock as it is now (a consistent read), or undefined when nobody holds it. */
export async function readDeployLock(deps: LockDeps, service: string): Promise<DeployLock | undefined> {
  const result = await deps.clients.dynamodb.send(new GetItemCommand({ TableName: deps.config.lockTableName, Key: lockKey(service), ConsistentRead: true }));
  const item = result.Item ? unmarshall(result.Item) : undefined;
  if (!item || typeof item.owner !== 'string') return undefined;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const image = text(item.image);
  const reason = text(item.reason);
  const requestedBy = text(item.requestedBy);
  return {
    owner: item.owner,
    leaseExpiresAt: Number(item.leaseExpiresAt),
    ...(image === undefined ? {} : { image }),
    ...(reason === undefined ? {} : { reason }),
    ...(requestedBy === undefined ? {} : { requestedBy }),
  };
}

/** Whether the lease still holds at `nowMs`: an expired lease can be taken over. */
export const isLeaseLive = (lock: DeployLock, nowMs: number): boolean => lock.leaseExpiresAt * 1000 > nowMs;

/** Releases the lock if `owner` still holds it; false when it was not theirs (released already, or taken over). */
export async function releaseOwnedLock(deps: LockDeps, service: string, owner: string): Promise<boolean> {
  try {
    await deps.clients.dynamodb.send(
      new DeleteItemCommand({
        TableName: deps.config.lockTableName,
        Key: lockKey(service),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: marshall({ ':owner': owner }),
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return false;
  }
}

function leaseEnd(lock: DeployLock): string {
  const at = new Date(lock.leaseExpiresAt * 1000);
  return Number.isNaN(at.getTime()) ? 'unknown' : at.toISOString();
}
