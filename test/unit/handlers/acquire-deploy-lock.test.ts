import { ConditionalCheckFailedException, type DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireDeployLock } from '../../../functions/acquire-deploy-lock/core';
import { DeployLockHeldError } from '../../../functions/shared/runtime/errors';
import { EXECUTION_ID, type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, buildPlan, REPOSITORY } from './builders';

const NOW = new Date('2025-07-05T12:00:00.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const OTHER_EXECUTION = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:order-gateway-0';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand, { TableName: testConfig.auditTableName }).resolves({});
});

afterEach(() => {
  vi.useRealTimers();
});

const acquire = (plan = buildPlan()) => acquireDeployLock.core({ executionId: EXECUTION_ID, plan }, deps);

const lockPuts = () => ddb.commandCalls(PutItemCommand).filter((c) => c.args[0].input.TableName === testConfig.lockTableName);

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('acquire-deploy-lock', () => {
  it('takes the lock with a conditional put owned by this execution for the lease', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).resolves({});

    const lock = await acquire(buildPlan({ lockLeaseSeconds: 3600 }));

    expect(lock).toEqual({ owner: EXECUTION_ID, leaseExpiresAt: '2025-07-05T13:00:00.000Z' });
    expect(lockPuts()).toHaveLength(1);
    const input = lockPuts()[0]?.args[0].input;
    expect(unmarshall(input?.Item ?? {})).toEqual({
      pk: 'service#order-gateway',
      owner: EXECUTION_ID,
      image: `${REPOSITORY}:2.4.0`,
      reason: 'release 2.4.0',
      requestedBy: 'alice@example.com',
      acquiredAt: NOW.toISOString(),
      leaseExpiresAt: NOW_SECONDS + 3600,
    });
    // Free, expired, or already ours (a retried step): anything else belongs to another execution.
    expect(input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now OR #owner IN (:owner, :stopped)',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: marshall({ ':now': NOW_SECONDS, ':owner': EXECUTION_ID, ':stopped': EXECUTION_ID }),
    });
  });

  it('may take over the lock of an execution it stopped (a rollback stopping a deploy), and no other', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).resolves({});

    await acquireDeployLock.core({ executionId: EXECUTION_ID, plan: buildPlan(), takeOverFrom: OTHER_EXECUTION }, deps);

    expect(lockPuts()[0]?.args[0].input.ExpressionAttributeValues).toEqual(
      marshall({ ':now': NOW_SECONDS, ':owner': EXECUTION_ID, ':stopped': OTHER_EXECUTION }),
    );
  });

  it('writes an intent record before taking the lock and an outcome record after', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).resolves({});

    await acquire();

    // Audit records go in transactions (beside their chain links); the lock is a PutItem between them.
    const writes = ddb
      .calls()
      .map((c) => c.args[0])
      .filter((command) => command instanceof PutItemCommand || command instanceof TransactWriteItemsCommand)
      .map((command) => (command instanceof PutItemCommand ? command.input.TableName : command.input.TransactItems?.[0]?.Put?.TableName));
    expect(writes).toEqual([testConfig.auditTableName, testConfig.lockTableName, testConfig.auditTableName]);
    expect(auditTrail(ddb)).toEqual(['deploy.acquire-lock intent started', 'deploy.acquire-lock outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      subject: 'order-gateway',
      actor: 'alice@example.com',
      executionId: EXECUTION_ID,
      after: { owner: EXECUTION_ID, leaseExpiresAt: '2025-07-05T13:00:00.000Z' },
    });
  });

  it('refuses with DeployLockHeldError naming the holding execution and its image', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({
      Item: marshall({
        pk: 'service#order-gateway',
        owner: OTHER_EXECUTION,
        image: `${REPOSITORY}:2.3.9`,
        requestedBy: 'bob@example.com',
        leaseExpiresAt: NOW_SECONDS + 600,
      }),
    });

    const error = await acquire().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeployLockHeldError);
    expect(error).toMatchObject({
      name: 'DeployLockHeldError',
      message: `order-gateway is locked by ${OTHER_EXECUTION} (image ${REPOSITORY}:2.3.9, requested by bob@example.com, lease until 2025-07-05T12:10:00.000Z)`,
    });
    expect((error as Error).cause).toBeInstanceOf(ConditionalCheckFailedException);
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: testConfig.lockTableName,
      Key: { pk: { S: 'service#order-gateway' } },
      ConsistentRead: true,
    });
  });

  it('names the holder of a lock item without a lease end, rather than failing to format it', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: marshall({ owner: OTHER_EXECUTION, reason: 'rollback', requestedBy: 'bob' }) });

    await expect(acquire()).rejects.toThrow(
      new DeployLockHeldError(`order-gateway is locked by ${OTHER_EXECUTION} (rollback, requested by bob, lease until unknown)`),
    );
  });

  it('still refuses when the holder released the lock between the put and the read', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({});

    await expect(acquire()).rejects.toThrow(new DeployLockHeldError('order-gateway deploy lock is held by another execution'));
  });

  it('records the refusal as a failed outcome', async () => {
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: marshall({ owner: OTHER_EXECUTION, image: 'x', requestedBy: 'bob', leaseExpiresAt: NOW_SECONDS }) });

    await expect(acquire()).rejects.toThrow(DeployLockHeldError);

    expect(auditTrail(ddb)).toEqual(['deploy.acquire-lock intent started', 'deploy.acquire-lock outcome failed']);
    expect(auditRecords(ddb)[1]?.error).toEqual({ name: 'DeployLockHeldError', message: expect.stringContaining(OTHER_EXECUTION) });
  });

  it('re-throws any other DynamoDB error unchanged, after recording it', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    ddb.on(PutItemCommand, { TableName: testConfig.lockTableName }).rejects(throttled);

    const error = await acquire().catch((e: unknown) => e);

    expect(error).toBe(throttled);
    expect(ddb).not.toHaveReceivedCommand(GetItemCommand);
    expect(auditRecords(ddb)[1]).toMatchObject({ phase: 'outcome', status: 'failed', error: { name: 'ThrottlingException', message: 'Rate exceeded' } });
  });
});
