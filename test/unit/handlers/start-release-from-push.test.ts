import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { latestPushKey } from '../../../functions/shared/domain/release';
import { startReleaseFromPush } from '../../../functions/start-release-from-push/core';
import { type TestDeps, testDeps, testConfig } from '../../support/handler-deps';
import { auditRecords } from './builders';
import { SimulatedStateTable } from './simulated-state-table';

const NOW = '2026-01-05T05:30:00.000Z';
const REPOSITORY_URI = '111122223333.dkr.ecr.eu-west-2.amazonaws.com/order-gateway';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const NEWER_DIGEST = `sha256:${'cd'.repeat(32)}`;

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let ssm: AwsClientStub<SSMClient>;
let sns: AwsClientStub<SNSClient>;
let state: SimulatedStateTable;

function pushEvent(
  overrides: { tag?: string; digest?: string; repository?: string; time?: string; account?: string; region?: string; id?: string } = {},
): unknown {
  return {
    version: '0',
    id: overrides.id ?? 'event-1',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: overrides.account ?? '111122223333',
    time: overrides.time ?? NOW,
    region: overrides.region ?? 'eu-west-2',
    resources: [],
    detail: {
      'action-type': 'PUSH',
      result: 'SUCCESS',
      'repository-name': overrides.repository ?? 'order-gateway',
      'image-digest': overrides.digest ?? DIGEST,
      'image-tag': overrides.tag ?? '4.2.0',
    },
  };
}

function setHalted(halted: boolean): void {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify({ halted, ...(halted ? { haltId: 'halt-1', reason: 'loss limit' } : {}) }) } });
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW));
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  ssm = mockClient(deps.clients.ssm);
  sns = mockClient(deps.clients.sns);
  ddb.on(PutItemCommand).resolves({});
  state = new SimulatedStateTable(ddb);
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${testConfig.stateMachineArns.release.replace(':stateMachine:', ':execution:')}:${input.name}`,
  }));
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  setHalted(false);
});

afterEach(() => {
  vi.useRealTimers();
});

const handle = (event: unknown) => startReleaseFromPush.core(event, deps);
const decisions = () => auditRecords(ddb).map((r) => `${r.action} ${(r.after as { decision: string }).decision}`);

describe('start-release-from-push', () => {
  it('starts one release of the pushed digest, named after the digest, with the documented input', async () => {
    const result = await handle(pushEvent());
    const name = `push-order-gateway-${'ab'.repeat(20)}`;
    expect(result).toMatchObject({ decision: 'started', service: 'order-gateway' });
    const call = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(call?.name).toBe(name);
    expect(call?.stateMachineArn).toBe(testConfig.stateMachineArns.release);
    expect(JSON.parse(call?.input ?? '{}')).toEqual({
      services: { 'order-gateway': `${REPOSITORY_URI}@${DIGEST}` },
      requestedBy: 'ecr-push/order-gateway',
      reason: `push of order-gateway:4.2.0 (${DIGEST})`,
      source: { type: 'push', repository: 'order-gateway', tag: '4.2.0', digest: DIGEST },
    });
    expect(await state.item(latestPushKey('order-gateway'))).toMatchObject({ digest: DIGEST, pushedAt: NOW, tag: '4.2.0' });
    expect(decisions()).toEqual(['release.push-received started']);
  });

  it('starts nothing for a tag the service does not release, and records why', async () => {
    const result = await handle(pushEvent({ tag: 'latest' }));
    expect(result).toMatchObject({ decision: 'ignored', service: 'order-gateway' });
    expect(result.why).toContain('latest');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(await state.item(latestPushKey('order-gateway'))).toBeUndefined();
    expect(decisions()).toEqual(['release.push-ignored ignored']);
  });

  it('starts one release when the same digest is pushed under two tags', async () => {
    await handle(pushEvent({ tag: '4.2.0', id: 'event-1' }));
    const second = await handle(pushEvent({ tag: 'v4.2.0', id: 'event-2' }));
    expect(second.decision).toBe('duplicate');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('treats ExecutionAlreadyExists as a duplicate, not an error', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    await expect(handle(pushEvent())).resolves.toMatchObject({ decision: 'duplicate' });
  });

  it('refuses, records and pages a push while trading is halted', async () => {
    setHalted(true);
    const result = await handle(pushEvent());
    expect(result).toMatchObject({ decision: 'refused' });
    expect(result.why).toContain('halted');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(decisions()).toEqual(['release.push-refused refused']);

    // EventBridge delivers the event again: recorded again, paged once.
    await expect(handle(pushEvent())).resolves.toMatchObject({ decision: 'refused' });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(decisions()).toEqual(['release.push-refused refused', 'release.push-refused refused']);
  });

  it('ignores pushes to repositories not released by push, and events that are not pushes', async () => {
    expect((await handle(pushEvent({ repository: 'market-data' }))).decision).toBe('ignored');
    expect((await handle({ source: 'aws.ecr' })).decision).toBe('ignored');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  // maxEventAgeSeconds is 300 in the example fleet; the clock skew allowed is 60 s.
  it.each([
    ['from a foreign account', { account: '999999999999' }, 'event from foreign account 999999999999'],
    ['from a foreign region', { region: 'us-east-1' }, 'event from foreign region us-east-1'],
    ['backdated beyond maxEventAgeSeconds', { time: '2026-01-05T05:24:59Z' }, 'stale event: 301 s old, more than 300 s'],
    [
      'dated in the future beyond the clock skew',
      { time: '2026-01-05T05:31:01Z' },
      'future-dated event: 61 s ahead of the clock, more than the 60 s skew allowed',
    ],
    ['dated two days ahead', { time: '2026-01-07T05:30:00Z' }, 'future-dated event: 172800 s ahead of the clock, more than the 60 s skew allowed'],
  ])('refuses a push %s: recorded, not paged, nothing started', async (_label, overrides, why) => {
    const result = await handle(pushEvent(overrides));
    expect(result).toEqual({ eventId: 'event-1', decision: 'refused', why });
    expect(decisions()).toEqual(['release.push-refused refused']);
    expect(auditRecords(ddb)[0]).toMatchObject({ reason: why, status: 'failed' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(await state.item(latestPushKey('order-gateway'))).toBeUndefined();
  });

  it('accepts a push dated within the clock skew ahead, and one exactly maxEventAgeSeconds old', async () => {
    expect((await handle(pushEvent({ time: '2026-01-05T05:31:00Z' }))).decision).toBe('started');
    expect((await handle(pushEvent({ time: '2026-01-05T05:25:00Z', digest: NEWER_DIGEST, id: 'event-2' }))).decision).toBe('started');
  });

  it('keeps the newest push as the latest, whatever order the events arrive in', async () => {
    await handle(pushEvent({ digest: NEWER_DIGEST, tag: '4.2.1', id: 'newer', time: NOW }));
    await handle(pushEvent({ digest: DIGEST, tag: '4.2.0', id: 'older', time: '2026-01-05T05:29:00.000Z' }));
    expect(await state.item(latestPushKey('order-gateway'))).toMatchObject({ digest: NEWER_DIGEST, tag: '4.2.1' });
  });
});
