/**
 * Small builders shared by the handler tests: a deploy plan and baseline for the
 * example fleet's order-gateway, ECS deployments and services, ECS events, the
 * audit records a handler wrote, and an in-memory model of the callback table.
 */
import { type CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  type Deployment,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  type ECSClient,
  ListTasksCommand,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { Mock } from 'vitest';
import type { AuditRecord } from '../../../functions/shared/domain/audit';
import { isChainLink } from '../../../functions/shared/domain/audit-chain';
import type { CloudWatchAlarmStateChange, EcsDeploymentStateChange } from '../../../functions/shared/domain/aws-events';
import type { DeployPlan, ServiceBaseline } from '../../../functions/shared/domain/deploy-plan';
import type { HttpClient, HttpResponse } from '../../../functions/shared/runtime/http';
import { type TestDeps, testConfig } from '../../support/handler-deps';

export const ACCOUNT = '111122223333';
export const CLUSTER = 'trading-prod';
export const REPOSITORY = `${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com/order-gateway`;
export const ORDER_GATEWAY_ALARMS = ['prod-order-gateway-error-rate', 'prod-order-gateway-latency-p99'] as const;

export const taskDefinitionArn = (revision: number, family = 'order-gateway'): string =>
  `arn:aws:ecs:eu-west-2:${ACCOUNT}:task-definition/${family}:${revision}`;
/** The revision the service ran before the deploy (the rollback target). */
export const PREVIOUS_REVISION_ARN = taskDefinitionArn(41);
/** The revision the deploy registered. */
export const NEW_REVISION_ARN = taskDefinitionArn(42);
export const SERVICE_ARN = `arn:aws:ecs:eu-west-2:${ACCOUNT}:service/${CLUSTER}/order-gateway`;

/** A deploy plan for order-gateway as validate-deploy-request resolves it from the example fleet. */
export function buildPlan(overrides: Partial<DeployPlan> = {}): DeployPlan {
  return {
    service: 'order-gateway',
    cluster: CLUSTER,
    ecsServiceName: 'order-gateway',
    container: 'order-gateway',
    image: `${REPOSITORY}:2.4.0`,
    requestedBy: 'alice@example.com',
    reason: 'release 2.4.0',
    rollbackAlarmNames: [...ORDER_GATEWAY_ALARMS],
    healthCheck: { http: { path: '/health/deep', port: 8080, timeoutMs: 2000 } },
    rolling: { maximumPercent: 200, minimumHealthyPercent: 100, healthCheckGracePeriodSeconds: 30 },
    strategy: { type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 },
    trafficShift: null,
    progressDeadlineSeconds: 1200,
    outcomeDeadlineSeconds: 1200,
    soakSeconds: 300,
    releaseId: null,
    lockLeaseSeconds: 3600,
    ...overrides,
  };
}

export function buildBaseline(overrides: Partial<ServiceBaseline> = {}): ServiceBaseline {
  return {
    serviceArn: SERVICE_ARN,
    deploymentId: 'ecs-svc/1111111111111111111',
    previousTaskDefinitionArn: PREVIOUS_REVISION_ARN,
    desiredCount: 4,
    ...overrides,
  };
}

/** An ECS deployment; by default the service's settled deployment of the previous revision. */
export function buildDeployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'ecs-svc/1111111111111111111',
    status: 'PRIMARY',
    taskDefinition: PREVIOUS_REVISION_ARN,
    rolloutState: 'COMPLETED',
    rolloutStateReason: 'ECS deployment ecs-svc/1111111111111111111 completed.',
    desiredCount: 4,
    runningCount: 4,
    pendingCount: 0,
    createdAt: new Date('2025-06-30T09:00:00.000Z'),
    updatedAt: new Date('2025-06-30T09:06:00.000Z'),
    ...overrides,
  };
}

export function buildService(deployments: Deployment[], overrides: Partial<Service> = {}): Service {
  return {
    serviceArn: SERVICE_ARN,
    serviceName: 'order-gateway',
    clusterArn: `arn:aws:ecs:eu-west-2:${ACCOUNT}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    desiredCount: 4,
    runningCount: 4,
    pendingCount: 0,
    deployments,
    ...overrides,
  };
}

/** Stubs DescribeServices to answer with these services (none: the service is MISSING). */
export function stubDescribeServices(ecs: AwsClientStub<ECSClient>, ...services: Service[]): void {
  ecs
    .on(DescribeServicesCommand)
    .resolves(services.length > 0 ? { services, failures: [] } : { services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] });
}

export function deploymentEvent(
  eventName: EcsDeploymentStateChange['detail']['eventName'],
  detail: Partial<EcsDeploymentStateChange['detail']> = {},
): EcsDeploymentStateChange {
  return {
    version: '0',
    id: 'ddca6449-b258-46c0-8653-e0e3a6d0468b',
    'detail-type': 'ECS Deployment State Change',
    source: 'aws.ecs',
    account: ACCOUNT,
    time: '2025-07-05T12:10:00Z',
    region: 'eu-west-2',
    resources: [SERVICE_ARN],
    detail: {
      eventType: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO',
      eventName,
      deploymentId: 'ecs-svc/2222222222222222222',
      updatedAt: '2025-07-05T12:10:00.000Z',
      reason: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ECS deployment circuit breaker: tasks failed to start.' : '',
      ...detail,
    },
  };
}

export function alarmEvent(alarmName: string, value: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): CloudWatchAlarmStateChange {
  const previous = value === 'ALARM' ? 'OK' : 'ALARM';
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: '2025-07-05T12:20:00Z',
    region: 'eu-west-2',
    resources: [`arn:aws:cloudwatch:eu-west-2:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value,
        reason: `Threshold Crossed: 2 datapoints were ${value === 'ALARM' ? 'greater' : 'not greater'} than the threshold (1.0).`,
        timestamp: '2025-07-05T12:20:00.000+0000',
      },
      previousState: { value: previous, reason: 'previous', timestamp: '2025-07-05T12:00:00.000+0000' },
    },
  };
}

export type StoredAuditRecord = AuditRecord & { readonly pk: string; readonly sk: string };

/** The audit records written to the audit table, in the order they were written (each in a transaction beside its chain link). */
export function auditRecords(ddb: AwsClientStub<DynamoDBClient>): StoredAuditRecord[] {
  return ddb
    .commandCalls(TransactWriteItemsCommand)
    .flatMap((call) => call.args[0].input.TransactItems ?? [])
    .map((item) => item.Put)
    .filter((put) => put?.TableName === testConfig.auditTableName)
    .map((put) => unmarshall(put?.Item ?? {}))
    .filter((item) => !isChainLink(item)) as StoredAuditRecord[];
}

/** The audit record transactions (record + chain link), in the order they were sent. */
export function auditWrites(ddb: AwsClientStub<DynamoDBClient>): ReturnType<AwsClientStub<DynamoDBClient>['commandCalls']> {
  return ddb.commandCalls(TransactWriteItemsCommand).filter((call) => call.args[0].input.TransactItems?.[0]?.Put?.TableName === testConfig.auditTableName);
}

/** DynamoDB calls other than appending to the audit trail (its chain-head reads and record transactions). */
export function nonAuditCalls(ddb: AwsClientStub<DynamoDBClient>): ReturnType<AwsClientStub<DynamoDBClient>['calls']> {
  return ddb.calls().filter((call) => {
    const command = call.args[0] as { input: { TableName?: string; TransactItems?: { Put?: { TableName?: string } }[] } };
    if (command instanceof QueryCommand) return command.input.TableName !== testConfig.auditTableName;
    if (command instanceof TransactWriteItemsCommand) return command.input.TransactItems?.[0]?.Put?.TableName !== testConfig.auditTableName;
    return true;
  });
}

/** `<action> <phase> <status>` for each audit record, for asserting the intent/outcome sequence. */
export function auditTrail(ddb: AwsClientStub<DynamoDBClient>): string[] {
  return auditRecords(ddb).map((r) => `${r.action} ${r.phase} ${r.status}`);
}

/**
 * An in-memory model of the callback table: UpdateItem `SET #f = :v, ...` on one item,
 * answering with the whole item when ReturnValues is ALL_NEW (as DynamoDB does), and
 * GetItem. Both the waiting handler and the event handler see the same items.
 */
export class FakeCallbackTable {
  private readonly items = new Map<string, Record<string, AttributeValue>>();

  constructor(ddb: AwsClientStub<DynamoDBClient>) {
    ddb.on(UpdateItemCommand, { TableName: testConfig.callbackTableName }).callsFake((input: UpdateItemCommandInput) => this.update(input));
    ddb
      .on(GetItemCommand, { TableName: testConfig.callbackTableName })
      .callsFake((input: GetItemCommandInput) => ({ Item: this.items.get(input.Key?.pk?.S ?? '') }));
  }

  /** The stored item, unmarshalled; undefined when nothing was written under `pk`. */
  item(pk: string): Record<string, unknown> | undefined {
    const item = this.items.get(pk);
    return item ? unmarshall(item) : undefined;
  }

  private update(input: UpdateItemCommandInput): { Attributes?: Record<string, AttributeValue> } {
    const pk = input.Key?.pk?.S;
    const expression = input.UpdateExpression ?? '';
    if (!pk || !expression.startsWith('SET ')) throw new Error(`FakeCallbackTable does not model ${expression}`);
    const existing = this.items.get(pk);
    const condition = input.ConditionExpression;
    if (condition !== undefined) {
      if (condition !== 'attribute_exists(#taskToken) AND #service = :service') throw new Error(`FakeCallbackTable does not model ${condition}`);
      if (!existing?.taskToken || existing.service?.S !== input.ExpressionAttributeValues?.[':service']?.S) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
    }
    const item: Record<string, AttributeValue> = { ...(existing ?? {}), pk: { S: pk } };
    for (const assignment of expression.slice(4).split(',')) {
      const [name, value] = assignment.split('=').map((part) => part.trim());
      const field = input.ExpressionAttributeNames?.[name ?? ''];
      const attribute = input.ExpressionAttributeValues?.[value ?? ''];
      if (!field || !attribute) throw new Error(`FakeCallbackTable cannot resolve ${assignment}`);
      item[field] = attribute;
    }
    this.items.set(pk, item);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: item } : {};
  }
}

/** A running task of a revision with its ENI's private IP. */
export function buildTask(id: string, ip: string | undefined, overrides: Partial<Task> = {}): Task {
  return {
    taskArn: `arn:aws:ecs:eu-west-2:${ACCOUNT}:task/${CLUSTER}/${id}`,
    taskDefinitionArn: NEW_REVISION_ARN,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    attachments: ip
      ? [
          {
            type: 'ElasticNetworkInterface',
            status: 'ATTACHED',
            details: [
              { name: 'subnetId', value: 'subnet-0a1b2c3d4e5f60001' },
              { name: 'privateIPv4Address', value: ip },
            ],
          },
        ]
      : [],
    ...overrides,
  };
}

/** A task of the revision that stopped with `stopCode` at `stoppedAt`. */
export function buildStoppedTask(id: string, stopCode: Task['stopCode'], stoppedAt: string, overrides: Partial<Task> = {}): Task {
  return buildTask(id, undefined, {
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stopCode,
    stoppedReason: 'Essential container in task exited',
    stoppedAt: new Date(stoppedAt),
    ...overrides,
  });
}

/** What ECS, CloudWatch and the tasks' health endpoints report about the service. */
export interface ServiceWorld {
  service: Service | undefined;
  runningTasks: Task[];
  stoppedTasks: Task[];
  alarms: MetricAlarm[];
  /** The health endpoint's answer per task IP (default 200). */
  http: Map<string, HttpResponse | Error>;
}

/** The private IPs of the healthy world's four tasks. */
export const TASK_IPS = ['10.0.1.11', '10.0.1.12', '10.0.2.13', '10.0.3.14'] as const;

/** order-gateway settled on the new revision: 4/4 tasks answering 200, both rollback alarms OK. */
export function healthyWorld(): ServiceWorld {
  return {
    service: buildService([buildDeployment({ id: 'ecs-svc/2222222222222222222', taskDefinition: NEW_REVISION_ARN })]),
    runningTasks: TASK_IPS.map((ip, i) => buildTask(`task-${i + 1}`, ip)),
    stoppedTasks: [],
    alarms: ORDER_GATEWAY_ALARMS.map((name) => ({ AlarmName: name, StateValue: 'OK' })),
    http: new Map(),
  };
}

/** Stubs ECS, CloudWatch and HTTP to report `world` (read at call time, so tests may change it). */
export function stubServiceWorld(deps: TestDeps, world: ServiceWorld): { ecs: AwsClientStub<ECSClient>; cloudwatch: AwsClientStub<CloudWatchClient> } {
  const ecs = mockClient(deps.clients.ecs);
  const cloudwatch = mockClient(deps.clients.cloudwatch);
  ecs
    .on(DescribeServicesCommand)
    .callsFake(() => (world.service ? { services: [world.service], failures: [] } : { services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] }));
  ecs.on(ListTasksCommand, { desiredStatus: 'RUNNING' }).callsFake(() => ({ taskArns: world.runningTasks.map((t) => t.taskArn) }));
  ecs.on(ListTasksCommand, { desiredStatus: 'STOPPED' }).callsFake(() => ({ taskArns: world.stoppedTasks.map((t) => t.taskArn) }));
  ecs.on(DescribeTasksCommand).callsFake((input: DescribeTasksCommandInput) => ({
    tasks: [...world.runningTasks, ...world.stoppedTasks].filter((t) => input.tasks?.includes(t.taskArn ?? '')),
  }));
  cloudwatch.on(DescribeAlarmsCommand).callsFake(() => ({ MetricAlarms: world.alarms }));
  (deps.http as Mock<HttpClient>).mockImplementation(async ({ url }) => {
    const answer = world.http.get(new URL(url).hostname) ?? { status: 200, body: '{"status":"UP"}' };
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { ecs, cloudwatch };
}
