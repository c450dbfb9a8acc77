import { ConditionalCheckFailedException, DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { releaseDeployLock } from '../../../functions/release-deploy-lock/core';
import { EXECUTION_ID, type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, buildPlan } from './builders';

const NEW_OWNER = 'arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:order-gateway-2';

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
});

const release = () => releaseDeployLock.core({ executionId: EXECUTION_ID, plan: buildPlan() }, deps);

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('release-deploy-lock', () => {
  it('deletes the lock only on condition that this execution owns it', async () => {
    ddb.on(DeleteItemCommand).resolves({});

    await expect(release()).resolves.toEqual({ released: true });

    expect(ddb).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: testConfig.lockTableName,
      Key: { pk: { S: 'service#order-gateway' } },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: marshall({ ':owner': EXECUTION_ID }),
    });
  });

  it('leaves a lock that was taken over alone and reports who holds it, without throwing', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: marshall({ pk: 'service#order-gateway', owner: NEW_OWNER, leaseExpiresAt: 1 }) });

    await expect(release()).resolves.toEqual({ released: false, heldBy: NEW_OWNER });

    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: testConfig.lockTableName,
      Key: { pk: { S: 'service#order-gateway' } },
      ConsistentRead: true,
    });
    expect(ddb).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
  });

  it('reports nobody when the lock is already gone', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({});

    await expect(release()).resolves.toEqual({ released: false, heldBy: 'nobody' });
  });

  it('writes intent and outcome records, the outcome saying whether the lock was released', async () => {
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({ Item: marshall({ owner: NEW_OWNER }) });

    await release();

    expect(auditTrail(ddb)).toEqual(['deploy.release-lock intent started', 'deploy.release-lock outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({ subject: 'order-gateway', executionId: EXECUTION_ID, after: { released: false, heldBy: NEW_OWNER } });
  });

  it('re-throws other errors unchanged and records them', async () => {
    const denied = Object.assign(new Error('not authorized to perform dynamodb:DeleteItem'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(DeleteItemCommand).rejects(denied);

    await expect(release()).rejects.toBe(denied);

    expect(ddb).not.toHaveReceivedCommand(GetItemCommand);
    expect(auditTrail(ddb)).toEqual(['deploy.release-lock intent started', 'deploy.release-lock outcome failed']);
  });
});
