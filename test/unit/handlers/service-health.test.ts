import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { assessServiceHealth, type HealthCheck, type HealthTarget } from '../../../functions/shared/domain/service-health';
import { type TestDeps, testDeps } from '../../support/handler-deps';
import {
  buildDeployment,
  buildService,
  buildStoppedTask,
  buildTask,
  healthyWorld,
  NEW_REVISION_ARN,
  ORDER_GATEWAY_ALARMS,
  PREVIOUS_REVISION_ARN,
  type ServiceWorld,
  stubServiceWorld,
  TASK_IPS,
} from './builders';

const NOW = new Date('2025-07-05T12:10:00.000Z');
/** When the rollout started: failures before this belong to an earlier release. */
const SINCE = '2025-07-05T12:01:30.000Z';

let deps: TestDeps;
let world: ServiceWorld;
let stubs: ReturnType<typeof stubServiceWorld>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  deps = testDeps();
  world = healthyWorld();
  stubs = stubServiceWorld(deps, world);
});

afterEach(() => {
  vi.useRealTimers();
});

const target = (overrides: Partial<HealthTarget> = {}): HealthTarget => ({
  service: 'order-gateway',
  cluster: 'trading-prod',
  ecsServiceName: 'order-gateway',
  rollbackAlarmNames: [...ORDER_GATEWAY_ALARMS],
  http: { path: '/health/deep', port: 8080, timeoutMs: 2000 },
  expectedTaskDefinitionArn: NEW_REVISION_ARN,
  since: SINCE,
  ...overrides,
});

const assess = (overrides: Partial<HealthTarget> = {}) => assessServiceHealth(deps, target(overrides));

async function check(name: HealthCheck['name'], overrides: Partial<HealthTarget> = {}): Promise<HealthCheck | undefined> {
  return (await assess(overrides)).checks.find((c) => c.name === name);
}

describe('service health: a healthy service', () => {
  it('is HEALTHY with every check passing', async () => {
    const report = await assess();

    expect(report).toMatchObject({ service: 'order-gateway', status: 'HEALTHY', taskDefinitionArn: NEW_REVISION_ARN, checkedAt: NOW.toISOString() });
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['rollout', 'pass'],
      ['capacity', 'pass'],
      ['stopped-tasks', 'pass'],
      ['alarms', 'pass'],
      ['http', 'pass'],
    ]);
  });

  it("calls every task's health endpoint on its private IP", async () => {
    await assess();

    expect(deps.http).toHaveBeenCalledTimes(4);
    for (const ip of TASK_IPS) {
      expect(deps.http).toHaveBeenCalledWith({ method: 'GET', url: `http://${ip}:8080/health/deep`, timeoutMs: 2000 });
    }
  });

  it('asks CloudWatch for exactly the rollback alarms', async () => {
    await assess();

    expect(stubs.cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: [...ORDER_GATEWAY_ALARMS] });
  });

  it('skips the alarm and HTTP checks when none are configured, and stays HEALTHY', async () => {
    const report = await assess({ rollbackAlarmNames: [], http: undefined });

    expect(report.status).toBe('HEALTHY');
    expect(report.checks.filter((c) => c.status === 'skipped').map((c) => c.name)).toEqual(['alarms', 'http']);
    expect(stubs.cloudwatch).not.toHaveReceivedAnyCommand();
    expect(deps.http).not.toHaveBeenCalled();
  });
});

describe('service health: rollout', () => {
  it('fails when the service runs another revision than expected', async () => {
    world.service = buildService([buildDeployment({ taskDefinition: PREVIOUS_REVISION_ARN })]);

    const report = await assess();

    expect(report.status).toBe('UNHEALTHY');
    expect(report.checks[0]).toEqual({ name: 'rollout', status: 'fail', evidence: 'running order-gateway:41, expected order-gateway:42' });
  });

  it('is not HEALTHY while the rollout is IN_PROGRESS', async () => {
    world.service = buildService([buildDeployment({ id: 'ecs-svc/2', taskDefinition: NEW_REVISION_ARN, rolloutState: 'IN_PROGRESS' })]);

    const report = await assess();

    expect(report.status).toBe('DEGRADED');
    expect(report.checks[0]).toMatchObject({ name: 'rollout', status: 'degraded', evidence: expect.stringContaining('ecs-svc/2 IN_PROGRESS') });
  });

  it('is not HEALTHY while an older deployment is still draining', async () => {
    world.service = buildService([buildDeployment({ taskDefinition: NEW_REVISION_ARN }), buildDeployment({ id: 'ecs-svc/1', status: 'ACTIVE' })]);

    const report = await assess();

    expect(report.status).not.toBe('HEALTHY');
    expect(report.checks[0]?.evidence).toContain('2 deployment(s)');
  });

  it('fails when the rollout FAILED, with the ECS reason as evidence', async () => {
    world.service = buildService([buildDeployment({ taskDefinition: NEW_REVISION_ARN, rolloutState: 'FAILED', rolloutStateReason: 'circuit breaker' })]);

    await expect(check('rollout')).resolves.toMatchObject({ status: 'fail', evidence: expect.stringContaining('FAILED (circuit breaker)') });
  });

  it('fails when ECS does not know the service', async () => {
    world.service = undefined;

    const report = await assess();

    expect(report.status).toBe('UNHEALTHY');
    expect(report.checks).toEqual([{ name: 'rollout', status: 'fail', evidence: 'ECS service order-gateway not found or not ACTIVE' }]);
  });
});

describe('service health: capacity', () => {
  it('is not HEALTHY when fewer tasks run than desired', async () => {
    world.service = { ...world.service, runningCount: 3, pendingCount: 1 };

    const report = await assess();

    expect(report.status).toBe('DEGRADED');
    expect(report.checks[1]).toEqual({ name: 'capacity', status: 'degraded', evidence: '3/4 tasks running, 1 pending' });
  });

  it('fails when no task runs', async () => {
    world.service = { ...world.service, runningCount: 0 };

    await expect(check('capacity')).resolves.toMatchObject({ status: 'fail', evidence: '0/4 tasks running' });
  });
});

describe('service health: stopped tasks', () => {
  it.each(['EssentialContainerExited', 'TaskFailedToStart'] as const)(
    'is not HEALTHY after a task of the revision stopped with %s since the rollout',
    async (stopCode) => {
      world.stoppedTasks = [buildStoppedTask('abc123', stopCode, '2025-07-05T12:05:00.000Z', { stoppedReason: 'Essential container in task exited' })];

      const report = await assess();

      expect(report.status).not.toBe('HEALTHY');
      expect(report.checks[2]).toEqual({
        name: 'stopped-tasks',
        status: 'degraded',
        evidence: `1 failed task(s) of order-gateway:42: abc123 ${stopCode} "Essential container in task exited"`,
      });
    },
  );

  it('ignores failures from before the rollout started', async () => {
    world.stoppedTasks = [buildStoppedTask('old', 'EssentialContainerExited', '2025-07-05T12:01:29.000Z')];

    await expect(assess()).resolves.toMatchObject({ status: 'HEALTHY' });
  });

  it('ignores failed tasks of another revision', async () => {
    world.stoppedTasks = [buildStoppedTask('old-rev', 'EssentialContainerExited', '2025-07-05T12:05:00.000Z', { taskDefinitionArn: PREVIOUS_REVISION_ARN })];

    await expect(assess()).resolves.toMatchObject({ status: 'HEALTHY' });
  });

  it('ignores tasks the scheduler stopped on purpose', async () => {
    world.stoppedTasks = [
      buildStoppedTask('scaled-in', 'ServiceSchedulerInitiated', '2025-07-05T12:05:00.000Z'),
      buildStoppedTask('by-user', 'UserInitiated', '2025-07-05T12:06:00.000Z'),
    ];

    await expect(assess()).resolves.toMatchObject({ status: 'HEALTHY' });
  });

  it('defaults the window to the last 15 minutes', async () => {
    world.stoppedTasks = [buildStoppedTask('recent', 'EssentialContainerExited', '2025-07-05T11:56:00.000Z')];

    await expect(check('stopped-tasks', { since: undefined })).resolves.toMatchObject({ status: 'degraded' });
    world.stoppedTasks = [buildStoppedTask('older', 'EssentialContainerExited', '2025-07-05T11:54:00.000Z')];
    await expect(check('stopped-tasks', { since: undefined })).resolves.toMatchObject({ status: 'pass' });
  });

  it('reads every page of ListTasks and describes the tasks it lists', async () => {
    const tasks = Array.from({ length: 3 }, (_, i) => buildStoppedTask(`t${i}`, 'EssentialContainerExited', '2025-07-05T12:05:00.000Z'));
    stubs.ecs
      .on(ListTasksCommand, { desiredStatus: 'STOPPED' })
      .resolvesOnce({ taskArns: [tasks[0]?.taskArn ?? ''], nextToken: 'page-2' })
      .resolvesOnce({ taskArns: [tasks[1]?.taskArn ?? '', tasks[2]?.taskArn ?? ''] });
    world.stoppedTasks = tasks;

    await expect(check('stopped-tasks')).resolves.toMatchObject({ evidence: expect.stringMatching(/^3 failed task\(s\)/) });
    expect(stubs.ecs).toHaveReceivedCommandWith(ListTasksCommand, { desiredStatus: 'STOPPED', nextToken: 'page-2' });
    expect(stubs.ecs).toHaveReceivedCommandWith(DescribeTasksCommand, { cluster: 'trading-prod', tasks: tasks.map((t) => t.taskArn ?? '') });
  });
});

describe('service health: rollback alarms', () => {
  it('fails when an alarm is in ALARM, naming it', async () => {
    world.alarms = [
      { AlarmName: 'prod-order-gateway-error-rate', StateValue: 'ALARM' },
      { AlarmName: 'prod-order-gateway-latency-p99', StateValue: 'OK' },
    ];

    const report = await assess();

    expect(report.status).toBe('UNHEALTHY');
    expect(report.checks[3]).toEqual({ name: 'alarms', status: 'fail', evidence: 'in ALARM: prod-order-gateway-error-rate' });
  });

  it('fails when an alarm does not exist', async () => {
    world.alarms = [{ AlarmName: 'prod-order-gateway-error-rate', StateValue: 'OK' }];

    await expect(check('alarms')).resolves.toEqual({ name: 'alarms', status: 'fail', evidence: 'not found: prod-order-gateway-latency-p99' });
  });

  it('does not count INSUFFICIENT_DATA as healthy', async () => {
    world.alarms = [
      { AlarmName: 'prod-order-gateway-error-rate', StateValue: 'OK' },
      { AlarmName: 'prod-order-gateway-latency-p99', StateValue: 'INSUFFICIENT_DATA' },
    ];

    const report = await assess();

    expect(report.status).toBe('DEGRADED');
    expect(report.checks[3]).toEqual({ name: 'alarms', status: 'degraded', evidence: 'INSUFFICIENT_DATA: prod-order-gateway-latency-p99' });
  });
});

describe('service health: HTTP', () => {
  it('is not HEALTHY when one task answers something other than 200', async () => {
    world.http.set('10.0.2.13', { status: 503, body: '{"status":"DOWN","fix":"session lost"}' });

    const report = await assess();

    expect(report.status).toBe('DEGRADED');
    expect(report.checks[4]).toEqual({
      name: 'http',
      status: 'degraded',
      evidence: '3/4 tasks answer 200 on /health/deep; e.g. 10.0.2.13: 503 {"status":"DOWN","fix":"session lost"}',
    });
  });

  it('does not accept another 2xx as healthy', async () => {
    world.http.set('10.0.1.11', { status: 204, body: '' });

    await expect(check('http')).resolves.toMatchObject({ status: 'degraded' });
  });

  it('fails when no task answers', async () => {
    for (const ip of TASK_IPS) world.http.set(ip, new Error('connect ECONNREFUSED'));

    const report = await assess();

    expect(report.status).toBe('UNHEALTHY');
    expect(report.checks[4]).toMatchObject({
      status: 'fail',
      evidence: expect.stringContaining('0/4 tasks answer 200 on /health/deep; e.g. 10.0.1.11: connect ECONNREFUSED'),
    });
  });

  it('counts a task without a private IP as failing', async () => {
    world.runningTasks = [buildTask('task-1', '10.0.1.11'), buildTask('no-eni', undefined)];

    await expect(check('http')).resolves.toMatchObject({ status: 'degraded', evidence: expect.stringContaining('no-eni: no private IP') });
  });

  it("falls back to the container's network interface for the IP", async () => {
    world.runningTasks = [buildTask('bridge', undefined, { containers: [{ name: 'order-gateway', networkInterfaces: [{ privateIpv4Address: '10.0.9.9' }] }] })];

    await expect(check('http')).resolves.toMatchObject({ status: 'pass' });
    expect(deps.http).toHaveBeenCalledWith({ method: 'GET', url: 'http://10.0.9.9:8080/health/deep', timeoutMs: 2000 });
  });

  it('only calls tasks of the running revision', async () => {
    world.runningTasks = [...world.runningTasks, buildTask('old', '10.0.8.8', { taskDefinitionArn: PREVIOUS_REVISION_ARN })];

    await assess();

    expect(deps.http).not.toHaveBeenCalledWith(expect.objectContaining({ url: expect.stringContaining('10.0.8.8') }));
  });

  it('fails when there is no running task to ask', async () => {
    world.runningTasks = [];

    await expect(check('http')).resolves.toMatchObject({ status: 'fail', evidence: '0/0 tasks answer 200 on /health/deep' });
  });
});
