/**
 * The sandbox answers like AWS: documented event shapes, error names, formulas
 * and rules. Each test names the documented behaviour it holds the simulator to.
 */
import { readFileSync } from 'node:fs';
import { DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ServiceNotFoundException, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DescribeExecutionCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { cloudWatchAlarmStateChangeSchema, ecsDeploymentStateChangeSchema } from '../../functions/shared/domain/aws-events';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { circuitBreakerThreshold, SimulatedEcs } from '../../lib/sandbox/simulated-ecs';
import { SimulatedEventBridge } from '../../lib/sandbox/simulated-eventbridge';
import { ImageCatalogue } from '../../lib/sandbox/simulated-workloads';
import { deploy, openSandbox } from '../support/sandbox';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

const keysOf = (value: unknown): string[] => Object.keys(value as object).sort();

describe('documented events', () => {
  it("the handlers accept AWS's documented example events", () => {
    for (const name of ['ecs-deployment-in-progress', 'ecs-deployment-completed', 'ecs-deployment-failed']) {
      expect(ecsDeploymentStateChangeSchema.safeParse(fixture(name)).success, name).toBe(true);
    }
    expect(cloudWatchAlarmStateChangeSchema.safeParse(fixture('cloudwatch-alarm-state-change')).success).toBe(true);
  });

  it('ECS deployment events from the sandbox have the documented shape and reason texts', async () => {
    const sandbox = await openSandbox();
    const before = sandbox.ecs.serviceRecord('trading-prod', 'risk-engine')?.deployments[0]?.id;
    await deploy(sandbox, 'risk-engine', '2.0.0', 'crash-on-start');
    const events = sandbox.eventBridge.events.filter((e) => e['detail-type'] === 'ECS Deployment State Change');
    const documented = fixture('ecs-deployment-completed');

    expect(events.map((e) => e.detail.eventName)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
    for (const event of events) {
      expect(keysOf(event)).toEqual(keysOf(documented));
      expect(keysOf(event.detail)).toEqual(keysOf(documented.detail));
      expect(event.source).toBe('aws.ecs');
      expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(event.resources).toEqual(['arn:aws:ecs:eu-west-2:111122223333:service/trading-prod/risk-engine']);
      expect(event.detail.deploymentId).toMatch(/^ecs-svc\/\d{19}$/);
      expect(ecsDeploymentStateChangeSchema.safeParse(event).success).toBe(true);
    }
    const [started, failed, rollingBack, completed] = events;
    expect(started?.detail.reason).toBe(`ECS deployment ${String(started?.detail.deploymentId)} in progress.`);
    expect(failed?.detail).toMatchObject({ eventType: 'ERROR', reason: 'ECS deployment circuit breaker: tasks failed to start.' });
    // The circuit breaker returns to the last COMPLETED deployment: the same deployment id, IN_PROGRESS again.
    expect(rollingBack?.detail).toMatchObject({
      eventType: 'INFO',
      deploymentId: before,
      reason: `ECS deployment circuit breaker: rolling back to deploymentId ${String(before)}.`,
    });
    expect(completed?.detail).toMatchObject({ deploymentId: before, reason: `ECS deployment ${String(before)} completed.` });
    const steady = sandbox.eventBridge.events.find((e) => e['detail-type'] === 'ECS Service Action');
    expect(keysOf(steady?.detail)).toEqual(keysOf(fixture('ecs-service-action-steady-state').detail));
  });

  it('CloudWatch alarm state changes have the documented shape', async () => {
    const sandbox = await openSandbox();
    await deploy(sandbox, 'trade-service', '2.0.0', 'high-error-rate');
    const event = sandbox.eventBridge.events.find(
      (e) =>
        e['detail-type'] === 'CloudWatch Alarm State Change' &&
        e.detail.alarmName === 'prod-trade-service-error-rate' &&
        (e.detail.state as { value: string }).value === 'ALARM',
    );
    const documented = fixture('cloudwatch-alarm-state-change');
    expect(event).toBeDefined();
    expect(keysOf(event)).toEqual(keysOf(documented));
    expect(keysOf(event?.detail)).toEqual(keysOf(documented.detail));
    const detail = event?.detail as typeof documented.detail & Record<string, never>;
    const state = (detail as unknown as { state: Record<string, string> }).state;
    expect(keysOf(state)).toEqual(['reason', 'reasonData', 'timestamp', 'value']);
    expect(state.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(state.reason).toMatch(
      /^Threshold Crossed: 2 out of the last 2 datapoints \[25\.0 \(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d\), .*\] was greater than the threshold \(1\.0\) \(minimum 2 datapoints for OK -> ALARM transition\)\.$/,
    );
    expect(JSON.parse(state.reasonData ?? '{}')).toMatchObject({ version: '1.0', statistic: 'Average', period: 60, threshold: 1 });
    const metric = (detail as unknown as { configuration: { metrics: { metricStat: unknown }[] } }).configuration.metrics[0]?.metricStat;
    expect(metric).toEqual({ metric: { namespace: 'Trading', name: 'ErrorRate', dimensions: { Service: 'trade-service' } }, period: 60, stat: 'Average' });
    expect(cloudWatchAlarmStateChangeSchema.safeParse(event).success).toBe(true);
  });
});

describe('ECS', () => {
  it("computes the circuit breaker threshold with AWS's formula", () => {
    // BOUNDED_PERCENT 50 (the default): ceil(0.5 × desired) clamped to [3, 200].
    expect([1, 4, 6, 7, 25, 400, 800].map((desired) => circuitBreakerThreshold(desired))).toEqual([3, 3, 3, 4, 13, 200, 200]);
    expect(circuitBreakerThreshold(800, { type: 'UNBOUNDED_PERCENT', value: 50 })).toBe(400);
    expect(circuitBreakerThreshold(8, { type: 'COUNT', value: 5 })).toBe(5);
  });

  it('fails a deployment after exactly threshold consecutive task failures', async () => {
    const sandbox = await openSandbox();
    const failed: number[] = [];
    sandbox.eventBridge.onEvent((e) => {
      if (e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED') {
        const deployment = sandbox.ecs.serviceRecord('trading-prod', 'order-gateway')?.deployments.find((d) => d.id === e.detail.deploymentId);
        failed.push(deployment?.failedTasks ?? -1);
      }
    });
    await deploy(sandbox, 'order-gateway', '9.9.9', 'crash-on-start');
    // order-gateway runs 4 tasks: ceil(0.5 × 4) = 2, clamped up to 3.
    expect(failed).toEqual([3]);
  });

  it('answers with the documented error names and MISSING failures', async () => {
    const sandbox = await openSandbox();
    const missing = await sandbox.clients.ecs.send(new DescribeServicesCommand({ cluster: 'trading-prod', services: ['no-such-service'] }));
    expect(missing.failures).toEqual([{ arn: 'arn:aws:ecs:eu-west-2:111122223333:service/trading-prod/no-such-service', reason: 'MISSING' }]);
    const update = sandbox.clients.ecs.send(new UpdateServiceCommand({ cluster: 'trading-prod', service: 'no-such-service', desiredCount: 1 }));
    await expect(update).rejects.toBeInstanceOf(ServiceNotFoundException);
    await expect(sandbox.clients.ecs.send(new DescribeServicesCommand({ cluster: 'nope', services: ['x'] }))).rejects.toMatchObject({
      name: 'ClusterNotFoundException',
    });
  });

  it('ignores deployment alarms that are already in ALARM when the deployment starts', () => {
    const random = new SeededRandom(1);
    const events: string[] = [];
    const ecs = new SimulatedEcs(
      { account: '111122223333', region: 'eu-west-2', random },
      new ImageCatalogue(),
      (_type, _resources, detail) => events.push(String(detail.eventName)),
      () => ({ state: 'ALARM', evaluationWindowMs: 60_000 }),
    );
    ecs.createCluster('c');
    ecs.seedService({
      cluster: 'c',
      serviceName: 's',
      desiredCount: 2,
      healthCheckGracePeriodSeconds: 0,
      loadBalancers: [],
      taskDefinition: {
        family: 's',
        containerDefinitions: [{ name: 's', image: 'repo/s:1' }],
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        tags: [],
      },
    });
    void ecs.handle('UpdateService', {
      cluster: 'c',
      service: 's',
      forceNewDeployment: true,
      deploymentConfiguration: { alarms: { alarmNames: ['a'], enable: true, rollback: true } },
    });
    const primary = ecs.serviceRecord('c', 's')?.deployments.find((d) => d.status === 'PRIMARY');
    expect(primary?.alarms.ignored).toBe(true);
    ecs.alarmChanged('a', 'ALARM');
    expect(primary?.rolloutState).toBe('IN_PROGRESS');
    expect(events).not.toContain('SERVICE_DEPLOYMENT_FAILED');
    ecs.dispose();
  });

  it('fails and rolls back a deployment whose monitored alarm goes into ALARM during the rollout', async () => {
    const sandbox = await openSandbox();
    // web-gui drains old tasks for AWS's default 300 s, so its errors (from 3 minutes in) start before ECS completes.
    const { record } = await deploy(sandbox, 'web-gui', '2.0.0', 'high-error-rate');
    const failed = sandbox.eventBridge.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED');
    expect(failed?.detail.reason).toMatch(/failed: alarm prod-web-gui-error-rate is in ALARM state\.$/);
    expect(record.cause).toContain('prod-web-gui-error-rate');
    const service = sandbox.ecs.serviceRecord('trading-prod', 'web-gui');
    expect(service?.taskDefinition).toMatch(/web-gui:1$/);
    expect(service?.events.some((e) => e.message.endsWith('deployment failed: alarm detected.'))).toBe(true);
  });
});

describe('CloudWatch', () => {
  it('alarms on M out of N breaching datapoints, evaluated on period boundaries', async () => {
    const sandbox = await openSandbox();
    const cw = sandbox.clients.cloudwatch;
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'test-m-of-n',
        Namespace: 'Test',
        MetricName: 'Value',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'missing',
      }),
    );
    const state = async (): Promise<string | undefined> =>
      (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['test-m-of-n'] }))).MetricAlarms?.[0]?.StateValue;
    const minute = async (value: number): Promise<void> => {
      await cw.send(new PutMetricDataCommand({ Namespace: 'Test', MetricData: [{ MetricName: 'Value', Value: value }] }));
      await sandbox.clock.advance(60_000);
    };
    expect(await state()).toBe('INSUFFICIENT_DATA');
    await minute(50);
    // - - - - X: one breaching datapoint, too few and too recent to alarm (the user guide's 2 out of 3 table, earlier edition).
    expect(await state()).toBe('INSUFFICIENT_DATA');
    await minute(1);
    expect(await state()).toBe('OK'); // 1 of 3
    await minute(60);
    expect(await state()).toBe('ALARM'); // 2 of 3, not consecutive
    await minute(1);
    await minute(1);
    expect(await state()).toBe('OK');
  });
});

describe('EventBridge', () => {
  it('refuses PutEvents entries with an aws.* source, per entry, and delivers the rest', async () => {
    const delivered: unknown[] = [];
    const bus = new SimulatedEventBridge(
      { account: '1', region: 'r', random: new SeededRandom(2) },
      async (_t, input) => {
        delivered.push(input);
      },
      0,
    );
    bus.putRule('all', { source: [{ prefix: '' }] }, [{ id: 't', arn: 'arn:aws:lambda:r:1:function:f' }]);
    const result = (await bus.handle('PutEvents', {
      Entries: [
        { Source: 'aws.cloudwatch', DetailType: 'CloudWatch Alarm State Change', Detail: '{}' },
        { Source: 'ci.pipeline', DetailType: 'Deploy Requested', Detail: '{"service":"order-gateway"}' },
      ],
    })) as { FailedEntryCount: number; Entries: Record<string, string>[] };
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries[0]).toEqual({ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' });
    expect(result.Entries[1]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(delivered).toHaveLength(1);
  });
});

describe('Step Functions', () => {
  const waitForCallback = {
    StartAt: 'Wait for callback',
    States: {
      'Wait for callback': {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'arn:aws:lambda:eu-west-2:111122223333:function:test-capture-token', Payload: { 'token.$': '$$.Task.Token' } },
        TimeoutSecondsPath: '$.timeout',
        End: true,
      },
    },
  } as unknown as StateMachineDefinition;

  /** A function that only records the payloads it is invoked with. */
  const captureFunction = (sandbox: Awaited<ReturnType<typeof openSandbox>>): { token?: string }[] => {
    const payloads: { token?: string }[] = [];
    sandbox.lambda.createFunction({
      functionName: 'test-capture-token',
      timeoutSeconds: 30,
      handler: async (event) => {
        payloads.push(event as { token?: string });
        return {};
      },
    });
    return payloads;
  };

  it('StartExecution is idempotent for the same name and input while running, and refuses otherwise', async () => {
    // The ad-hoc state machine and function are not part of the stack, so no role of it could invoke them.
    const sandbox = await openSandbox(undefined, undefined, { iam: 'off' });
    captureFunction(sandbox);
    const arn = sandbox.stepFunctions.createStateMachine('test-callback', waitForCallback);
    const start = (name: string, input: object) =>
      sandbox.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }));
    const first = await start('same-name', { timeout: 600 });
    expect((await start('same-name', { timeout: 600 })).executionArn).toBe(first.executionArn);
    await expect(start('same-name', { timeout: 601 })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await expect(start('has space', {})).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(start('x'.repeat(81), {})).rejects.toMatchObject({ name: 'InvalidName' });
    await sandbox.runExecution(first.executionArn ?? '');
    await expect(start('same-name', { timeout: 600 })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });

  it('reads TimeoutSecondsPath from the state input, and a closed task refuses its token with TaskTimedOut', async () => {
    // The ad-hoc state machine and function are not part of the stack, so no role of it could invoke them.
    const sandbox = await openSandbox(undefined, undefined, { iam: 'off' });
    const payloads = captureFunction(sandbox);
    const arn = sandbox.stepFunctions.createStateMachine('test-timeout', waitForCallback);
    const { executionArn } = await sandbox.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ timeout: 90 }) }));
    const started = sandbox.clock.now();
    const record = await sandbox.runExecution(executionArn ?? '');
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.Timeout');
    expect((record.stopDate ?? 0) - started).toBeGreaterThanOrEqual(90_000);
    expect((record.stopDate ?? 0) - started).toBeLessThan(91_000);
    const token = payloads[0]?.token ?? '';
    expect(token).toMatch(/^AQC/);
    await expect(sandbox.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(sandbox.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' }))).rejects.toMatchObject({
      name: 'InvalidToken',
    });
    const described = await sandbox.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });
});

describe('DynamoDB and the SDK transport', () => {
  it('raises the SDK’s own exception classes, so instanceof checks behave as against AWS', async () => {
    const sandbox = await openSandbox();
    const put = (): Promise<unknown> =>
      sandbox.clients.dynamodb.send(
        new PutItemCommand({ TableName: sandbox.config.lockTableName, Item: { pk: { S: 'k' } }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    await put();
    const error = await put().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect((error as ConditionalCheckFailedException).$metadata.httpStatusCode).toBe(400);
  });

  it("keeps functions' output in their log groups, as the Lambda runtime does", async () => {
    const sandbox = await openSandbox();
    await deploy(sandbox, 'market-data', '1.1.0');
    const lines = sandbox.lambda.logLines('/aws/lambda/assure-prod-deploy-run-health-gate').map((l) => l.message);
    expect(lines.some((l) => l.startsWith('START RequestId:'))).toBe(true);
    const report = lines
      .map((l) => JSON.parse(l.startsWith('{') ? l : '{}') as { message?: string; correlation_id?: string })
      .find((l) => l.message === 'Health gate report');
    expect(report?.correlation_id).toMatch(/^arn:aws:states:eu-west-2:111122223333:execution:assure-prod-deploy:/);
  });
});
