import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { registerTaskDefinition } from '../../../functions/register-task-definition/core';
import { ServiceStateError } from '../../../functions/shared/runtime/errors';
import { EXECUTION_ID, type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, auditTrail, buildBaseline, buildPlan, NEW_REVISION_ARN, PREVIOUS_REVISION_ARN, REPOSITORY, taskDefinitionArn } from './builders';

const OLD_IMAGE = `${REPOSITORY}:2.3.9`;
const NEW_IMAGE = `${REPOSITORY}:2.4.0`;
const TAGS: Tag[] = [
  { key: 'team', value: 'trading' },
  { key: 'cost-centre', value: 'cc-42' },
];

/** order-gateway:41 as DescribeTaskDefinition reports it: registrable fields plus the read-only ones ECS adds. */
function describedDefinition(overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    // Read-only: set by ECS, refused by RegisterTaskDefinition.
    taskDefinitionArn: PREVIOUS_REVISION_ARN,
    revision: 41,
    status: 'ACTIVE',
    registeredAt: new Date('2025-06-30T08:55:00.000Z'),
    registeredBy: 'arn:aws:sts::111122223333:assumed-role/assure-deploy/session',
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' }],
    // Registrable.
    family: 'order-gateway',
    taskRoleArn: 'arn:aws:iam::111122223333:role/order-gateway-task',
    executionRoleArn: 'arn:aws:iam::111122223333:role/order-gateway-execution',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '1024',
    memory: '2048',
    runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
    ephemeralStorage: { sizeInGiB: 30 },
    pidMode: 'task',
    enableFaultInjection: false,
    volumes: [{ name: 'scratch', host: {} }],
    placementConstraints: [],
    containerDefinitions: [
      {
        name: 'order-gateway',
        image: OLD_IMAGE,
        essential: true,
        cpu: 0,
        portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
        environment: [{ name: 'VENUE', value: 'LSE' }],
        secrets: [{ name: 'FIX_PASSWORD', valueFrom: 'arn:aws:ssm:eu-west-2:111122223333:parameter/fix' }],
        mountPoints: [{ sourceVolume: 'scratch', containerPath: '/scratch' }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/order-gateway', 'awslogs-region': 'eu-west-2' } },
      },
      {
        name: 'log-router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0',
        essential: false,
        firelensConfiguration: { type: 'fluentbit' },
      },
    ],
    ...overrides,
  };
}

/** What RegisterTaskDefinition should receive: the described definition less every read-only field. */
function registrable(
  definition: TaskDefinition,
): Omit<TaskDefinition, 'taskDefinitionArn' | 'revision' | 'status' | 'registeredAt' | 'registeredBy' | 'compatibilities' | 'requiresAttributes'> {
  const {
    taskDefinitionArn: _arn,
    revision: _revision,
    status: _status,
    registeredAt: _registeredAt,
    registeredBy: _registeredBy,
    compatibilities: _compatibilities,
    requiresAttributes: _requiresAttributes,
    ...rest
  } = definition;
  return rest;
}

function withImage(definition: TaskDefinition, container: string, image: string): TaskDefinition {
  return { ...definition, containerDefinitions: definition.containerDefinitions?.map((c) => (c.name === container ? { ...c, image } : c)) };
}

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let ecs: AwsClientStub<ECSClient>;

beforeEach(() => {
  deps = testDeps();
  ddb = mockClient(deps.clients.dynamodb);
  ecs = mockClient(deps.clients.ecs);
  ddb.on(PutItemCommand).resolves({});
});

/** DescribeTaskDefinition of the service's revision, and of the family's newest revision. */
function stubDefinitions(current: DescribeTaskDefinitionCommandOutput, latest: DescribeTaskDefinitionCommandOutput = current): void {
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: PREVIOUS_REVISION_ARN }).resolves(current);
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: 'order-gateway' }).resolves(latest);
}

const described = (taskDefinition: TaskDefinition, tags: Tag[] = TAGS): DescribeTaskDefinitionCommandOutput => ({ taskDefinition, tags, $metadata: {} });

const register = (plan = buildPlan({ image: NEW_IMAGE })) => registerTaskDefinition.core({ executionId: EXECUTION_ID, plan, baseline: buildBaseline() }, deps);

describe('register-task-definition', () => {
  it('registers a copy of every registrable field with only the named container image changed', async () => {
    const current = describedDefinition();
    stubDefinitions(described(current));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42 } });

    await expect(register()).resolves.toEqual({ taskDefinitionArn: NEW_REVISION_ARN, revision: 42, reused: false });

    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, { taskDefinition: PREVIOUS_REVISION_ARN, include: ['TAGS'] });
    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    const sent = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(sent).toStrictEqual({ ...registrable(withImage(current, 'order-gateway', NEW_IMAGE)), tags: TAGS });
  });

  it('leaves the other containers exactly as they were', async () => {
    const current = describedDefinition();
    stubDefinitions(described(current));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42 } });

    await register();

    const containers = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.containerDefinitions ?? [];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['order-gateway', NEW_IMAGE],
      ['log-router', 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0'],
    ]);
    expect(containers[1]).toStrictEqual(current.containerDefinitions?.[1]);
  });

  it('sends none of the read-only fields ECS adds to a described definition', async () => {
    stubDefinitions(described(describedDefinition()));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42 } });

    await register();

    const sent = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input ?? {};
    for (const readOnly of ['taskDefinitionArn', 'revision', 'status', 'registeredAt', 'registeredBy', 'compatibilities', 'requiresAttributes']) {
      expect(sent).not.toHaveProperty(readOnly);
    }
  });

  it('does not change the described definition it copied', async () => {
    const current = describedDefinition();
    stubDefinitions(described(current));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42 } });

    await register();

    expect(current.containerDefinitions?.[0]?.image).toBe(OLD_IMAGE);
  });

  it('sends no tags when the revision has none', async () => {
    stubDefinitions(described(describedDefinition(), []));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42 } });

    await register();

    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input).not.toHaveProperty('tags');
  });

  it('reuses the family newest revision when a retried step already registered it', async () => {
    const current = describedDefinition();
    const alreadyRegistered = {
      ...withImage(current, 'order-gateway', NEW_IMAGE),
      taskDefinitionArn: NEW_REVISION_ARN,
      revision: 42,
      registeredAt: new Date(),
    };
    stubDefinitions(described(current), described(alreadyRegistered));

    await expect(register()).resolves.toEqual({ taskDefinitionArn: NEW_REVISION_ARN, revision: 42, reused: true });

    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, { taskDefinition: 'order-gateway', include: ['TAGS'] });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it('reuses the current revision when it already runs the image', async () => {
    stubDefinitions(described(withImage(describedDefinition(), 'order-gateway', NEW_IMAGE)));

    await expect(register()).resolves.toEqual({ taskDefinitionArn: PREVIOUS_REVISION_ARN, revision: 41, reused: true });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it.each([
    ['another field', { cpu: '2048' }, TAGS],
    ['another container', {}, TAGS, 'log-router'],
    ['its tags', {}, [{ key: 'team', value: 'risk' }]],
  ] as const)('registers anew when the newest revision has the image but differs in %s', async (_case, change, tags, sidecar?: string) => {
    const current = describedDefinition();
    let newest: TaskDefinition = { ...withImage(current, 'order-gateway', NEW_IMAGE), ...change, taskDefinitionArn: taskDefinitionArn(42), revision: 42 };
    if (sidecar) newest = withImage(newest, sidecar, 'public.ecr.aws/aws-observability/aws-for-fluent-bit:9.9.9');
    stubDefinitions(described(current), described(newest, [...tags]));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: taskDefinitionArn(43), revision: 43 } });

    await expect(register()).resolves.toEqual({ taskDefinitionArn: taskDefinitionArn(43), revision: 43, reused: false });
  });

  it('refuses with ServiceStateError naming the containers the revision has when the plan container is missing', async () => {
    stubDefinitions(described(describedDefinition()));

    const error = await register(buildPlan({ image: NEW_IMAGE, container: 'gateway' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceStateError);
    expect((error as Error).message).toBe(`Task definition ${PREVIOUS_REVISION_ARN} has no container named gateway (it has order-gateway, log-router)`);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it('refuses with ServiceStateError when the revision cannot be described', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({});

    await expect(register()).rejects.toThrow(new ServiceStateError(`Task definition ${PREVIOUS_REVISION_ARN} not found`));
  });

  it('writes intent and outcome records naming the revision before and after', async () => {
    stubDefinitions(described(describedDefinition()));
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42 } });

    await register();

    expect(auditTrail(ddb)).toEqual(['deploy.register-task-definition intent started', 'deploy.register-task-definition outcome succeeded']);
    expect(auditRecords(ddb)[1]).toMatchObject({
      before: { taskDefinitionArn: PREVIOUS_REVISION_ARN },
      after: { taskDefinitionArn: NEW_REVISION_ARN, revision: 42, reused: false },
    });
  });
});
