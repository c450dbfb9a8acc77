/**
 * What the route-alarm-event tests share: the event and its ids, the stubbed clients,
 * the builders of a documented alarm state change, and `writes()`, every write the
 * router attempted, in order.
 */
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
import type { ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskFailureCommand, type SFNClient, SFNServiceException, StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type PutParameterCommandInput, type SSMClient } from '@aws-sdk/client-ssm';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { routeAlarmEvent, type RoutingDecision, type RoutingResult } from '../../../../functions/route-alarm-event/core';
import { type CloudWatchAlarmStateChange, cloudWatchAlarmStateChangeSchema } from '../../../../functions/shared/domain/aws-events';
import { AwsTransientError } from '../../../../functions/shared/runtime/errors';
import type { Fleet } from '../../../../lib/fleet/fleet';
import { testConfig, testDeps, type TestDeps } from '../../../support/handler-deps';
import { ACCOUNT, auditRecords, buildDeployment, buildService, NEW_REVISION_ARN, type StoredAuditRecord, stubDescribeServices } from '../builders';

export const NOW = new Date('2025-07-05T12:20:30.000Z');
export const NOW_SECONDS = NOW.getTime() / 1000;
export const EVENT_ID = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92';
export const EVENT_TIME = '2025-07-05T12:20:00Z';
export const STATE_TIMESTAMP = '2025-07-05T12:20:00.000+0000';
export const STATE_REASON = 'Threshold Crossed: 2 out of the last 2 datapoints [4.2, 3.9] were greater than the threshold (1.0).';

export const HALT_ALARM = 'prod-daily-loss-limit';
export const ROLLBACK_ALARM = 'prod-order-gateway-error-rate';
export const NOTIFY_ALARM = 'prod-position-service-lag';
export const HALT_ID = 'halt-20250705-c4c1c1c9';
export const EXECUTION_NAME = `alarm-${EVENT_ID}`;
export const HALT_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-halt:${EXECUTION_NAME}`;
export const ROLLBACK_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-rollback:${EXECUTION_NAME}`;
export const DEPLOY_EXECUTION_ARN = `arn:aws:states:eu-west-2:${ACCOUNT}:execution:assure-prod-deploy:order-gateway-2-4-0`;
/** The example fleet's trading services in deploy order: whom a halt alarm without `services` halts. */
export const TRADING_SERVICES = ['market-data', 'risk-engine', 'order-gateway'];
export const DEPLOYMENT_ID = 'ecs-svc/2222222222222222222';
export const SOAK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAccc-soak';
const PAGING_TOPIC = 'assure-prod-paging';

/** AWS's documented example alarm state change. */
export const documented = cloudWatchAlarmStateChangeSchema.parse(
  JSON.parse(readFileSync(new URL('../../../fixtures/aws-events/cloudwatch-alarm-state-change.json', import.meta.url), 'utf8')),
);

type StateValue = CloudWatchAlarmStateChange['detail']['state']['value'];
type Envelope = Partial<Pick<CloudWatchAlarmStateChange, 'id' | 'time' | 'account' | 'region' | 'replay-name'>>;

/** The documented event, adapted to the example fleet's account and region: `alarmName` went from `from` to `to` 30 s ago. */
export function alarmChange(
  alarmName: string,
  { from = 'OK', to = 'ALARM', ...envelope }: { from?: StateValue; to?: StateValue } & Envelope = {},
): CloudWatchAlarmStateChange {
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

// Reassigned before each test (useRouteAlarmStubs); imports of these bindings are live, so tests see the current ones.
export let deps: TestDeps;
export let ddb: AwsClientStub<DynamoDBClient>;
export let sfn: AwsClientStub<SFNClient>;
export let sns: AwsClientStub<SNSClient>;
export let ssm: AwsClientStub<SSMClient>;
export let ecs: AwsClientStub<ECSClient>;

export const conditionFailed = (): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
const parameterNotFound = (): ParameterNotFound =>
  new ParameterNotFound({ message: 'Parameter /assure/prod/halt not found.', $metadata: { httpStatusCode: 400 } });
/** What the production SFN client throws on throttling (its transient-error middleware maps it). */
export const transient = (): AwsTransientError => new AwsTransientError('SFN.StartExecution', 'ThrottlingException', 'Rate exceeded');
/** The raw SDK error, as a client without that middleware would throw it. */
export const throttled = (): SFNServiceException =>
  new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

/** Each test starts with Date at NOW and every client stubbed with generic answers; call once at the top of each test file. */
export function useRouteAlarmStubs(): void {
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
      buildService([
        buildDeployment({ status: 'ACTIVE' }),
        buildDeployment({ id: DEPLOYMENT_ID, status: 'PRIMARY', taskDefinition: NEW_REVISION_ARN, rolloutState: 'COMPLETED' }),
      ]),
    );
  });

  afterEach(() => {
    vi.useRealTimers();
  });
}

export const route = (event: unknown): Promise<RoutingResult> => routeAlarmEvent.core(event, deps);

export function withGuardRails(changes: Partial<Fleet['guardRails']>): void {
  deps = { ...deps, fleet: { ...deps.fleet, guardRails: { ...deps.fleet.guardRails, ...changes } } };
}

/** Replaces the router's dependencies for the rest of the test (an imported binding cannot be assigned). */
export function setDeps(next: TestDeps): void {
  deps = next;
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

const WRITE_OPERATIONS = new Set([
  'PutParameter',
  'PutItem',
  'TransactWriteItems',
  'UpdateItem',
  'DeleteItem',
  'Publish',
  'StartExecution',
  'SendTaskFailure',
  'SendTaskSuccess',
]);

/** Tables by what they hold, so write labels read the same in any environment. */
const TABLE_LABELS: Readonly<Record<string, string>> = {
  [testConfig.auditTableName]: 'audit',
  [testConfig.stateTableName]: 'state',
  [testConfig.lockTableName]: 'locks',
  [testConfig.callbackTableName]: 'callbacks',
};

/** Every write the router attempted, across all clients in call order, as "<client> <operation> <target>". */
export function writes(): string[] {
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
      // An audit record is written in a transaction beside its chain link: label it by the record's Put.
      const transaction = (command.input as { TransactItems?: { Put?: CallInput }[] }).TransactItems;
      const input = (transaction?.[0]?.Put ?? command.input) as CallInput;
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

export const AUDIT_FLEET = 'dynamodb TransactWriteItems audit subject#fleet';
export const AUDIT_ORDER_GATEWAY = 'dynamodb TransactWriteItems audit subject#order-gateway';
export const PAGE = `sns Publish ${PAGING_TOPIC}`;
/** The claim that makes a page go out once per event, however often the event is delivered. */
export const PAGE_CLAIM = `dynamodb PutItem state once#page#${EVENT_ID}`;
/** The claim that lets an alarm page once per flap window. */
export const pageWindow = (alarmName: string): string => `dynamodb PutItem state page-window#alarm#${alarmName}`;
/** The writes of one page: the event's page claim, the alarm's flap window, the decision's record, the page. */
export const paged = (alarmName: string, audit: string = AUDIT_FLEET): string[] => [PAGE_CLAIM, pageWindow(alarmName), audit, PAGE];
export const HALT_FLAG_WRITE = `ssm PutParameter ${testConfig.haltParameterName}`;
export const EVENT_CLAIM = `dynamodb PutItem state once#event#${EVENT_ID}`;
export const COOLDOWN_CLAIM = 'dynamodb PutItem state cooldown#rollback#order-gateway';
export const DEPLOYMENT_CLAIM = `dynamodb PutItem state once#auto-rollback#order-gateway#${DEPLOYMENT_ID}`;
export const BUDGET_CLAIM = 'dynamodb UpdateItem state budget#2025-07-05T12';

/** The one audit record the router wrote. */
export function theRecord(): StoredAuditRecord {
  const records = auditRecords(ddb);
  expect(records).toHaveLength(1);
  return records[0] as StoredAuditRecord;
}

export function pages(): { TopicArn?: string; Subject?: string; Message?: string }[] {
  return sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
}

export function expectPaged(alarmName: string, decision: RoutingDecision, why: string): void {
  expect(pages()).toEqual([{ TopicArn: testConfig.pagingTopicArn, Subject: `[assure prod] ${alarmName}: ${decision}`, Message: expect.stringContaining(why) }]);
}

/** No halt flag write, no execution, no task completion, no guard-rail claim (the page's own claim aside). */
export function expectNoAction(): void {
  expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  expect(
    writes().filter(
      (w) =>
        w.startsWith(`dynamodb`) &&
        !w.startsWith('dynamodb TransactWriteItems audit ') &&
        !w.startsWith('dynamodb PutItem state once#page#') &&
        !w.startsWith('dynamodb PutItem state page-window#'),
    ),
  ).toEqual([]);
}

export const stubHaltFlag = (flag: Record<string, unknown>): void => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: testConfig.haltParameterName, Value: JSON.stringify(flag), Type: 'String' } });
};
export const stubClaimTaken = (pk: string): void => {
  ddb.on(PutItemCommand, { TableName: testConfig.stateTableName, Item: { pk: { S: pk } } }).rejects(conditionFailed());
};
export const stubSoakWaiting = (): void => {
  ddb
    .on(GetItemCommand, { TableName: testConfig.callbackTableName, Key: { pk: { S: 'soak#order-gateway' } } })
    .resolves({ Item: marshall({ pk: 'soak#order-gateway', taskToken: SOAK_TOKEN, executionId: DEPLOY_EXECUTION_ARN, deploymentId: DEPLOYMENT_ID }) });
};
export const stubLock = (owner: string, leaseExpiresAt: number): void => {
  ddb
    .on(GetItemCommand, { TableName: testConfig.lockTableName, Key: { pk: { S: 'service#order-gateway' } } })
    .resolves({ Item: marshall({ pk: 'service#order-gateway', owner, leaseExpiresAt, reason: 'release 2.4.0', requestedBy: 'alice@example.com' }) });
};

/** The SSM parameter as a store: GetParameter answers what PutParameter wrote. */
export function statefulHaltFlag(): { flag(): Record<string, unknown> | undefined } {
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
