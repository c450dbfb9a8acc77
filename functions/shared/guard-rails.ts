/**
 * Guard rails on automatic actions, as conditional writes to the control-state
 * table so that concurrent routers cannot both pass: a per-service cooldown, a
 * fleet-wide hourly budget, and "at most once" claims.
 */
import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { HandlerDeps } from './handler';

type StateDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config'>;

const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

async function claimed(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Claims `key` until `untilMs`; false while an earlier claim still holds. */
export function claimCooldown(deps: StateDeps, key: string, untilMs: number, details: Record<string, unknown> = {}): Promise<boolean> {
  return claimed(
    deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({ pk: `cooldown#${key}`, ...details, until: new Date(untilMs).toISOString(), expiresAt: epochSeconds(untilMs) }),
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: marshall({ ':now': epochSeconds(Date.now()) }),
      }),
    ),
  );
}

/** Claims `key` once and for all (kept for `retainDays`); false if it was claimed before. */
export function claimOnce(deps: StateDeps, key: string, details: Record<string, unknown> = {}, retainDays = 30): Promise<boolean> {
  return claimed(
    deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({ pk: `once#${key}`, ...details, at: new Date().toISOString(), expiresAt: epochSeconds(Date.now()) + retainDays * 86_400 }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
}

/** Takes one unit of the hourly budget of automatic actions; false when the hour's budget is spent. */
export function claimHourlyBudget(deps: StateDeps, maxPerHour: number): Promise<boolean> {
  const hour = new Date().toISOString().slice(0, 13);
  return claimed(
    deps.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: deps.config.stateTableName,
        Key: marshall({ pk: `budget#${hour}` }),
        UpdateExpression: 'ADD used :one SET expiresAt = :expires',
        ConditionExpression: 'attribute_not_exists(used) OR used < :max',
        ExpressionAttributeValues: marshall({ ':one': 1, ':max': maxPerHour, ':expires': epochSeconds(Date.now()) + 3 * 3600 }),
      }),
    ),
  );
}
