/**
 * The deployment circuit breaker, held to the Amazon ECS Developer Guide,
 * "How the Amazon ECS deployment circuit breaker detects failures"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html):
 *
 * - stage 1: tasks that fail to reach RUNNING count as failures;
 * - stage 2: tasks that reach RUNNING but fail their health checks (Elastic Load
 *   Balancing target health, container health checks) are replaced, and count;
 * - the failure threshold is min(max(3, ceil(0.5 × desired count)), 200), using
 *   the latest desired count.
 *
 * DescribeServiceDeployments' view of it: API reference "ServiceDeploymentCircuitBreaker"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html).
 * Container health, grace period: API reference "HealthCheck"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html) and
 * "UpdateService", healthCheckGracePeriodSeconds
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html).
 * Service event text: "Amazon ECS service unhealthy event messages"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-unhealthy-event-messages.html).
 */
import { describe, expect, it } from 'vitest';
import { circuitBreakerThreshold, type TaskRecord } from '../../lib/sandbox/simulated-ecs';
import { ecsWorld, TARGET_GROUP_ARN } from './ecs-fixture';

const DEEP_CHECK = { command: ['CMD-SHELL', 'curl -f http://localhost:8080/health/deep || exit 1'], interval: 10, retries: 3 };

const eventNames = (world: ReturnType<typeof ecsWorld>): string[] =>
  world.events.filter((e) => e.type === 'ECS Deployment State Change').map((e) => String(e.detail.eventName));

const tasksOf = (world: ReturnType<typeof ecsWorld>, image: string): TaskRecord[] => world.ecs.serviceTasks(world.service()).filter((t) => t.image === image);

describe('circuit-breaker threshold: min(max(3, ceil(0.5 × desired count)), 200)', () => {
  it.each([
    [0, 3],
    [1, 3],
    [2, 3],
    [5, 3],
    [6, 3],
    [7, 4],
    [10, 5],
    [100, 50],
    [399, 200],
    [400, 200],
    [401, 200],
    [5000, 200],
  ])('desired %i → threshold %i', (desired, threshold) => {
    expect(circuitBreakerThreshold(desired)).toBe(threshold);
  });

  it('follows the latest desired count, not the one the deployment started with', async () => {
    // 10 desired → threshold 5; scaled to 4 during the rollout → threshold 3.
    const world = ecsWorld({ desiredCount: 10 });
    await world.rollOut('repo/s:2', 'crash-on-start');
    const failing = world.service().deployments.find((d) => d.status === 'PRIMARY');
    const breaker = async (): Promise<unknown> => {
      const described = (await world.call('DescribeServiceDeployments', { serviceDeploymentArns: [failing?.serviceDeploymentArn] })) as {
        serviceDeployments: { deploymentCircuitBreaker?: unknown }[];
      };
      return described.serviceDeployments[0]?.deploymentCircuitBreaker;
    };
    expect(await breaker()).toEqual({ status: 'MONITORING', failureCount: 0, threshold: 5 });
    await world.call('UpdateService', { service: 's', desiredCount: 4 });
    expect(await breaker()).toEqual({ status: 'MONITORING', failureCount: 0, threshold: 3 });
    await world.settle();
    expect(failing?.rolloutState).toBe('FAILED');
    expect(failing?.failedTasks).toBe(3);
    expect(await breaker()).toEqual({ status: 'TRIGGERED', failureCount: 3, threshold: 3 });
    expect(eventNames(world)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
  });
});

describe('stage 1: tasks that never reach RUNNING', () => {
  it('fails the deployment and rolls back', async () => {
    const world = ecsWorld();
    await world.rollOut('repo/s:2', 'crash-on-start');
    await world.settle();
    expect(eventNames(world)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
    expect(tasksOf(world, 'repo/s:2').filter((t) => t.stopCode === 'EssentialContainerExited' && t.startedAt === undefined)).toHaveLength(3);
  });
});

describe('stage 2: tasks that run but fail their health checks', () => {
  it('a target group whose health check the image fails: ECS replaces the tasks and the circuit breaker fails the deployment', async () => {
    const world = ecsWorld({ targetGroup: { healthCheckPath: '/health/deep', unhealthyThresholdCount: 2 } });
    await world.rollOut('repo/s:2', 'failing-health-check');
    await world.settle();
    expect(eventNames(world)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
    const failed = world.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED');
    expect(failed?.detail).toMatchObject({ eventType: 'ERROR', reason: 'ECS deployment circuit breaker: tasks failed to start.' });
    // The threshold's worth of tasks ran (stage 2, not stage 1) and were replaced; the rollback stopped the rest.
    const replaced = tasksOf(world, 'repo/s:2').filter((t) => t.stoppedReason === `Task failed ELB health checks in (target-group ${TARGET_GROUP_ARN})`);
    expect(replaced).toHaveLength(3);
    expect(replaced.every((t) => t.startedAt !== undefined && t.stopCode === 'ServiceSchedulerInitiated' && t.target === 'unused')).toBe(true);
    expect(tasksOf(world, 'repo/s:2').every((t) => t.lastStatus === 'STOPPED')).toBe(true);
    expect(
      world.service().events.some((e) => /^\(service s\) \(task \w+\) \(port 8080\) is unhealthy in \(target-group .+\) due to \(reason /.test(e.message)),
    ).toBe(true);
    expect(world.service().taskDefinition).toMatch(/task-definition\/s:1$/);
  });

  it('a target group that does not probe the failing endpoint keeps passing the tasks: the rollout completes', async () => {
    const world = ecsWorld({ targetGroup: {} });
    await world.rollOut('repo/s:2', 'failing-health-check');
    await world.settle();
    expect(eventNames(world)).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED']);
  });

  it('a container health check the image fails: tasks turn UNHEALTHY, are replaced, and fail the deployment', async () => {
    const world = ecsWorld({ healthCheck: DEEP_CHECK });
    await world.rollOut('repo/s:2', 'failing-health-check');
    await world.settle();
    expect(eventNames(world)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
    const replaced = tasksOf(world, 'repo/s:2').filter((t) => t.stoppedReason === 'Task failed container health checks');
    expect(replaced).toHaveLength(3);
    const described = (await world.call('DescribeTasks', { tasks: replaced.map((t) => t.taskArn) })) as {
      tasks: { healthStatus: string; containers: { healthStatus: string }[] }[];
    };
    expect(described.tasks.every((t) => t.healthStatus === 'UNHEALTHY' && t.containers[0]?.healthStatus === 'UNHEALTHY')).toBe(true);
  });

  it('a container health check the image passes: tasks turn HEALTHY and the rollout completes', async () => {
    const world = ecsWorld({ healthCheck: DEEP_CHECK });
    const seeded = tasksOf(world, 'repo/s:1').map((t) => t.taskArn);
    const before = (await world.call('DescribeTasks', { tasks: seeded })) as { tasks: { healthStatus: string }[] };
    expect(before.tasks.map((t) => t.healthStatus)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY']);
    await world.rollOut('repo/s:2', 'healthy');
    await world.settle();
    expect(eventNames(world)).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED']);
    const running = tasksOf(world, 'repo/s:2').filter((t) => t.lastStatus === 'RUNNING');
    const described = (await world.call('DescribeTasks', { tasks: running.map((t) => t.taskArn) })) as { tasks: { healthStatus: string }[] };
    expect(described.tasks.map((t) => t.healthStatus)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY', 'HEALTHY']);
  });

  it('ignores failed health checks for healthCheckGracePeriodSeconds after a task starts', async () => {
    const world = ecsWorld({ targetGroup: { healthCheckPath: '/health/deep' }, healthCheckGracePeriodSeconds: 300 });
    await world.rollOut('repo/s:2', 'failing-health-check');
    await world.settle();
    const replaced = tasksOf(world, 'repo/s:2').filter((t) => t.stoppedReason?.startsWith('Task failed ELB health checks'));
    expect(replaced.length).toBeGreaterThanOrEqual(3);
    for (const task of replaced) expect((task.stoppingAt ?? 0) - (task.startedAt ?? 0)).toBeGreaterThanOrEqual(300_000);
  });
});
