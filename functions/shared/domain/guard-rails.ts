/**
 * Guard rails on automatic actions, as conditional writes to the control-state
 * table so that concurrent routers cannot both pass: a per-service cooldown, a
 * fleet-wide hourly budget, and "at most once" claims.
 *
 * A page window per alarm keeps a flapping alarm from paging more than once
 * per window; the pages it holds back are counted on the same item.
 *
 * A claim can be released: when the action it guards fails to start (a
 * throttled StartExecution), the claims are given back before the error
 * propagates, so EventBridge's retry of the same event is not refused by the
 * very claims its first attempt took.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { HandlerDeps } from '../runtime/handler';

type StateDeps = Pick<HandlerDeps<'dynamodb'>, 'clients' | 'config'>;

/** A claim that was granted; `release` undoes it. */
export interface Claim {
  readonly key: string;
  release(): Promise<void>;
}

const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

/** Whether a conditional write happened: false when its condition failed. */
async function written(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

const claimed = async (write: Promise<unknown>, claim: Claim): Promise<Claim | undefined> => ((await written(write)) ? claim : undefined);

function deletingClaim(deps: StateDeps, pk: string, claimId: string): Claim {
  return {
    key: pk,
    release: async () => {
      await written(
        deps.clients.dynamodb.send(
          new DeleteItemCommand({
            TableName: deps.config.stateTableName,
            Key: marshall({ pk }),
            // Only this claim: never a later one taken after it expired.
            ConditionExpression: 'claimId = :claimId',
            ExpressionAttributeValues: marshall({ ':claimId': claimId }),
          }),
        ),
      );
    },
  };
}

/** Claims `key` until `untilMs` for `claimId`; undefined while an earlier claim still holds. */
export function claimCooldown(
  deps: StateDeps,
  key: string,
  untilMs: number,
  claimId: string,
  details: Record<string, unknown> = {},
): Promise<Claim | undefined> {
  const pk = `cooldown#${key}`;
  return claimed(
    deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({ pk, ...details, claimId, until: new Date(untilMs).toISOString(), expiresAt: epochSeconds(untilMs) }),
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: marshall({ ':now': epochSeconds(Date.now()) }),
      }),
    ),
    deletingClaim(deps, pk, claimId),
  );
}

/** Claims `key` once and for all (kept for `retainDays`); undefined if it was claimed before. */
export function claimOnce(deps: StateDeps, key: string, claimId: string, details: Record<string, unknown> = {}, retainDays = 30): Promise<Claim | undefined> {
  const pk = `once#${key}`;
  return claimed(
    deps.clients.dynamodb.send(
      new PutItemCommand({
        TableName: deps.config.stateTableName,
        Item: marshall({ pk, ...details, claimId, at: new Date().toISOString(), expiresAt: epochSeconds(Date.now()) + retainDays * 86_400 }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
    deletingClaim(deps, pk, claimId),
  );
}

/** Takes one unit of the hourly budget of automatic actions; undefined when the hour's budget is spent. */
export async function claimHourlyBudget(deps: StateDeps, maxPerHour: number): Promise<Claim | undefined> {
  // A budget of 0 means no automatic action at all; the condition below would grant an hour's first unit.
  if (maxPerHour <= 0) return undefined;
  const pk = `budget#${new Date().toISOString().slice(0, 13)}`;
  return claimed(
    deps.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: deps.config.stateTableName,
        Key: marshall({ pk }),
        UpdateExpression: 'ADD used :one SET expiresAt = :expires',
        ConditionExpression: 'attribute_not_exists(used) OR used < :max',
        ExpressionAttributeValues: marshall({ ':one': 1, ':max': maxPerHour, ':expires': epochSeconds(Date.now()) + 3 * 3600 }),
      }),
    ),
    {
      key: pk,
      release: async () => {
        await deps.clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.config.stateTableName,
            Key: marshall({ pk }),
            UpdateExpression: 'ADD used :minusOne',
            ConditionExpression: 'used > :zero',
            ExpressionAttributeValues: marshall({ ':minusOne': -1, ':zero': 0 }),
          }),
        );
      },
    },
  );
}

/**
 * An alarm's page window. With a claim, the window was closed and is now open: the page
 * goes out, and `heldBack` counts what the previous window (paged at `since`) held back.
 * Without one, the window paged at `since` is open: the page is held back, the `heldBack`-th.
 */
export interface PageWindow {
  readonly claim?: Claim;
  readonly heldBack: number;
  readonly since: string;
}

/**
 * Opens `key`'s page window for `windowMs`, or counts a held-back page in the open one:
 * one conditional write decides, so concurrent routers cannot both page. A window of 0
 * always opens and stores nothing. Giving the claim back restores the previous window.
 */
export async function claimPageWindow(deps: StateDeps, key: string, windowMs: number, claimId: string): Promise<PageWindow> {
  const pk = `page-window#${key}`;
  const TableName = deps.config.stateTableName;
  if (windowMs <= 0) return { claim: { key: pk, release: async () => undefined }, heldBack: 0, since: '' };
  // A window that ends between the two writes is opened on the next try.
  for (let attempt = 0; ; attempt += 1) {
    const now = Date.now();
    try {
      const { Attributes } = await deps.clients.dynamodb.send(
        new PutItemCommand({
          TableName,
          // Kept a week past the window, so that a later page still counts what this one held back.
          Item: marshall({
            pk,
            claimId,
            pagedAt: new Date(now).toISOString(),
            windowEndsMs: now + windowMs,
            suppressed: 0,
            expiresAt: epochSeconds(now) + 7 * 86_400,
          }),
          ConditionExpression: 'attribute_not_exists(pk) OR windowEndsMs <= :now',
          ExpressionAttributeValues: marshall({ ':now': now }),
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = Attributes && unmarshall(Attributes);
      const restore = new PutItemCommand({
        TableName,
        Item: Attributes,
        ConditionExpression: 'claimId = :claimId',
        ExpressionAttributeValues: marshall({ ':claimId': claimId }),
      });
      const claim: Claim = previous
        ? { key: pk, release: async () => void (await written(deps.clients.dynamodb.send(restore))) }
        : deletingClaim(deps, pk, claimId);
      return { claim, heldBack: Number(previous?.suppressed ?? 0), since: String(previous?.pagedAt ?? '') };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      // Not given back: a retried event whose record failed may count one page twice.
      const { Attributes } = await deps.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: marshall({ pk }),
          UpdateExpression: 'ADD suppressed :one',
          ConditionExpression: 'windowEndsMs > :now',
          ExpressionAttributeValues: marshall({ ':now': now, ':one': 1 }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const open = unmarshall(Attributes ?? {});
      return { heldBack: Number(open.suppressed), since: String(open.pagedAt) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || attempt > 1) throw error;
    }
  }
}

/**
 * Runs `action` holding `claims`; if it throws, releases them (best effort,
 * each failure reported to `onReleaseFailure`) and rethrows the original error.
 */
export async function holdingClaims<T>(
  claims: readonly Claim[],
  action: () => Promise<T>,
  onReleaseFailure: (claim: Claim, error: unknown) => void,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    await releaseClaims(claims, onReleaseFailure);
    throw error;
  }
}

/** Gives back claims, newest first, each failure reported to `onReleaseFailure` (the claim then expires on its own). */
export async function releaseClaims(claims: readonly Claim[], onReleaseFailure: (claim: Claim, error: unknown) => void): Promise<void> {
  for (const claim of [...claims].reverse()) {
    try {
      await claim.release();
    } catch (releaseError) {
      onReleaseFailure(claim, releaseError);
    }
  }
}
