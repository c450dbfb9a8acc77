import { readFileSync } from 'node:fs';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  type SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type PutParameterCommandInput, type SSMClient } from '@aws-sdk/client-ssm';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { executionNameForEvent, routeAlarmEvent, type RoutingDecision, type RoutingResult } from '../../../../functions/route-alarm-event/core';
import { type CloudWatchAlarmStateChange, cloudWatchAlarmStateChangeSchema } from '../../../../functions/shared/domain/aws-events';
import { AwsTransientError } from '../../../../functions/shared/runtime/errors';
import type { Fleet } from '../../../../lib/fleet/fleet';
import { type TestDeps, testConfig, testDeps } from '../../../support/handler-deps';
import { ACCOUNT, auditRecords, buildDeployment, buildService, NEW_REVISION_ARN, type StoredAuditRecord, stubDescribeServices } from '../builders';
import { SimulatedStateTable } from '../simulated-state-table';

const NOW = new Date('2025-07-05T12:20:30.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const EVENT_ID = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92';
const EVENT_TIME = '2025-07-05T12:20:00Z';
const STATE_TIMESTAMP = '2025-07-05T12:20:00.000+0000';
const STATE_REASON = 'Threshold Crossed: 2 out of the last 2 datapoints [4.2, 3.9] were greater than the threshold (1.0).';

const HALT_ALARM = 'prod-daily-loss-limit';
const ROLLBACK_ALARM = 'prod-order-gateway-error-rate';
const NOTIFY_ALARM = 'prod-position-service-lag';
const HALT_ID = 'halt-20250705-c4c1c1c9';
const EXECUTION_NAME = `alarm-${EVENT_ID}`;
const HALT_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-halt:${EXECUTION_NAME}`;
const ROLLBACK_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-rollback:${EXECUTION_NAME}`;
const DEPLOY_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-deploy:order-gateway-2-4-0`;
/** The example fleet's trading services in deploy order: whom a halt alarm without `services` halts. */
const TRADING_SERVICES = ['market-data', 'risk-engine', 'order-gateway'];
const DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
const SOAK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAccc-soak';
const PAGING_TOPIC = 'assure-prod-paging';

/** AWS's documented example alarm state change. */
const documented = cloudWatchAlarmStateChangeSchema.parse(
  JSON.parse(readFileSync(new URL('../../../fixtures/aws-events/cloudwatch-alarm-state-change.json', import.meta.url), 'utf8')),
);

type StateValue = CloudWatchAlarmStateChange['detail']['state']['value'];
type Envelope = Partial<Pick<CloudWatchAlarmStateChange, 'id' | 'time' | 'account' | 'region' | 'replay-name'>>;

/** The documented event, adapted to the example fleet's account and region: `alarmName` went from `from` to `to` 30 s ago. */
function alarmChange(alarmName: string, { from = 'OK', to = 'ALARM', ...envelope }: { from?: StateValue; to?: StateValue } & Envelope = {}): CloudWatchAlarmStateChange {
  const event = structuredClone(documented);
  return {
    ...event,
    id: EVENT_ID,
    account: ACCOUNT,
    region: 'eu-west-2',
    time: EVENT_TIME,
    resources: [`arn:aws:cloudwatch:eu-west-2:${ACCOUNT}:alarm:${alarmName}`],
    ...envelope,
    detail: {
      ...event.detail,
      alarmName,
      state: { ...event.detail.state, value: to, reason: STATE_REASON, timestamp: STATE_TIMESTAMP },
      previousState: { ...event.detail.previousState, value: from, timestamp: '2025-07-05T12:00:00.000+0000' },
    },
  };
}

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sfn: AwsClientStub<SFNClient>;
let sns: AwsClientStub<SNSClient>;
let ssm: AwsClientStub<SSMClient>;
let ecs: AwsClientStub<ECSClient>;

const conditionFailed = (): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
const parameterNotFound = (): ParameterNotFound => new ParameterNotFound({ message: 'Parameter /assure/prod/halt not found.', $metadata: { httpStatusCode: 400 } });
/** What the production SFN client throws on throttling (its transient-error middleware maps it). */
const transient = (): AwsTransientError => new AwsTransientError('SFN.StartExecution', 'ThrottlingException', 'Rate exceeded');
/** The raw SDK error, as a client without that middleware would throw it. */
const throttled = (): SFNServiceException =>
  new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  sfn = mockClient(deps.clients.sfn);
  sns = mockClient(deps.clients.sns);
  ssm = mockClient(deps.clients.ssm);
  ecs = mockClient(deps.clients.ecs);
  // Generic answers first: more specific ones defined later (per test) take precedence.
  ddb.on(PutItemCommand).resolves({});
  ddb.on(UpdateItemCommand).resolves({});
  ddb.on(DeleteItemCommand).resolves({});
  ddb.on(GetItemCommand).resolves({});
  ssm.on(GetParameterCommand).rejects(parameterNotFound());
  ssm.on(PutParameterCommand).resolves({ Version: 1 });
  sfn.on(StartExecutionCommand).callsFake(async (input: StartExecutionCommandInput) => ({
    executionArn: `${(input.stateMachineArn ?? '').replace(':stateMachine:', ':execution:')}:${input.name ?? ''}`,
    startDate: new Date(),
  }));
  sfn.on(SendTaskFailureCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
  stubDescribeServices(
    ecs,
    buildService([buildDeployment({ status: 'ACTIVE' }), buildDeployment({ id: DEPLOYMENT_ID, status: 'PRIMARY', taskDefinition: NEW_REVISION_ARN, rolloutState: 'COMPLETED' })]),
  );
});

afterEach(() => {
  vi.useRealTimers();
});

const route = (event: unknown): Promise<RoutingResult> => routeAlarmEvent.core(event, deps);

function withGuardRails(changes: Partial<Fleet['guardRails']>): void {
  deps = { ...deps, fleet: { ...deps.fleet, guardRails: { ...deps.fleet.guardRails, ...changes } } };
}

interface CallInput {
  readonly TableName?: string;
  readonly Key?: Record<string, AttributeValue>;
  readonly Item?: Record<string, AttributeValue>;
  readonly Name?: string;
  readonly stateMachineArn?: string;
  readonly name?: string;
  readonly TopicArn?: string;
}

const WRITE_OPERATIONS = new Set(['PutParameter', 'PutItem', 'UpdateItem', 'DeleteItem', 'Publish', 'StartExecution', 'SendTaskFailure', 'SendTaskSuccess']);

/** Every write the router attempted, across all clients in call order, as "<client> <operation> <target>". */
/** Tables by what they hold, so write labels read the same in any environment. */
const TABLE_LABELS: Readonly<Record<string, string>> = {
  [testConfig.auditTableName]: 'audit',
  [testConfig.stateTableName]: 'state',
  [testConfig.lockTableName]: 'locks',
  [testConfig.callbackTableName]: 'callbacks',
};

function writes(): string[] {
  const calls = [
    ...ddb.calls().map((spy) => ({ client: 'dynamodb', spy, command: spy.args[0] })),
    ...sfn.calls().map((spy) => ({ client: 'sfn', spy, command: spy.args[0] })),
    ...sns.calls().map((spy) => ({ client: 'sns', spy, command: spy.args[0] })),
    ...ssm.calls().map((spy) => ({ client: 'ssm', spy, command: spy.args[0] })),
    ...ecs.calls().map((spy) => ({ client: 'ecs', spy, command: spy.args[0] })),
  ];
  return calls
    .sort((a, b) => (a.spy.calledBefore(b.spy) ? -1 : 1))
    .map(({ client, command }) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      const input = command.input as CallInput;
      const target =
        client === 'dynamodb'
          ? `${TABLE_LABELS[input.TableName ?? ''] ?? '?'} ${input.Key?.pk?.S ?? input.Item?.pk?.S ?? '?'}`
          : client === 'ssm'
            ? (input.Name ?? '?')
            : client === 'sns'
              ? (input.TopicArn ?? '?').split(':').pop()
              : operation === 'StartExecution'
                ? `${(input.stateMachineArn ?? '?').split(':').pop() ?? '?'} ${input.name ?? '?'}`
                : 'task';
      return { operation, label: `${client} ${operation} ${target}` };
    })
    .filter(({ operation }) => WRITE_OPERATIONS.has(operation))
    .map(({ label }) => label);
}

const AUDIT_FLEET = 'dynamodb PutItem audit subject#fleet';
const AUDIT_ORDER_GATEWAY = 'dynamodb PutItem audit subject#order-gateway';
const PAGE = `sns Publish ${PAGING_TOPIC}`;
const HALT_FLAG_WRITE = `ssm PutParameter ${testConfig.haltParameterName}`;
const EVENT_CLAIM = `dynamodb PutItem state once#event#${EVENT_ID}`;
const COOLDOWN_CLAIM = 'dynamodb PutItem state cooldown#rollback#order-gateway';
const DEPLOYMENT_CLAIM = `dynamodb PutItem state once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`;
const BUDGET_CLAIM = 'dynamodb UpdateItem state budget#2025-07-05T12';

/** The one audit record the router wrote. */
function theRecord(): StoredAuditRecord {
  const records = auditRecords(ddb);
  expect(records).toHaveLength(1);
  return records[0] as StoredAuditRecord;
}

function pages(): { TopicArn?: string; Subject?: string; Message?: string }[] {
  return sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
}

function expectPaged(alarmName: string, decision: RoutingDecision, why: string): void {
  expect(pages()).toEqual([{ TopicArn: testConfig.pagingTopicArn, Subject: `[assure prod] ${alarmName}: ${decision}`, Message: expect.stringContaining(why) }]);
}

/** No halt flag write, no execution, no task completion, no guard-rail claim. */
function expectNoAction(): void {
  expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  expect(writes().filter((w) => w.startsWith(`dynamodb`) && !w.startsWith('dynamodb PutItem audit '))).toEqual([]);
}

const stubHaltFlag = (flag: Record<string, unknown>): void => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: testConfig.haltParameterName, Value: JSON.stringify(flag), Type: 'String' } });
};
const stubClaimTaken = (pk: string): void => {
  ddb.on(PutItemCommand, { TableName: testConfig.stateTableName, Item: { pk: { S: pk } } }).rejects(conditionFailed());
};
const stubSoakWaiting = (): void => {
  ddb
    .on(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: 'soak#order-gateway' } } })
    .resolves({ Item: marshall({ pk: 'soak#order-gateway', taskToken: SOAK_TOKEN, executionId: DEPLOY_EXECUTION_ARN, deploymentId: DEPLOYMENT_ID }) });
};
const stubLock = (owner: string, leaseExpiresAt: number): void => {
  ddb
    .on(GetItemCommand, { TableName: testConfig.lockTableName, Key: { pk: { S: 'service#order-gateway' } } })
    .resolves({ Item: marshall({ pk: 'service#order-gateway', owner, leaseExpiresAt, reason: 'release 2.4.0', requestedBy: 'alice@example.com' }) });
};

/** The SSM parameter as a store: GetParameter answers what PutParameter wrote. */
function statefulHaltFlag(): { flag(): Record<string, unknown> | undefined } {
  let stored: string | undefined;
  ssm.on(GetParameterCommand).callsFake(async () => {
    if (stored === undefined) throw parameterNotFound();
    return { Parameter: { Name: testConfig.haltParameterName, Value: stored, Type: 'String' } };
  });
  ssm.on(PutParameterCommand).callsFake(async (input: PutParameterCommandInput) => {
    stored = input.Value;
    return { Version: 1 };
  });
  return { flag: () => (stored === undefined ? undefined : (JSON.parse(stored) as Record<string, unknown>)) };
}

describe('executionNameForEvent', () => {
  it('names the execution alarm-<event id>, so a duplicated event cannot start a second one', () => {
    expect(executionNameForEvent(EVENT_ID)).toBe(EXECUTION_NAME);
  });

  it('keeps to the characters and length Step Functions allows', () => {
    expect(executionNameForEvent('a:b/c d')).toBe('alarm-a-b-c-d');
    expect(executionNameForEvent('x'.repeat(100))).toBe(`alarm-${'x'.repeat(74)}`);
  });
});

describe('route-alarm-event: refusals', () => {
  describe('malformed events: named field, recorded, paged, nothing done', () => {
    const valid = (): CloudWatchAlarmStateChange => alarmChange(HALT_ALARM);
    it.each<[string, () => unknown, string, string]>([
      ['no alarm name', () => ({ ...valid(), detail: { ...valid().detail, alarmName: undefined } }), 'detail.alarmName', EVENT_ID],
      ['an empty alarm name', () => ({ ...valid(), detail: { ...valid().detail, alarmName: '' } }), 'detail.alarmName', EVENT_ID],
      ['another source', () => ({ ...valid(), source: 'aws.ecs' }), 'source', EVENT_ID],
      ['another detail-type', () => ({ ...valid(), 'detail-type': 'CloudWatch Alarm Configuration Change' }), 'detail-type', EVENT_ID],
      ['an unknown state', () => ({ ...valid(), detail: { ...valid().detail, state: { ...valid().detail.state, value: 'FIRING' } } }), 'detail.state.value', EVENT_ID],
      ['no previous state', () => ({ ...valid(), detail: { ...valid().detail, previousState: undefined } }), 'detail.previousState', EVENT_ID],
      ['no state timestamp', () => ({ ...valid(), detail: { ...valid().detail, state: { value: 'ALARM', reason: 'x' } } }), 'detail.state.timestamp', EVENT_ID],
      ['no time', () => ({ ...valid(), time: undefined }), 'time', EVENT_ID],
      ['resources that are not a list', () => ({ ...valid(), resources: 'arn:aws:cloudwatch:eu-west-2:111122223333:alarm:x' }), 'resources', EVENT_ID],
      ['an id that is not a string', () => ({ ...valid(), id: 42 }), 'id', 'unknown'],
      ['null', () => null, '(input)', 'unknown'],
      ['a string', () => JSON.stringify(valid()), '(input)', 'unknown'],
    ])('%s', async (_label, event, field, eventId) => {
      const result = await route(event());

      expect(result).toEqual({ eventId, decision: 'rejected', why: expect.stringMatching(/^malformed event: /) });
      expect(result.why).toContain(`${field}: `);
      expect(theRecord()).toMatchObject({
        pk: 'subject#fleet',
        action: 'alarm.route',
        subject: 'fleet',
        actor: 'assure',
        source: `eventbridge:${eventId}`,
        executionId: `event:${eventId}`,
        phase: 'outcome',
        status: 'succeeded',
        reason: result.why,
        after: { decision: 'rejected' },
      });
      expectPaged('alarm event', 'rejected', result.why);
      expect(writes()).toEqual([AUDIT_FLEET, PAGE]);
      expectNoAction();
    });
  });

  it('records the refusal under the event with the documented audit keys', async () => {
    await route(alarmChange(HALT_ALARM, { account: '444455556666' }));

    const record = theRecord();
    expect(record).toEqual({
      pk: 'subject#fleet',
      sk: `${NOW.toISOString()}#${EVENT_ID}#alarm.route#outcome`,
      trail: 'trail',
      action: 'alarm.route',
      subject: 'fleet',
      actor: 'assure',
      source: `eventbridge:${EVENT_ID}`,
      executionId: `event:${EVENT_ID}`,
      reason: 'event from foreign account 444455556666',
      phase: 'outcome',
      status: 'succeeded',
      at: NOW.toISOString(),
      after: { decision: 'rejected', alarm: HALT_ALARM },
    });
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).toMatchObject({ TableName: testConfig.auditTableName, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(pages()).toEqual([
      {
        TopicArn: testConfig.pagingTopicArn,
        Subject: `[assure prod] ${HALT_ALARM}: rejected`,
        Message: `event from foreign account 444455556666\n\nEvent ${EVENT_ID}`,
      },
    ]);
  });

  it("refuses an alarm the fleet file does not define (AWS's documented example as it stands)", async () => {
    const event = { ...documented, account: ACCOUNT, region: 'eu-west-2', time: EVENT_TIME };

    const result = await route(event);

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: 'ServerCpuTooHigh', decision: 'rejected', why: 'alarm not in the fleet file' });
    expect(theRecord()).toMatchObject({ subject: 'fleet', reason: 'alarm not in the fleet file', after: { decision: 'rejected', alarm: 'ServerCpuTooHigh' } });
    expect(theRecord().after).not.toHaveProperty('kind');
    expectPaged('ServerCpuTooHigh', 'rejected', 'alarm not in the fleet file');
    expect(writes()).toEqual([AUDIT_FLEET, PAGE]);
    expectNoAction();
  });

  // Refusals decided before the alarm is classified are recorded against the fleet;
  // refusals of a classified alarm against what it would act on.
  const unclassified: [string, (alarm: string) => CloudWatchAlarmStateChange, string][] = [
    ['from a foreign account', (a) => alarmChange(a, { account: '444455556666' }), 'event from foreign account 444455556666'],
    ['from a foreign region', (a) => alarmChange(a, { region: 'us-east-1' }), 'event from foreign region us-east-1'],
    ['replayed from an archive', (a) => alarmChange(a, { 'replay-name': 'replay-after-outage' }), 'replayed event (replay replay-after-outage)'],
    ['older than maxEventAgeSeconds (300 s)', (a) => alarmChange(a, { time: '2025-07-05T12:15:29Z' }), 'stale event: 301 s old, more than 300 s'],
    ['much older (an hour)', (a) => alarmChange(a, { time: '2025-07-05T11:20:30Z' }), 'stale event: 3600 s old, more than 300 s'],
  ];
  const classified: [string, (alarm: string) => CloudWatchAlarmStateChange, string][] = [
    ['a change back to OK', (a) => alarmChange(a, { from: 'ALARM', to: 'OK' }), 'not a change into ALARM (ALARM → OK)'],
    ['ALARM → ALARM (a re-evaluation, not a change)', (a) => alarmChange(a, { from: 'ALARM', to: 'ALARM' }), 'not a change into ALARM (ALARM → ALARM)'],
    ['INSUFFICIENT_DATA → OK', (a) => alarmChange(a, { from: 'INSUFFICIENT_DATA', to: 'OK' }), 'not a change into ALARM (INSUFFICIENT_DATA → OK)'],
    ['OK → INSUFFICIENT_DATA', (a) => alarmChange(a, { from: 'OK', to: 'INSUFFICIENT_DATA' }), 'INSUFFICIENT_DATA is no evidence: no automatic action'],
    ['ALARM → INSUFFICIENT_DATA', (a) => alarmChange(a, { from: 'ALARM', to: 'INSUFFICIENT_DATA' }), 'INSUFFICIENT_DATA is no evidence: no automatic action'],
  ];

  describe.each([
    { alarm: HALT_ALARM, kind: 'halt', subject: 'fleet' },
    { alarm: ROLLBACK_ALARM, kind: 'rollback', subject: 'order-gateway' },
    { alarm: NOTIFY_ALARM, kind: 'notify', subject: 'fleet' },
  ])('$kind alarm $alarm', ({ alarm, kind, subject }) => {
    it.each(unclassified)('refuses an event %s: recorded, paged, nothing done', async (_label, event, why) => {
      const result = await route(event(alarm));

      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'rejected', why });
      expect(theRecord()).toMatchObject({ action: 'alarm.route', subject: 'fleet', reason: why, after: { decision: 'rejected', alarm } });
      expectPaged(alarm, 'rejected', why);
      expect(writes()).toEqual([AUDIT_FLEET, PAGE]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
    });

    it.each(classified)('refuses %s: recorded, paged, nothing done', async (_label, event, why) => {
      const result = await route(event(alarm));

      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'rejected', why });
      expect(theRecord()).toMatchObject({ action: 'alarm.route', subject, reason: why, after: { decision: 'rejected', alarm, kind } });
      expectPaged(alarm, 'rejected', why);
      expect(writes()).toEqual([`dynamodb PutItem audit subject#${subject}`, PAGE]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
    });
  });

  it('acts on an event exactly maxEventAgeSeconds old', async () => {
    await expect(route(alarmChange(HALT_ALARM, { time: '2025-07-05T12:15:30Z' }))).resolves.toMatchObject({ decision: 'halt-started' });
  });

  it('follows the fleet file: a shorter maxEventAgeSeconds refuses a 30-second-old event', async () => {
    withGuardRails({ maxEventAgeSeconds: 20 });

    await expect(route(alarmChange(HALT_ALARM))).resolves.toMatchObject({ decision: 'rejected', why: 'stale event: 30 s old, more than 20 s' });
    expectNoAction();
  });

  it('refuses an event whose time cannot be read as stale', async () => {
    const result = await route(alarmChange(HALT_ALARM, { time: 'yesterday' }));

    expect(result).toMatchObject({ decision: 'rejected', why: expect.stringMatching(/^stale event: /) });
    expectNoAction();
  });

  it('an event into ALARM from INSUFFICIENT_DATA is a change into ALARM', async () => {
    await expect(route(alarmChange(HALT_ALARM, { from: 'INSUFFICIENT_DATA' }))).resolves.toMatchObject({ decision: 'halt-started' });
  });
});

describe('route-alarm-event: notify alarms and automation settings', () => {
  it('a notify alarm only pages', async () => {
    const result = await route(alarmChange(NOTIFY_ALARM));

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: NOTIFY_ALARM, decision: 'notified', why: 'notify-only alarm' });
    expect(theRecord()).toMatchObject({ subject: 'fleet', reason: 'notify-only alarm', after: { decision: 'notified', alarm: NOTIFY_ALARM, kind: 'notify' } });
    expectPaged(NOTIFY_ALARM, 'notified', 'notify-only alarm');
    expect(writes()).toEqual([AUDIT_FLEET, PAGE]);
    expectNoAction();
  });

  describe.each([
    { alarm: HALT_ALARM, kind: 'halt', subject: 'fleet', would: 'halt trading' },
    { alarm: ROLLBACK_ALARM, kind: 'rollback', subject: 'order-gateway', would: 'roll back order-gateway' },
  ])('$kind alarm', ({ alarm, kind, subject, would }) => {
    it("automation 'notify-only' suppresses the action and pages instead", async () => {
      withGuardRails({ automation: 'notify-only' });

      const result = await route(alarmChange(alarm));

      const why = `automation is notify-only: would ${would}`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'suppressed', why });
      expect(theRecord()).toMatchObject({ subject, reason: why, after: { decision: 'suppressed', alarm, kind } });
      expectPaged(alarm, 'suppressed', why);
      expect(writes()).toEqual([`dynamodb PutItem audit subject#${subject}`, PAGE]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
      expect(ddb).not.toHaveReceivedCommand(GetItemCommand);
    });

    it('dryRun records what would have been done, and does nothing', async () => {
      withGuardRails({ dryRun: true });

      const result = await route(alarmChange(alarm));

      const why = `dry run: would ${would}`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: alarm, decision: 'dry-run', why });
      expect(theRecord()).toMatchObject({ subject, reason: why, after: { decision: 'dry-run', alarm, kind } });
      expectPaged(alarm, 'dry-run', why);
      expect(writes()).toEqual([`dynamodb PutItem audit subject#${subject}`, PAGE]);
      expectNoAction();
      expect(ssm).not.toHaveReceivedAnyCommand();
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it("'notify-only' takes precedence over dryRun", async () => {
      withGuardRails({ automation: 'notify-only', dryRun: true });

      await expect(route(alarmChange(alarm))).resolves.toMatchObject({ decision: 'suppressed' });
      expectNoAction();
    });
  });

  it('a notify alarm is still only a page under notify-only and dry run', async () => {
    withGuardRails({ automation: 'notify-only', dryRun: true });

    await expect(route(alarmChange(NOTIFY_ALARM))).resolves.toMatchObject({ decision: 'notified' });
    expect(writes()).toEqual([AUDIT_FLEET, PAGE]);
  });
});

describe('route-alarm-event: halt alarms', () => {
  const haltReason = `${HALT_ALARM}: ${STATE_REASON}`;

  it('sets the halt flag as the very first write, then claims the event, then starts the halt workflow', async () => {
    const result = await route(alarmChange(HALT_ALARM));

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: HALT_ALARM, decision: 'halt-started', why: `halt ${HALT_ID}: ${haltReason}`, executionArn: HALT_EXECUTION_ARN });
    expect(writes()).toEqual([HALT_FLAG_WRITE, EVENT_CLAIM, `sfn StartExecution assure-prod-halt ${EXECUTION_NAME}`, AUDIT_FLEET, PAGE]);
    // Belt and braces on the invariant itself: the flag precedes every other write of any client.
    const [flagWrite] = ssm.commandCalls(PutParameterCommand);
    const others = [...ddb.commandCalls(PutItemCommand), ...ddb.commandCalls(UpdateItemCommand), ...sns.commandCalls(PublishCommand), ...sfn.commandCalls(StartExecutionCommand)];
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) expect(flagWrite?.calledBefore(other)).toBe(true);
  });

  it('writes the flag as a halt of every trading service, from this alarm, by assure', async () => {
    await route(alarmChange(HALT_ALARM));

    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    const input = ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Name: testConfig.haltParameterName, Type: 'String', Overwrite: true });
    expect(JSON.parse(input?.Value ?? '')).toEqual({
      halted: true,
      haltId: HALT_ID,
      reason: haltReason,
      source: `alarm:${HALT_ALARM}`,
      actor: 'assure',
      at: NOW.toISOString(),
      services: TRADING_SERVICES,
    });
  });

  it('claims the event once and starts the halt state machine named after the event, with the halt as input', async () => {
    await route(alarmChange(HALT_ALARM));

    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: marshall({ pk: `once#event#${EVENT_ID}`, alarm: HALT_ALARM, claimId: EVENT_ID, at: NOW.toISOString(), expiresAt: NOW_SECONDS + 30 * 86_400 }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: testConfig.stateMachineArns.halt, name: EXECUTION_NAME });
    expect(JSON.parse(input?.input ?? '')).toEqual({ haltId: HALT_ID, reason: haltReason, source: `alarm:${HALT_ALARM}`, actor: 'assure', services: TRADING_SERVICES });
  });

  it('records the halt against the execution and pages with the execution', async () => {
    await route(alarmChange(HALT_ALARM));

    expect(theRecord()).toMatchObject({
      subject: 'fleet',
      executionId: HALT_EXECUTION_ARN,
      sk: `${NOW.toISOString()}#${EXECUTION_NAME}#alarm.route#outcome`,
      reason: `halt ${HALT_ID}: ${haltReason}`,
      after: { decision: 'halt-started', alarm: HALT_ALARM, kind: 'halt' },
    });
    expectPaged(HALT_ALARM, 'halt-started', `\n\nEvent ${EVENT_ID}\nExecution ${HALT_EXECUTION_ARN}`);
  });

  it("halts only the services a halt alarm names", async () => {
    const halt = deps.fleet.halt;
    if (!halt) throw new Error('the example fleet has a halt policy');
    deps = { ...deps, fleet: { ...deps.fleet, halt: { ...halt, alarms: halt.alarms.map((a) => (a.name === HALT_ALARM ? { ...a, services: ['order-gateway'] } : a)) } } };

    await route(alarmChange(HALT_ALARM));

    expect(JSON.parse(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.Value ?? '')).toMatchObject({ services: ['order-gateway'] });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '')).toMatchObject({ services: ['order-gateway'] });
  });

  it('overwrites a flag it cannot read (fails closed) and halts', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: testConfig.haltParameterName, Value: 'not json', Type: 'String' } });

    await expect(route(alarmChange(HALT_ALARM))).resolves.toMatchObject({ decision: 'halt-started' });
    expect(writes()[0]).toBe(HALT_FLAG_WRITE);
  });

  it('when the flag cannot be set, nothing else is written and the error goes back to EventBridge', async () => {
    const failure = new AwsTransientError('SSM.PutParameter', 'ThrottlingException', 'Rate exceeded');
    ssm.on(PutParameterCommand).rejects(failure);

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBe(failure);
    expect(writes()).toEqual([HALT_FLAG_WRITE]);
  });

  it('a second delivery of the same event (its claim taken) is a duplicate: no second flag write, no second execution, no page', async () => {
    stubHaltFlag({ halted: true, haltId: HALT_ID, reason: haltReason, source: `alarm:${HALT_ALARM}`, actor: 'assure', at: NOW.toISOString() });
    stubClaimTaken(`once#event#${EVENT_ID}`);

    const result = await route(alarmChange(HALT_ALARM));

    expect(result).toEqual({ eventId: EVENT_ID, alarmName: HALT_ALARM, decision: 'duplicate', why: `this event already started halt ${HALT_ID}` });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(theRecord()).toMatchObject({ reason: `this event already started halt ${HALT_ID}`, after: { decision: 'duplicate' } });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(writes()).toEqual([EVENT_CLAIM, AUDIT_FLEET]);
  });

  it('delivered twice in a row, the event starts one halt', async () => {
    new SimulatedStateTable(ddb);
    const flag = statefulHaltFlag();

    const first = await route(alarmChange(HALT_ALARM));
    const second = await route(alarmChange(HALT_ALARM));

    expect([first.decision, second.decision]).toEqual(['halt-started', 'duplicate']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(flag.flag()).toMatchObject({ halted: true, haltId: HALT_ID });
    expect(pages()).toHaveLength(1);
  });

  it('delivered twice at once, the event starts one halt', async () => {
    new SimulatedStateTable(ddb);
    statefulHaltFlag();

    const results = await Promise.all([route(alarmChange(HALT_ALARM)), route(alarmChange(HALT_ALARM))]);

    expect(results.map((r) => r.decision).sort()).toEqual(['duplicate', 'halt-started']);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('when trading is already halted by another halt, leaves the flag and starts nothing', async () => {
    stubHaltFlag({ halted: true, haltId: 'halt-20250705-0f9e8d7c', reason: 'risk desk: manual halt', source: 'cli', actor: 'head-of-trading', at: '2025-07-05T12:01:00.000Z' });

    const result = await route(alarmChange(HALT_ALARM));

    const why = 'trading is already halted (halt-20250705-0f9e8d7c: risk desk: manual halt)';
    expect(result).toEqual({ eventId: EVENT_ID, alarmName: HALT_ALARM, decision: 'already-halted', why });
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(theRecord()).toMatchObject({ reason: why, after: { decision: 'already-halted', kind: 'halt' } });
    expectPaged(HALT_ALARM, 'already-halted', why);
    expect(writes()).toEqual([AUDIT_FLEET, PAGE]);
  });

  it('a name already used by another input (ExecutionAlreadyExists) is a duplicate; the claim stays', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));

    await expect(route(alarmChange(HALT_ALARM))).resolves.toMatchObject({ decision: 'duplicate', why: `this event already started halt ${HALT_ID}` });
    expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
  });

  it.each([
    ['AwsTransientError', transient],
    ['ThrottlingException', throttled],
  ])('when StartExecution fails with %s, gives the event claim back and rethrows; the flag stays set', async (_label, error) => {
    const failure = error();
    sfn.on(StartExecutionCommand).rejects(failure);

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBe(failure);

    expect(writes()).toEqual([HALT_FLAG_WRITE, EVENT_CLAIM, `sfn StartExecution assure-prod-halt ${EXECUTION_NAME}`, `dynamodb DeleteItem state once#event#${EVENT_ID}`]);
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: `once#event#${EVENT_ID}` }),
      ConditionExpression: 'claimId = :claimId',
      ExpressionAttributeValues: marshall({ ':claimId': EVENT_ID }),
    });
  });

  it("EventBridge's retry after a failed StartExecution is not refused by the first attempt's claim", async () => {
    const table = new SimulatedStateTable(ddb);
    const flag = statefulHaltFlag();
    sfn.on(StartExecutionCommand).rejectsOnce(transient()).resolves({ executionArn: HALT_EXECUTION_ARN, startDate: new Date() });

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBeInstanceOf(AwsTransientError);
    expect(await table.item(`once#event#${EVENT_ID}`)).toBeUndefined();
    const retried = await route(alarmChange(HALT_ALARM));

    expect(retried).toMatchObject({ decision: 'halt-started', executionArn: HALT_EXECUTION_ARN });
    expect(ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(flag.flag()).toMatchObject({ haltId: HALT_ID });
    expect(await table.item(`once#event#${EVENT_ID}`)).toMatchObject({ claimId: EVENT_ID });
  });

  it('reports a claim it cannot give back, and still rethrows the original error', async () => {
    const failure = transient();
    sfn.on(StartExecutionCommand).rejects(failure);
    const releaseError = new AwsTransientError('DynamoDB.DeleteItem', 'ThrottlingException', 'Rate exceeded');
    ddb.on(DeleteItemCommand).rejects(releaseError);
    const logged = vi.spyOn(deps.logger, 'error');

    await expect(route(alarmChange(HALT_ALARM))).rejects.toBe(failure);

    expect(logged).toHaveBeenCalledWith(expect.stringContaining('Could not release a guard-rail claim'), { claim: `once#event#${EVENT_ID}`, error: releaseError });
  });

  // A halt id is used once: a redelivered event of a halt since resumed must not flag trading halted again.
  it('a redelivered event whose halt was since resumed does not set the flag again', async () => {
    stubHaltFlag({ halted: false, lastHaltId: HALT_ID, clearedBy: 'head-of-trading', at: '2025-07-05T12:23:00.000Z' });
    stubClaimTaken(`once#event#${EVENT_ID}`);

    const result = await route(alarmChange(HALT_ALARM));

    expect(result.decision).toBe('duplicate');
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });
});

describe('route-alarm-event: rollback alarms', () => {
  const rollbackReason = `${ROLLBACK_ALARM}: ${STATE_REASON}`;

  it('claims the event, a cooldown, the deployment and a unit of budget, then starts the rollback named after the event', async () => {
    const result = await route(alarmChange(ROLLBACK_ALARM));

    expect(result).toEqual({
      eventId: EVENT_ID,
      alarmName: ROLLBACK_ALARM,
      decision: 'rollback-started',
      why: `rolling back order-gateway: ${rollbackReason}`,
      executionArn: ROLLBACK_EXECUTION_ARN,
    });
    expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, DEPLOYMENT_CLAIM, BUDGET_CLAIM, `sfn StartExecution assure-prod-rollback ${EXECUTION_NAME}`, AUDIT_ORDER_GATEWAY, PAGE]);
    expect(ssm).not.toHaveReceivedAnyCommand();
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: testConfig.stateMachineArns.rollback, name: EXECUTION_NAME });
    expect(JSON.parse(input?.input ?? '')).toEqual({ service: 'order-gateway', reason: rollbackReason, source: `alarm:${ROLLBACK_ALARM}`, requestedBy: 'assure' });
  });

  it('looks for a soak and a deploy lock with consistent reads, and finds the PRIMARY deployment in ECS', async () => {
    await route(alarmChange(ROLLBACK_ALARM));

    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: 'soak#order-gateway' } }, ConsistentRead: true });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: testConfig.lockTableName, Key: { pk: { S: 'service#order-gateway' } }, ConsistentRead: true });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: ['order-gateway'] });
  });

  it("takes the guard-rail claims with the fleet's cooldown and budget, all under the event id", async () => {
    await route(alarmChange(ROLLBACK_ALARM));

    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: marshall({ pk: 'cooldown#rollback#order-gateway', alarm: ROLLBACK_ALARM, claimId: EVENT_ID, until: '2025-07-05T12:35:30.000Z', expiresAt: NOW_SECONDS + 900 }),
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
    });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: testConfig.stateTableName,
      Item: marshall({ pk: `once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`, alarm: ROLLBACK_ALARM, claimId: EVENT_ID, at: NOW.toISOString(), expiresAt: NOW_SECONDS + 30 * 86_400 }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: testConfig.stateTableName,
      Key: marshall({ pk: 'budget#2025-07-05T12' }),
      ExpressionAttributeValues: marshall({ ':one': 1, ':max': 6, ':expires': NOW_SECONDS + 3 * 3600 }),
    });
  });

  it('records the rollback against its execution and pages with it', async () => {
    await route(alarmChange(ROLLBACK_ALARM));

    expect(theRecord()).toMatchObject({
      pk: 'subject#order-gateway',
      subject: 'order-gateway',
      executionId: ROLLBACK_EXECUTION_ARN,
      reason: `rolling back order-gateway: ${rollbackReason}`,
      after: { decision: 'rollback-started', alarm: ROLLBACK_ALARM, kind: 'rollback' },
    });
    expectPaged(ROLLBACK_ALARM, 'rollback-started', `Execution ${ROLLBACK_EXECUTION_ARN}`);
  });

  it.each([
    ['prod-order-gateway-latency-p99', 'order-gateway'],
    ['prod-market-data-latency-p99', 'market-data'],
    ['prod-web-gui-error-rate', 'web-gui'],
  ])('%s rolls back %s', async (alarm, service) => {
    const result = await route(alarmChange(alarm));

    expect(result).toMatchObject({ decision: 'rollback-started', why: expect.stringContaining(`rolling back ${service}: `) });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'trading-prod', services: [service] });
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: `soak#${service}` } } });
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, { TableName: testConfig.stateTableName, Item: expect.objectContaining({ pk: { S: `cooldown#rollback#${service}` } }) });
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '')).toMatchObject({ service, source: `alarm:${alarm}` });
    expect(theRecord()).toMatchObject({ subject: service });
  });

  describe('a deploy of the service in progress', () => {
    it('ends a waiting soak with RollbackAlarmFiredError and leaves the rollback to the deploy, quietly', async () => {
      stubSoakWaiting();

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = "ended the soak of order-gateway's deploy; it rolls itself back";
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'delegated-to-deploy', why });
      expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
      expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
        taskToken: SOAK_TOKEN,
        error: 'RollbackAlarmFiredError',
        cause: `${ROLLBACK_ALARM} went into ALARM at ${STATE_TIMESTAMP}: ${STATE_REASON}`,
      });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
      expect(writes()).toEqual([EVENT_CLAIM, 'sfn SendTaskFailure task', AUDIT_ORDER_GATEWAY]);
      expect(theRecord()).toMatchObject({ reason: why, after: { decision: 'delegated-to-deploy' } });
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it('a soak that already closed (TaskTimedOut) does not stop the rollback', async () => {
      stubSoakWaiting();
      sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } }));

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });

    it('a callback item without a task token is no soak', async () => {
      ddb
        .on(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: 'soak#order-gateway' } } })
        .resolves({ Item: marshall({ pk: 'soak#order-gateway', expiresAt: NOW_SECONDS + 3600 }) });

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
      expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    });

    it('when the soak cannot be ended, gives the event claim back and rethrows', async () => {
      stubSoakWaiting();
      const failure = new AwsTransientError('SFN.SendTaskFailure', 'ThrottlingException', 'Rate exceeded');
      sfn.on(SendTaskFailureCommand).rejects(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);
      expect(writes()).toEqual([EVENT_CLAIM, 'sfn SendTaskFailure task', `dynamodb DeleteItem state once#event#${EVENT_ID}`]);
    });

    it('a deploy still rolling out (it holds the lock) is left to ECS deployment alarms and the health gate', async () => {
      stubLock(DEPLOY_EXECUTION_ARN, NOW_SECONDS + 600);

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = `order-gateway is being deployed (${DEPLOY_EXECUTION_ARN}): ECS deployment alarms and the health gate handle it`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'left-to-ecs', why });
      expect(writes()).toEqual([EVENT_CLAIM, AUDIT_ORDER_GATEWAY, PAGE]);
      expectPaged(ROLLBACK_ALARM, 'left-to-ecs', why);
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it('a deploy lock whose lease has run out does not hold the rollback back', async () => {
      stubLock(DEPLOY_EXECUTION_ARN, NOW_SECONDS - 1);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
    });

    it('a lock held by something other than a deploy execution does not hold the rollback back', async () => {
      stubLock(`arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-rollback:manual-1`, NOW_SECONDS + 600);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
    });
  });

  describe('guard rails', () => {
    it('a service in its cooldown: suppressed and paged', async () => {
      stubClaimTaken('cooldown#rollback#order-gateway');

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = 'order-gateway is in its 15-minute cooldown after an automatic action';
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'suppressed', why });
      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, AUDIT_ORDER_GATEWAY, PAGE]);
      expectPaged(ROLLBACK_ALARM, 'suppressed', why);
      expect(sfn).not.toHaveReceivedAnyCommand();
      expect(ecs).not.toHaveReceivedAnyCommand();
    });

    it('a deployment already rolled back automatically once: suppressed and paged', async () => {
      stubClaimTaken(`once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`);

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = `deployment ${DEPLOYMENT_ID} of order-gateway was already rolled back automatically once`;
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'suppressed', why });
      // The cooldown claimed for an action that did not happen is given back.
      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, DEPLOYMENT_CLAIM, 'dynamodb DeleteItem state cooldown#rollback#order-gateway', AUDIT_ORDER_GATEWAY, PAGE]);
      expectPaged(ROLLBACK_ALARM, 'suppressed', why);
      expect(sfn).not.toHaveReceivedAnyCommand();
    });

    it("the hour's budget spent: suppressed, and a human is paged", async () => {
      ddb.on(UpdateItemCommand, { TableName: testConfig.stateTableName }).rejects(conditionFailed());

      const result = await route(alarmChange(ROLLBACK_ALARM));

      const why = 'the budget of 6 automatic actions this hour is spent: a human must decide';
      expect(result).toEqual({ eventId: EVENT_ID, alarmName: ROLLBACK_ALARM, decision: 'suppressed', why });
      expect(writes()).toEqual([
        EVENT_CLAIM,
        COOLDOWN_CLAIM,
        DEPLOYMENT_CLAIM,
        BUDGET_CLAIM,
        // Given back, newest first: the deployment keeps its one automatic rollback, the service no cooldown.
        `dynamodb DeleteItem state once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`,
        'dynamodb DeleteItem state cooldown#rollback#order-gateway',
        AUDIT_ORDER_GATEWAY,
        PAGE,
      ]);
      expect(theRecord()).toMatchObject({ reason: why, after: { decision: 'suppressed', kind: 'rollback' } });
      expectPaged(ROLLBACK_ALARM, 'suppressed', why);
      expect(sfn).not.toHaveReceivedAnyCommand();
    });

    it('an event already routed is a duplicate: nothing read, nothing done, nobody paged', async () => {
      stubClaimTaken(`once#event#${EVENT_ID}`);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toEqual({
        eventId: EVENT_ID,
        alarmName: ROLLBACK_ALARM,
        decision: 'duplicate',
        why: 'this event was already routed',
      });
      expect(writes()).toEqual([EVENT_CLAIM, AUDIT_ORDER_GATEWAY]);
      expect(ddb).not.toHaveReceivedCommand(GetItemCommand);
      expect(sfn).not.toHaveReceivedAnyCommand();
    });

    it('a name already used by another input (ExecutionAlreadyExists) is a duplicate, not paged', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: { httpStatusCode: 400 } }));

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'duplicate', why: 'this event already started a rollback' });
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
      expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
    });

    it('another event within the cooldown is suppressed (against DynamoDB semantics)', async () => {
      new SimulatedStateTable(ddb);

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started' });
      vi.setSystemTime(new Date('2025-07-05T12:30:30.000Z'));
      const later = await route(alarmChange('prod-order-gateway-latency-p99', { id: 'later-event', time: '2025-07-05T12:30:00Z' }));

      expect(later).toMatchObject({ decision: 'suppressed', why: expect.stringContaining('cooldown') });
      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    });
  });

  describe('giving claims back when the rollback fails to start', () => {
    const released = [
      'dynamodb UpdateItem state budget#2025-07-05T12',
      `dynamodb DeleteItem state once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`,
      'dynamodb DeleteItem state cooldown#rollback#order-gateway',
      `dynamodb DeleteItem state once#event#${EVENT_ID}`,
    ];

    it.each([
      ['AwsTransientError', transient],
      ['ThrottlingException', throttled],
    ])('StartExecution failing with %s: rethrown, every claim released newest first, nothing recorded', async (_label, error) => {
      const failure = error();
      sfn.on(StartExecutionCommand).rejects(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);

      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, DEPLOYMENT_CLAIM, BUDGET_CLAIM, `sfn StartExecution assure-prod-rollback ${EXECUTION_NAME}`, ...released]);
      for (const pk of [`once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`, 'cooldown#rollback#order-gateway', `once#event#${EVENT_ID}`]) {
        expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, {
          TableName: testConfig.stateTableName,
          Key: marshall({ pk }),
          ConditionExpression: 'claimId = :claimId',
          ExpressionAttributeValues: marshall({ ':claimId': EVENT_ID }),
        });
      }
      expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
        TableName: testConfig.stateTableName,
        Key: marshall({ pk: 'budget#2025-07-05T12' }),
        UpdateExpression: 'ADD used :minusOne',
        ConditionExpression: 'used > :zero',
        ExpressionAttributeValues: marshall({ ':minusOne': -1, ':zero': 0 }),
      });
      expect(auditRecords(ddb)).toEqual([]);
      expect(sns).not.toHaveReceivedCommand(PublishCommand);
    });

    it('DescribeServices failing: the event and cooldown claims are given back', async () => {
      const failure = new AwsTransientError('ECS.DescribeServices', 'ThrottlingException', 'Rate exceeded');
      ecs.on(DescribeServicesCommand).rejects(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);
      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, 'dynamodb DeleteItem state cooldown#rollback#order-gateway', `dynamodb DeleteItem state once#event#${EVENT_ID}`]);
    });

    it('the budget claim failing: the claims before it are given back', async () => {
      const failure = new AwsTransientError('DynamoDB.UpdateItem', 'ProvisionedThroughputExceededException', 'Throughput exceeded');
      ddb.on(UpdateItemCommand, { TableName: testConfig.stateTableName }).rejectsOnce(failure);

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);
      expect(writes()).toEqual([EVENT_CLAIM, COOLDOWN_CLAIM, DEPLOYMENT_CLAIM, BUDGET_CLAIM, ...released.slice(1)]);
    });

    it('a claim that cannot be given back is reported; the others are still released and the original error rethrown', async () => {
      const failure = transient();
      sfn.on(StartExecutionCommand).rejects(failure);
      const releaseError = new AwsTransientError('DynamoDB.DeleteItem', 'ThrottlingException', 'Rate exceeded');
      ddb.on(DeleteItemCommand, { Key: { pk: { S: 'cooldown#rollback#order-gateway' } } }).rejects(releaseError);
      const logged = vi.spyOn(deps.logger, 'error');

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBe(failure);

      expect(writes().slice(-4)).toEqual(released);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('Could not release a guard-rail claim'), { claim: 'cooldown#rollback#order-gateway', error: releaseError });
    });

    it("EventBridge's retry is not refused by the first attempt's claims (against DynamoDB semantics)", async () => {
      const table = new SimulatedStateTable(ddb);
      sfn.on(StartExecutionCommand).rejectsOnce(transient()).resolves({ executionArn: ROLLBACK_EXECUTION_ARN, startDate: new Date() });

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBeInstanceOf(AwsTransientError);
      expect(await table.item('cooldown#rollback#order-gateway')).toBeUndefined();
      expect(await table.item('budget#2025-07-05T12')).toMatchObject({ used: 0 });

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'rollback-started', executionArn: ROLLBACK_EXECUTION_ARN });
      expect(await table.item('budget#2025-07-05T12')).toMatchObject({ used: 1 });
      expect(await table.item('cooldown#rollback#order-gateway')).toMatchObject({ claimId: EVENT_ID });
    });
  });

  describe('guard-rail bookkeeping', () => {
    // The audit write and the page come after the start: when they fail, the running rollback still counts against the guard rails.
    it('a page that fails after the rollback started does not give the guard-rail claims back', async () => {
      sns.on(PublishCommand).rejects(new AwsTransientError('SNS.Publish', 'ThrottlingException', 'Rate exceeded'));

      await expect(route(alarmChange(ROLLBACK_ALARM))).rejects.toBeInstanceOf(AwsTransientError);

      expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
      expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
      expect(ddb).not.toHaveReceivedCommandWith(UpdateItemCommand, { UpdateExpression: 'ADD used :minusOne' });
    });

    // Claims refused further down are given back: a suppressed rollback must not use up the deployment's one
    // automatic rollback nor start a cooldown "after an automatic action" that never happened.
    it('a rollback suppressed by the budget does not use up the deployment’s automatic rollback', async () => {
      const table = new SimulatedStateTable(ddb);
      await table.put({ pk: 'budget#2025-07-05T12', used: 6, expiresAt: NOW_SECONDS + 3 * 3600 });
      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'suppressed', why: expect.stringContaining('budget') });

      // The next hour, past the cooldown: a fresh budget, the same deployment, a new alarm event.
      vi.setSystemTime(new Date('2025-07-05T13:40:30.000Z'));
      const later = await route(alarmChange(ROLLBACK_ALARM, { id: 'next-hour-event', time: '2025-07-05T13:40:00Z' }));

      expect(later).toMatchObject({ decision: 'rollback-started' });
    });

    // maxAutomatedActionsPerHour: 0 (allowed by the fleet schema) means no automatic rollbacks.
    it('a budget of 0 automatic actions an hour starts no rollback', async () => {
      new SimulatedStateTable(ddb);
      withGuardRails({ maxAutomatedActionsPerHour: 0 });

      await expect(route(alarmChange(ROLLBACK_ALARM))).resolves.toMatchObject({ decision: 'suppressed' });
      expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    });
  });
});

describe('route-alarm-event: scaling alarms', () => {
  const SCALE_ALARM = 'prod-order-gateway-cpu-high';
  const SCALE_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-scale:${EXECUTION_NAME}`;
  /** The alarm's state as CloudWatch writes it: the reason and the reasonData the breach is read from. */
  const scaleChange = (reasonData?: string): CloudWatchAlarmStateChange => {
    const event = alarmChange(SCALE_ALARM);
    const { reasonData: _documented, ...state } = event.detail.state;
    return { ...event, detail: { ...event.detail, state: { ...state, ...(reasonData === undefined ? {} : { reasonData }) } } };
  };
  const startInput = (): Record<string, unknown> => JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}') as Record<string, unknown>;

  it('claims the event and starts the scale state machine named after the event, with the breach from reasonData', async () => {
    const result = await route(scaleChange(JSON.stringify({ version: '1.0', recentDatapoints: [86, 84], threshold: 70 })));

    expect(result).toMatchObject({ eventId: EVENT_ID, alarmName: SCALE_ALARM, decision: 'scale-started', executionArn: SCALE_EXECUTION_ARN });
    expect(result.why).toContain('scale-out order-gateway (breach 15)');
    expect(startInput()).toEqual({
      service: 'order-gateway',
      alarm: SCALE_ALARM,
      direction: 'scale-out',
      breach: 15,
      source: `alarm:${SCALE_ALARM}`,
      requestedBy: 'assure',
      reason: `${SCALE_ALARM}: ${STATE_REASON}`,
      eventId: EVENT_ID,
    });
    // Routine: recorded against the service, not paged (the scale workflow pages what a person must know).
    expect(writes()).toEqual([EVENT_CLAIM, `sfn StartExecution assure-prod-scale ${EXECUTION_NAME}`, AUDIT_ORDER_GATEWAY]);
    expect(theRecord()).toMatchObject({ subject: 'order-gateway', after: { decision: 'scale-started', alarm: SCALE_ALARM, kind: 'scale' } });
    expect(ssm).not.toHaveReceivedAnyCommand();
  });

  it('without reasonData the breach is left out (the workflow takes the mildest step)', async () => {
    await route(scaleChange());
    expect(startInput()).not.toHaveProperty('breach');
  });

  it('a duplicate delivery (its claim taken) starts nothing and pages nobody', async () => {
    stubClaimTaken(`once#event#${EVENT_ID}`);
    await expect(route(scaleChange())).resolves.toMatchObject({ decision: 'duplicate' });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  it("gives the event claim back when StartExecution fails, so EventBridge's retry can start it", async () => {
    sfn.on(StartExecutionCommand).rejects(transient());
    await expect(route(scaleChange())).rejects.toThrow(AwsTransientError);
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, { TableName: testConfig.stateTableName, Key: { pk: { S: `once#event#${EVENT_ID}` } } });
  });

  it.each([
    [{ automation: 'notify-only' as const }, 'suppressed', 'automation is notify-only: would scale-out order-gateway'],
    [{ dryRun: true }, 'dry-run', 'dry run: would scale-out order-gateway'],
  ])('%o: nothing started, recorded and paged', async (guardRails, decision, why) => {
    withGuardRails(guardRails);
    await expect(route(scaleChange())).resolves.toEqual({ eventId: EVENT_ID, alarmName: SCALE_ALARM, decision, why });
    expectNoAction();
    expect(writes()).toEqual([AUDIT_ORDER_GATEWAY, PAGE]);
  });

  it('a change out of ALARM, or INSUFFICIENT_DATA, is refused like any other alarm', async () => {
    await expect(route(alarmChange(SCALE_ALARM, { from: 'ALARM', to: 'OK' }))).resolves.toMatchObject({ decision: 'rejected' });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
