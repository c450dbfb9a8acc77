/** start-rotation-from-event refusing events nobody can trust: foreign, replayed, stale, future-dated, not the fleet's. */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startRotationFromEvent } from '../../../functions/start-rotation-from-event/core';
import { type TestDeps, testConfig, testDeps } from '../../support/handler-deps';
import { ACCOUNT, auditRecords } from './builders';
import { SimulatedStateTable } from './simulated-state-table';

const NOW = '2026-01-05T05:30:00.000Z';
const SECRET_ARN = `arn:aws:secretsmanager:eu-west-2:${ACCOUNT}:secret:prod/trading/admin-api-token-AbCdEf`;

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let secrets: AwsClientStub<SecretsManagerClient>;

function rotationEvent(overrides: Record<string, unknown> = {}): unknown {
  return {
    version: '0',
    id: 'rotation-event-1',
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.secretsmanager',
    account: ACCOUNT,
    time: NOW,
    region: 'eu-west-2',
    resources: [],
    detail: {
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'RotationSucceeded',
      additionalEventData: { SecretId: SECRET_ARN },
    },
    ...overrides,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  secrets = mockClient(deps.clients.secretsManager);
  ddb.on(PutItemCommand).resolves({});
  new SimulatedStateTable(ddb);
  secrets.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, VersionIdsToStages: { 'version-2': ['AWSCURRENT'], 'version-1': ['AWSPREVIOUS'] } });
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${testConfig.stateMachineArns['rotate-secret'].replace(':stateMachine:', ':execution:')}:${input.name}`,
  }));
});

afterEach(() => {
  vi.useRealTimers();
});

const handle = (event: unknown) => startRotationFromEvent.core(event, deps);

describe('start-rotation-from-event', () => {
  it('starts the rotate-secret workflow for a trusted event about a managed secret', async () => {
    await expect(handle(rotationEvent())).resolves.toMatchObject({ decision: 'started' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('accepts an event dated within the clock skew ahead', async () => {
    await expect(handle(rotationEvent({ time: '2026-01-05T05:31:00Z' }))).resolves.toMatchObject({ decision: 'started' });
  });

  // maxEventAgeSeconds is 300 in the example fleet; the clock skew allowed is 60 s.
  it.each([
    ['from a foreign account', { account: '999999999999' }, 'event from foreign account 999999999999'],
    ['from a foreign region', { region: 'us-east-1' }, 'event from foreign region us-east-1'],
    ['replayed from an archive', { 'replay-name': 'replay-1' }, 'replayed event (replay replay-1)'],
    ['backdated beyond maxEventAgeSeconds', { time: '2026-01-05T05:24:59Z' }, 'stale event: 301 s old, more than 300 s'],
    [
      'dated in the future beyond the clock skew',
      { time: '2026-01-05T05:31:01Z' },
      'future-dated event: 61 s ahead of the clock, more than the 60 s skew allowed',
    ],
    ['dated two days ahead', { time: '2026-01-07T05:30:00Z' }, 'future-dated event: 172800 s ahead of the clock, more than the 60 s skew allowed'],
  ])('refuses an event %s: recorded, nothing asked of Secrets Manager, nothing started', async (_label, overrides, why) => {
    await expect(handle(rotationEvent(overrides))).resolves.toEqual({ eventId: 'rotation-event-1', decision: 'refused', why });

    expect(auditRecords(ddb)).toEqual([
      expect.objectContaining({ action: 'secret.rotation-event', reason: why, status: 'failed', after: { decision: 'refused' } }),
    ]);
    expect(secrets).not.toHaveReceivedAnyCommand();
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  it('ignores a rotation of a secret the fleet does not manage', async () => {
    const foreign = `arn:aws:secretsmanager:eu-west-2:${ACCOUNT}:secret:someone/else-AbCdEf`;
    const event = rotationEvent({
      detail: { eventSource: 'secretsmanager.amazonaws.com', eventName: 'RotationSucceeded', additionalEventData: { SecretId: foreign } },
    });

    await expect(handle(event)).resolves.toMatchObject({ decision: 'ignored', why: expect.stringContaining('is not a managed secret') });
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});
