import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  DynamoDBServiceException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsTransientError } from '../../../functions/shared/runtime/errors';
import { type Claim, claimCooldown, claimHourlyBudget, claimOnce, claimPageWindow, holdingClaims } from '../../../functions/shared/domain/guard-rails';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { SimulatedStateTable } from './simulated-state-table';

const NOW = new Date('2025-07-05T12:20:30.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const CLAIM_ID = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
});

afterEach(() => {
  vi.useRealTimers();
});

const conditionFailed = (): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
const throttled = (): DynamoDBServiceException =>
  new DynamoDBServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
const transient = (): AwsTransientError => new AwsTransientError('DynamoDB.PutItem', 'ThrottlingException', 'Rate exceeded');

/** Another error that merely carries the name: only the SDK's class means "condition failed". */
const lookalike = (): Error => Object.assign(new Error('not from DynamoDB'), { name: 'ConditionalCheckFailedException' });

describe('claimCooldown', () => {
  it('puts cooldown#<key> with the details, the claim id and the end of the cooldown, unless an unexpired claim holds it', async () => {
    ddb.on(PutItemCommand).resolves({});
    const until = NOW.getTime() + 15 * 60_000;

    const claim = await claimCooldown(deps, 'rollback#order-gateway', until, CLAIM_ID, { alarm: 'prod-order-gateway-error-rate' });

    expect(claim?.key).toBe('cooldown#rollback#order-gateway');
    expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).toEqual({
      TableName: testConfig.stateTableName,
      Item: marshall({
        pk: 'cooldown#rollback#order-gateway',
        alarm: 'prod-order-gateway-error-rate',
        claimId: CLAIM_ID,
        until: '2025-07-05T12:35:30.000Z',
        expiresAt: NOW_SECONDS + 900,
      }),
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
      ExpressionAttributeValues: marshall({ ':now': NOW_SECONDS }),
    });
  });

  it('writes whole epoch seconds for expiresAt and :now', async () => {
    vi.setSystemTime(new Date('2025-07-05T12:20:30.999Z'));
    ddb.on(PutItemCommand).resolves({});

    await claimCooldown(deps, 'k', Date.parse('2025-07-05T12:21:00.750Z'), CLAIM_ID);

    const input = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.Item?.expiresAt).toEqual({ N: String(Date.parse('2025-07-05T12:21:00Z') / 1000) });
    expect(input?.ExpressionAttributeValues).toEqual({ ':now': { N: String(NOW_SECONDS) } });
  });

  it('answers undefined when the condition fails (an earlier claim still holds)', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());

    await expect(claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, CLAIM_ID)).resolves.toBeUndefined();
  });

  it.each([
    ['a throttled write', throttled],
    ['a transient error', transient],
    ['an error merely named ConditionalCheckFailedException', lookalike],
  ])('rethrows %s', async (_label, error) => {
    const thrown = error();
    ddb.on(PutItemCommand).rejects(thrown);

    await expect(claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, CLAIM_ID)).rejects.toBe(thrown);
  });

  it('release deletes cooldown#<key>, but only while it still holds this claim id', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    const claim = await claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, CLAIM_ID);

    await claim?.release();

    expect(ddb).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
    expect(ddb.commandCalls(DeleteItemCommand)[0]?.args[0].input).toEqual({
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: 'cooldown#rollback#order-gateway' }),
      ConditionExpression: 'claimId = :claimId',
      ExpressionAttributeValues: marshall({ ':claimId': CLAIM_ID }),
    });
  });

  it('release tolerates a claim that is gone or was taken over by another claim id', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    const claim = await claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, CLAIM_ID);

    await expect(claim?.release()).resolves.toBeUndefined();
  });

  it('release rethrows any other error', async () => {
    ddb.on(PutItemCommand).resolves({});
    const thrown = transient();
    ddb.on(DeleteItemCommand).rejects(thrown);
    const claim = await claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, CLAIM_ID);

    await expect(claim?.release()).rejects.toBe(thrown);
  });

  describe('against DynamoDB condition semantics', () => {
    let table: SimulatedStateTable;
    beforeEach(() => {
      table = new SimulatedStateTable(ddb);
    });

    it('refuses a second claim while the first holds, and grants it once expiresAt is strictly in the past', async () => {
      const until = NOW.getTime() + 15 * 60_000;
      expect(await claimCooldown(deps, 'rollback#order-gateway', until, 'first')).toBeDefined();
      expect(await claimCooldown(deps, 'rollback#order-gateway', until, 'second')).toBeUndefined();

      // expiresAt < :now is strict: at the very second the claim ends it still holds.
      vi.setSystemTime(until);
      expect(await claimCooldown(deps, 'rollback#order-gateway', until + 60_000, 'second')).toBeUndefined();

      vi.setSystemTime(until + 1000);
      expect(await claimCooldown(deps, 'rollback#order-gateway', until + 60_000, 'second')).toBeDefined();
      expect(await table.item('cooldown#rollback#order-gateway')).toMatchObject({ claimId: 'second' });
    });

    it('keeps cooldowns of different keys apart', async () => {
      const until = NOW.getTime() + 60_000;
      expect(await claimCooldown(deps, 'rollback#order-gateway', until, 'a')).toBeDefined();
      expect(await claimCooldown(deps, 'rollback#market-data', until, 'b')).toBeDefined();
    });

    it('a released cooldown can be claimed again at once', async () => {
      const until = NOW.getTime() + 15 * 60_000;
      const first = await claimCooldown(deps, 'rollback#order-gateway', until, 'first');
      await first?.release();

      expect(await table.item('cooldown#rollback#order-gateway')).toBeUndefined();
      expect(await claimCooldown(deps, 'rollback#order-gateway', until, 'second')).toBeDefined();
    });

    it('releasing a claim that expired and was taken over leaves the newer claim in place', async () => {
      const first = await claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, 'first');
      vi.setSystemTime(NOW.getTime() + 120_000);
      expect(await claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 180_000, 'second')).toBeDefined();

      await expect(first?.release()).resolves.toBeUndefined();

      expect(await table.item('cooldown#rollback#order-gateway')).toMatchObject({ claimId: 'second' });
    });
  });
});

describe('claimOnce', () => {
  it('puts once#<key> with the details, the claim id, when, and a 30-day expiry, unless the key exists', async () => {
    ddb.on(PutItemCommand).resolves({});

    const claim = await claimOnce(deps, `event#${CLAIM_ID}`, CLAIM_ID, { alarm: 'prod-daily-loss-limit' });

    expect(claim?.key).toBe(`once#event#${CLAIM_ID}`);
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).toEqual({
      TableName: testConfig.stateTableName,
      Item: marshall({
        pk: `once#event#${CLAIM_ID}`,
        alarm: 'prod-daily-loss-limit',
        claimId: CLAIM_ID,
        at: NOW.toISOString(),
        expiresAt: NOW_SECONDS + 30 * 86_400,
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('keeps the claim for retainDays when given', async () => {
    ddb.on(PutItemCommand).resolves({});

    await claimOnce(deps, 'auto-rollback#order-gateway#ecs-svc/1', CLAIM_ID, {}, 2);

    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item?.expiresAt).toEqual({ N: String(NOW_SECONDS + 2 * 86_400) });
  });

  it('answers undefined when the key was claimed before', async () => {
    ddb.on(PutItemCommand).rejects(conditionFailed());

    await expect(claimOnce(deps, 'event#1', '1')).resolves.toBeUndefined();
  });

  it.each([
    ['a throttled write', throttled],
    ['a transient error', transient],
    ['an error merely named ConditionalCheckFailedException', lookalike],
  ])('rethrows %s', async (_label, error) => {
    const thrown = error();
    ddb.on(PutItemCommand).rejects(thrown);

    await expect(claimOnce(deps, 'event#1', '1')).rejects.toBe(thrown);
  });

  it('release deletes once#<key> on the condition that it holds this claim id; a vanished claim is fine, other errors are not', async () => {
    ddb.on(PutItemCommand).resolves({});
    const claim = await claimOnce(deps, 'event#1', 'claim-1');
    ddb.on(DeleteItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed()).rejects(transient());

    await claim?.release();
    expect(ddb.commandCalls(DeleteItemCommand)[0]?.args[0].input).toEqual({
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: 'once#event#1' }),
      ConditionExpression: 'claimId = :claimId',
      ExpressionAttributeValues: marshall({ ':claimId': 'claim-1' }),
    });
    await expect(claim?.release()).resolves.toBeUndefined();
    await expect(claim?.release()).rejects.toBeInstanceOf(AwsTransientError);
  });

  describe('against DynamoDB condition semantics', () => {
    let table: SimulatedStateTable;
    beforeEach(() => {
      table = new SimulatedStateTable(ddb);
    });

    it('grants a key once: later claims are refused, even past expiresAt (until TTL deletes the item)', async () => {
      expect(await claimOnce(deps, 'event#1', 'first', {}, 1)).toBeDefined();
      expect(await claimOnce(deps, 'event#1', 'second')).toBeUndefined();

      vi.setSystemTime(NOW.getTime() + 2 * 86_400_000);
      expect(await claimOnce(deps, 'event#1', 'third')).toBeUndefined();
      expect(await table.item('once#event#1')).toMatchObject({ claimId: 'first' });
    });

    it('a released claim can be taken again', async () => {
      const first = await claimOnce(deps, 'event#1', 'first');
      await first?.release();

      expect(await claimOnce(deps, 'event#1', 'second')).toBeDefined();
    });

    it('release does not delete a later claim on the key (the item expired and was claimed again)', async () => {
      const mine = await claimOnce(deps, 'event#2', 'mine');
      expect(mine).toBeDefined();
      await table.put({ pk: 'once#event#2', claimId: 'someone-else' });

      await expect(mine?.release()).resolves.toBeUndefined();

      expect(await table.item('once#event#2')).toMatchObject({ claimId: 'someone-else' });
    });
  });
});

describe('claimHourlyBudget', () => {
  it("adds one to budget#<hour>'s count, unless the count has reached the maximum", async () => {
    ddb.on(UpdateItemCommand).resolves({});

    const claim = await claimHourlyBudget(deps, 6);

    expect(claim?.key).toBe('budget#2025-07-05T12');
    expect(ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input).toEqual({
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: 'budget#2025-07-05T12' }),
      UpdateExpression: 'ADD used :one SET expiresAt = :expires',
      ConditionExpression: 'attribute_not_exists(used) OR used < :max',
      ExpressionAttributeValues: marshall({ ':one': 1, ':max': 6, ':expires': NOW_SECONDS + 3 * 3600 }),
    });
  });

  it('answers undefined when the budget is spent', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());

    await expect(claimHourlyBudget(deps, 6)).resolves.toBeUndefined();
  });

  it.each([
    ['a throttled write', throttled],
    ['a transient error', transient],
    ['an error merely named ConditionalCheckFailedException', lookalike],
  ])('rethrows %s', async (_label, error) => {
    const thrown = error();
    ddb.on(UpdateItemCommand).rejects(thrown);

    await expect(claimHourlyBudget(deps, 6)).rejects.toBe(thrown);
  });

  it('release subtracts the unit from the hour it was taken in, never below zero, even after the hour has turned', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const claim = await claimHourlyBudget(deps, 6);
    vi.setSystemTime(new Date('2025-07-05T13:00:05.000Z'));

    await claim?.release();

    expect(ddb).toHaveReceivedCommandTimes(UpdateItemCommand, 2);
    expect(ddb.commandCalls(UpdateItemCommand)[1]?.args[0].input).toEqual({
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: 'budget#2025-07-05T12' }),
      UpdateExpression: 'ADD used :minusOne',
      ConditionExpression: 'used > :zero',
      ExpressionAttributeValues: marshall({ ':minusOne': -1, ':zero': 0 }),
    });
  });

  it('release rethrows errors, a failed condition included', async () => {
    ddb.on(UpdateItemCommand).resolvesOnce({}).rejects(conditionFailed());
    const claim = await claimHourlyBudget(deps, 6);

    await expect(claim?.release()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  describe('against DynamoDB condition semantics', () => {
    let table: SimulatedStateTable;
    beforeEach(() => {
      table = new SimulatedStateTable(ddb);
    });

    it('grants exactly maxPerHour units an hour, then a fresh budget the next hour', async () => {
      const granted = [];
      for (let i = 0; i < 4; i += 1) granted.push(await claimHourlyBudget(deps, 3));

      expect(granted.map((c) => c !== undefined)).toEqual([true, true, true, false]);
      expect(await table.item('budget#2025-07-05T12')).toEqual({ pk: 'budget#2025-07-05T12', used: 3, expiresAt: NOW_SECONDS + 3 * 3600 });

      vi.setSystemTime(new Date('2025-07-05T13:00:00.000Z'));
      expect(await claimHourlyBudget(deps, 3)).toBeDefined();
      expect(await table.item('budget#2025-07-05T13')).toMatchObject({ used: 1 });
    });

    it('a released unit can be spent again', async () => {
      const first = await claimHourlyBudget(deps, 1);
      expect(await claimHourlyBudget(deps, 1)).toBeUndefined();

      await first?.release();

      expect(await table.item('budget#2025-07-05T12')).toMatchObject({ used: 0 });
      expect(await claimHourlyBudget(deps, 1)).toBeDefined();
    });

    it('release cannot take the count below zero', async () => {
      const claim = await claimHourlyBudget(deps, 2);
      await table.put({ pk: 'budget#2025-07-05T12', used: 0, expiresAt: NOW_SECONDS + 3600 });

      await expect(claim?.release()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      expect(await table.item('budget#2025-07-05T12')).toMatchObject({ used: 0 });
    });

    // maxAutomatedActionsPerHour may be 0 ("no automatic actions"); the update's condition alone
    // would grant the hour's first claim whatever :max is.
    it('a budget of 0 grants nothing', async () => {
      expect(await claimHourlyBudget(deps, 0)).toBeUndefined();
    });
  });
});

describe('claimPageWindow (against DynamoDB condition semantics)', () => {
  const WINDOW_MS = 15 * 60_000;
  const ALARM = 'alarm#prod-position-service-lag';

  it('opens a window, counts the pages within it, and opens the next one with that count', async () => {
    const table = new SimulatedStateTable(ddb);

    const first = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-1');
    expect(first).toMatchObject({ heldBack: 0, since: '' });
    expect(first.claim?.key).toBe(`page-window#${ALARM}`);

    vi.setSystemTime(NOW.getTime() + 60_000);
    const second = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-2');
    const third = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-3');
    expect([second, third]).toEqual([
      { heldBack: 1, since: NOW.toISOString() },
      { heldBack: 2, since: NOW.toISOString() },
    ]);
    expect(await table.item(`page-window#${ALARM}`)).toMatchObject({ claimId: 'event-1', suppressed: 2, windowEndsMs: NOW.getTime() + WINDOW_MS });

    // The window ends exactly WINDOW_MS after its page.
    vi.setSystemTime(NOW.getTime() + WINDOW_MS);
    const next = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-4');
    expect(next).toMatchObject({ heldBack: 2, since: NOW.toISOString() });
    expect(next.claim).toBeDefined();
    expect(await table.item(`page-window#${ALARM}`)).toMatchObject({ claimId: 'event-4', suppressed: 0 });
  });

  it('each key has its own window', async () => {
    new SimulatedStateTable(ddb);
    expect((await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-1')).claim).toBeDefined();
    expect((await claimPageWindow(deps, 'alarm#prod-daily-loss-limit', WINDOW_MS, 'event-2')).claim).toBeDefined();
    expect((await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-3')).claim).toBeUndefined();
  });

  it('giving a claim back restores the previous window and its count (a failed page is retried, and still counts)', async () => {
    const table = new SimulatedStateTable(ddb);
    await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-1');
    await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-2');
    vi.setSystemTime(NOW.getTime() + WINDOW_MS + 1);

    const opened = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-3');
    await opened.claim?.release();

    expect(await table.item(`page-window#${ALARM}`)).toMatchObject({ claimId: 'event-1', suppressed: 1 });
    const retried = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-3');
    expect(retried).toMatchObject({ heldBack: 1, since: NOW.toISOString() });
    expect(retried.claim).toBeDefined();
  });

  it('giving back the first window of a key deletes it', async () => {
    const table = new SimulatedStateTable(ddb);
    const opened = await claimPageWindow(deps, ALARM, WINDOW_MS, 'event-1');
    await opened.claim?.release();
    expect(await table.item(`page-window#${ALARM}`)).toBeUndefined();
  });

  it('a window of 0 always opens and writes nothing', async () => {
    for (const id of ['event-1', 'event-2']) expect((await claimPageWindow(deps, ALARM, 0, id)).claim).toBeDefined();
    expect(ddb.calls()).toHaveLength(0);
  });

  it('rethrows any error but a failed condition', async () => {
    ddb.on(PutItemCommand).rejects(throttled());
    await expect(claimPageWindow(deps, ALARM, WINDOW_MS, 'event-1')).rejects.toThrow('Rate exceeded');
  });
});

describe('holdingClaims', () => {
  const fakeClaim = (key: string, log: string[], release: () => Promise<void> = async () => undefined): Claim => ({
    key,
    release: vi.fn(async () => {
      log.push(`release ${key}`);
      await release();
    }),
  });

  it("answers the action's result and releases nothing when it succeeds", async () => {
    const log: string[] = [];
    const claims = [fakeClaim('a', log), fakeClaim('b', log)];
    const onReleaseFailure = vi.fn();

    await expect(holdingClaims(claims, async () => 'started', onReleaseFailure)).resolves.toBe('started');

    expect(log).toEqual([]);
    expect(onReleaseFailure).not.toHaveBeenCalled();
  });

  it('when the action fails, releases every claim, newest first, then rethrows the original error', async () => {
    const log: string[] = [];
    const claims = [fakeClaim('a', log), fakeClaim('b', log), fakeClaim('c', log)];
    const failure = transient();

    await expect(holdingClaims(claims, async () => Promise.reject(failure), vi.fn())).rejects.toBe(failure);

    expect(log).toEqual(['release c', 'release b', 'release a']);
  });

  it('releases the claims the action added to the array while it ran', async () => {
    const log: string[] = [];
    const claims = [fakeClaim('event', log)];
    const failure = new Error('StartExecution failed');

    await expect(
      holdingClaims(
        claims,
        async () => {
          claims.push(fakeClaim('cooldown', log), fakeClaim('budget', log));
          throw failure;
        },
        vi.fn(),
      ),
    ).rejects.toBe(failure);

    expect(log).toEqual(['release budget', 'release cooldown', 'release event']);
  });

  it('reports a release that fails, goes on releasing the rest, and still throws the original error', async () => {
    const log: string[] = [];
    const releaseError = new Error('DeleteItem throttled');
    const broken = fakeClaim('b', log, async () => Promise.reject(releaseError));
    const claims = [fakeClaim('a', log), broken, fakeClaim('c', log)];
    const onReleaseFailure = vi.fn<(claim: Claim, error: unknown) => void>();
    const failure = new Error('the action failed');

    await expect(holdingClaims(claims, async () => Promise.reject(failure), onReleaseFailure)).rejects.toBe(failure);

    expect(log).toEqual(['release c', 'release b', 'release a']);
    expect(onReleaseFailure).toHaveBeenCalledTimes(1);
    expect(onReleaseFailure).toHaveBeenCalledWith(broken, releaseError);
  });

  it('rethrows what the action threw even when it is not an Error', async () => {
    const log: string[] = [];

    await expect(holdingClaims([fakeClaim('a', log)], async () => Promise.reject('plain string'), vi.fn())).rejects.toBe('plain string');
    expect(log).toEqual(['release a']);
  });

  it('releases real claims against the state table in reverse order when the guarded action fails', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    const event = await claimOnce(deps, 'event#1', 'claim-1');
    const cooldown = await claimCooldown(deps, 'rollback#order-gateway', NOW.getTime() + 60_000, 'claim-1');
    const budget = await claimHourlyBudget(deps, 6);
    const claims = [event, cooldown, budget].filter((c): c is Claim => c !== undefined);
    expect(claims).toHaveLength(3);
    ddb.resetHistory();

    await expect(holdingClaims(claims, async () => Promise.reject(transient()), vi.fn())).rejects.toBeInstanceOf(AwsTransientError);

    const released = ddb.calls().map((call) => {
      const { input } = call.args[0] as DeleteItemCommand | UpdateItemCommand;
      return `${call.args[0].constructor.name} ${String(input.Key?.pk?.S)}`;
    });
    expect(released).toEqual(['UpdateItemCommand budget#2025-07-05T12', 'DeleteItemCommand cooldown#rollback#order-gateway', 'DeleteItemCommand once#event#1']);
  });
});
