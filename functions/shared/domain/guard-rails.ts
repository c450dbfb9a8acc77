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

async function claimed(write: Promise<unknown>, claim: Claim): Promise<Claim | undefined> {
  try {
    await write;
    return claim;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

function deletingClaim(deps: StateDeps, pk: string, claimId: string): Claim {
  return {
    key: pk,
    release: async () => {
      try {
        await deps.clients.dynamodb.send(
          new DeleteItemCommand({
            TableName: deps.config.stateTableName,
            Key: marshall({ pk }),
            // Only this claim: never a later one taken after it expired.
            ConditionExpression: 'claimId = :claimId',
            ExpressionAttributeValues: marshall({ ':claimId': claimId }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
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

/** The pages an alarm held back since its last page. */
export interface HeldBackPages {
  readonly count: number;
  /** When the last page went out (ISO time). */
  readonly since: string;
}

/** An open window: this page goes out (`heldBack`: what the previous window held back). A closed one: held back, counted. */
export type PageWindow =
  | { readonly open: true; readonly claim: Claim; readonly heldBack?: HeldBackPages }
  | { readonly open: false; readonly claim: Claim; readonly heldBack: HeldBackPages };

interface PageWindowItem {
  readonly pk: string;
  readonly claimId: string;
  readonly pagedAt: string;
  readonly windowEndsMs: number;
  readonly suppressed: number;
  readonly expiresAt: number;
}

const noClaim = (key: string): Claim => ({ key, release: async () => undefined });

/**
 * Opens `key`'s page window for `windowMs` when none is open (the page goes out), or
 * counts a held-back page in the open one. One conditional write decides, so
 * concurrent routers cannot both page; a window of 0 always opens and stores nothing.
 */
export async function claimPageWindow(deps: StateDeps, key: string, windowMs: number, claimId: string): Promise<PageWindow> {
  const pk = `page-window#${key}`;
  if (windowMs <= 0) return { open: true, claim: noClaim(pk) };
  // A window that ends between the two writes below is claimed on the next try.
  for (let attempt = 0; ; attempt += 1) {
    const now = Date.now();
    const item: PageWindowItem = {
      pk,
      claimId,
      pagedAt: new Date(now).toISOString(),
      windowEndsMs: now + windowMs,
      suppressed: 0,
      // Kept a week past the window, so a later page can still count what this one held back.
      expiresAt: epochSeconds(now + windowMs) + 7 * 86_400,
    };
    try {
      const { Attributes } = await deps.clients.dynamodb.send(
        new PutItemCommand({
          TableName: deps.config.stateTableName,
          Item: marshall(item),
          ConditionExpression: 'attribute_not_exists(pk) OR windowEndsMs <= :now',
          ExpressionAttributeValues: marshall({ ':now': now }),
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = Attributes ? (unmarshall(Attributes) as PageWindowItem) : undefined;
      const heldBack = previous && previous.suppressed > 0 ? { count: previous.suppressed, since: previous.pagedAt } : undefined;
      return { open: true, claim: reopeningClaim(deps, pk, claimId, previous), ...(heldBack ? { heldBack } : {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      const { Attributes } = await deps.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: deps.config.stateTableName,
          Key: marshall({ pk }),
          UpdateExpression: 'ADD suppressed :one',
          ConditionExpression: 'windowEndsMs > :now',
          ExpressionAttributeValues: marshall({ ':one': 1, ':now': now }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      const open = unmarshall(Attributes ?? {}) as Partial<PageWindowItem>;
      return {
        open: false,
        claim: uncountingClaim(deps, pk, open.pagedAt ?? ''),
        heldBack: { count: open.suppressed ?? 1, since: open.pagedAt ?? new Date(now).toISOString() },
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || attempt >= 2) throw error;
    }
  }
}

/** Gives an opened window back: the previous window's item (and its count) as it was, or none. */
function reopeningClaim(deps: StateDeps, pk: string, claimId: string, previous: PageWindowItem | undefined): Claim {
  if (!previous) return deletingClaim(deps, pk, claimId);
  return {
    key: pk,
    release: async () => {
      try {
        await deps.clients.dynamodb.send(
          new PutItemCommand({
            TableName: deps.config.stateTableName,
            Item: marshall(previous),
            ConditionExpression: 'claimId = :claimId',
            ExpressionAttributeValues: marshall({ ':claimId': claimId }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}

/** Takes a held-back page out of its window's count again (never out of a later window's). */
function uncountingClaim(deps: StateDeps, pk: string, pagedAt: string): Claim {
  return {
    key: pk,
    release: async () => {
      try {
        await deps.clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.config.stateTableName,
            Key: marshall({ pk }),
            UpdateExpression: 'ADD suppressed :minusOne',
            ConditionExpression: 'suppressed > :zero AND pagedAt = :pagedAt',
            ExpressionAttributeValues: marshall({ ':minusOne': -1, ':zero': 0, ':pagedAt': pagedAt }),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
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
