/**
 * Lifecycle hooks and rollback of blue/green, canary and linear deployments, as
 * "Lifecycle hooks for Amazon ECS service deployments" (Amazon ECS Developer
 * Guide) describes them: "After the function has finished running, it must
 * return a hookStatus for the deployment to continue. If a hookStatus is not
 * returned, or if the function fails, the deployment rolls back." SUCCEEDED
 * continues; FAILED "rolls back to the last successful deployment";
 * IN_PROGRESS: "Amazon ECS runs the function again after a short period of
 * time. By default this is a 30 second interval", customisable with
 * callBackDelay, and the hookDetails returned are passed to the next
 * invocation. Rollback shifts production and test traffic back to the blue
 * revision; StopServiceDeployment (stopType ROLLBACK) and deployment alarms
 * roll back the same way.
 */
import { describe, expect, it } from 'vitest';
import type { LifecycleHookPayload } from '../../lib/sandbox/simulated-ecs';
import { BLUE, GREEN, HOOK_ROLE, progressiveWorld, weightOn } from './ecs-progressive-fixture';

const need = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('expected a value');
  return value;
};

const base = { deploymentCircuitBreaker: { enable: true, rollback: true } };
const canary = (hook: string, stages: string[], extra: Record<string, unknown> = {}) => ({
  ...base,
  strategy: 'CANARY',
  bakeTimeInMinutes: 5,
  canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 },
  lifecycleHooks: [{ hookTargetArn: hook, roleArn: HOOK_ROLE, lifecycleStages: stages, hookDetails: { round: 0 } }],
  ...extra,
});

describe('IN_PROGRESS', () => {
  it('invokes the hook again after callBackDelay with the hookDetails it returned, then continues on SUCCEEDED', async () => {
    const world = progressiveWorld();
    const hook = world.hook('judge', (payload: LifecycleHookPayload) => {
      const round = (payload.hookDetails as { round: number }).round;
      return round < 2 ? { hookStatus: 'IN_PROGRESS', callBackDelay: 45, hookDetails: { round: round + 1 } } : { hookStatus: 'SUCCEEDED' };
    });
    await world.deploy('repo/s:2', 'healthy', canary(hook, ['POST_TEST_TRAFFIC_SHIFT']));
    await world.settle();
    const calls = world.invocations.filter((i) => i.payload.lifecycleStage === 'POST_TEST_TRAFFIC_SHIFT');
    expect(calls.map((c) => c.payload.hookDetails)).toEqual([{ round: 0 }, { round: 1 }, { round: 2 }]);
    expect(need(calls[1]).at - need(calls[0]).at).toBeGreaterThanOrEqual(45_000);
    expect(need(calls[1]).at - need(calls[0]).at).toBeLessThan(46_000);
    expect(new Set(calls.map((c) => c.payload.executionId)).size).toBe(1);
    // Production traffic did not move before the hook succeeded.
    const firstProduction = world.shifts.find((s) => s.rule === 'production');
    expect(need(firstProduction).at).toBeGreaterThanOrEqual(need(calls[2]).at);
    expect(world.events.some((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED')).toBe(true);
  });

  it('waits 30 seconds when no callBackDelay is returned, and keeps the hookDetails it had', async () => {
    const world = progressiveWorld();
    let calls = 0;
    const hook = world.hook('judge', () => ((calls += 1) < 3 ? { hookStatus: 'IN_PROGRESS' } : { hookStatus: 'SUCCEEDED' }));
    await world.deploy('repo/s:2', 'healthy', canary(hook, ['PRE_PRODUCTION_TRAFFIC_SHIFT']));
    await world.settle();
    const invoked = world.invocations.filter((i) => i.payload.lifecycleStage === 'PRE_PRODUCTION_TRAFFIC_SHIFT');
    expect(invoked.length).toBe(4); // 3 at the first step, 1 at the second
    expect(need(invoked[1]).at - need(invoked[0]).at).toBeGreaterThanOrEqual(30_000);
    expect(need(invoked[1]).at - need(invoked[0]).at).toBeLessThan(31_000);
    expect(need(invoked[1]).payload.hookDetails).toEqual({ round: 0 });
  });
});

describe('rollback on a failed hook', () => {
  const failingAtCanary = async (answer: (payload: LifecycleHookPayload) => unknown) => {
    const world = progressiveWorld();
    const hook = world.hook('judge', (payload) =>
      payload.lifecycleStage === 'PRODUCTION_TRAFFIC_SHIFT' &&
      payload.executionDetails.productionTrafficWeights[payload.executionDetails.targetServiceRevisionArn] === 5
        ? answer(payload)
        : { hookStatus: 'SUCCEEDED' },
    );
    const blue = need(world.service().deployments[0]);
    await world.deploy('repo/s:2', 'high-error-rate', canary(hook, ['PRODUCTION_TRAFFIC_SHIFT', 'TEST_TRAFFIC_SHIFT']));
    const green = need(world.service().deployments[0]);
    await world.settle();
    return { world, blue, green };
  };

  for (const [name, answer] of [
    ['FAILED', () => ({ hookStatus: 'FAILED' })],
    ['no hookStatus', () => ({})],
    ['an invalid hookStatus', () => ({ hookStatus: 'PASSED' })],
    [
      'a function error',
      () => {
        throw new Error('judge crashed');
      },
    ],
  ] as const) {
    it(`${name}: production and test traffic back to blue at once, green stopped, ROLLBACK_SUCCESSFUL`, async () => {
      const { world, blue, green } = await failingAtCanary(answer);
      const production = world.shifts.filter((s) => s.rule === 'production');
      expect(production.map((s) => weightOn(s.forward, GREEN))).toEqual([5, 0]);
      const failedAt = need(
        world.invocations.find(
          (i) => i.payload.lifecycleStage === 'PRODUCTION_TRAFFIC_SHIFT' && i.payload.executionDetails.targetServiceRevisionArn === green.serviceRevisionArn,
        ),
      ).at;
      expect(need(production[1]).at - failedAt).toBeLessThan(5_000);
      const test = world.shifts.filter((s) => s.rule === 'test');
      expect(test.map((s) => weightOn(s.forward, BLUE))).toEqual([0, 100]);
      expect(need(test[1]).at).toBe(need(production[1]).at);

      const names = world.events.filter((e) => e.type === 'ECS Deployment State Change').map((e) => [e.detail.eventName, e.detail.deploymentId]);
      expect(names).toEqual([
        ['SERVICE_DEPLOYMENT_IN_PROGRESS', green.id],
        ['SERVICE_DEPLOYMENT_FAILED', green.id],
        ['SERVICE_DEPLOYMENT_IN_PROGRESS', blue.id],
        ['SERVICE_DEPLOYMENT_COMPLETED', blue.id],
      ]);
      const failed = need(world.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED'));
      expect(String(failed.detail.reason)).toContain('function:judge');
      const described = (await world.call('DescribeServiceDeployments', { serviceDeploymentArns: [green.serviceDeploymentArn] })) as {
        serviceDeployments: { status: string; rollback: { serviceRevisionArn: string } }[];
      };
      expect(described.serviceDeployments[0]).toMatchObject({ status: 'ROLLBACK_SUCCESSFUL', rollback: { serviceRevisionArn: blue.serviceRevisionArn } });
      const tasks = world.ecs.serviceTasks(world.service());
      expect(tasks.filter((t) => t.deploymentId === green.id).every((t) => t.lastStatus === 'STOPPED')).toBe(true);
      expect(tasks.filter((t) => t.lastStatus === 'RUNNING').every((t) => t.deploymentId === blue.id)).toBe(true);
      expect(tasks.filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(4);
    });
  }

  it('invokes the PRODUCTION_TRAFFIC_SHIFT and TEST_TRAFFIC_SHIFT hooks for the rollback, targeting the revision rolled back to', async () => {
    const { world, blue, green } = await failingAtCanary(() => ({ hookStatus: 'FAILED' }));
    const rollback = world.invocations.filter((i) => i.payload.executionDetails.targetServiceRevisionArn === blue.serviceRevisionArn);
    expect(rollback.map((i) => i.payload.lifecycleStage)).toEqual(['PRODUCTION_TRAFFIC_SHIFT', 'TEST_TRAFFIC_SHIFT']);
    expect(need(rollback[0]).payload.executionDetails.productionTrafficWeights).toEqual({ [blue.serviceRevisionArn]: 100, [green.serviceRevisionArn]: 0 });
    expect(need(rollback[0]).payload.resourceArn).toBe(green.serviceDeploymentArn);
  });

  it('a hook that does not answer SUCCEEDED during the rollback does not hold it (recorded in the service events)', async () => {
    const world = progressiveWorld();
    let failed = false;
    // SUCCEEDED while deploying, FAILED on test traffic; then, for the rollback, IN_PROGRESS and FAILED.
    const hook = world.hook('stubborn', (payload) => {
      if (payload.lifecycleStage === 'POST_TEST_TRAFFIC_SHIFT') {
        failed = true;
        return { hookStatus: 'FAILED' };
      }
      if (!failed) return { hookStatus: 'SUCCEEDED' };
      return payload.lifecycleStage === 'PRODUCTION_TRAFFIC_SHIFT' ? { hookStatus: 'IN_PROGRESS' } : { hookStatus: 'FAILED' };
    });
    await world.deploy('repo/s:2', 'healthy', canary(hook, ['POST_TEST_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT', 'TEST_TRAFFIC_SHIFT']));
    await world.settle(3600_000);
    expect(world.ecs.isBusy()).toBe(false);
    expect(world.events.filter((e) => e.type === 'ECS Deployment State Change').at(-1)?.detail.eventName).toBe('SERVICE_DEPLOYMENT_COMPLETED');
    expect(world.service().events.some((e) => e.message.includes('at PRODUCTION_TRAFFIC_SHIFT answered IN_PROGRESS; the rollback continues'))).toBe(true);
    expect(world.service().events.some((e) => e.message.includes('at TEST_TRAFFIC_SHIFT answered FAILED'))).toBe(true);
    const listed = (await world.call('ListServiceDeployments', { service: 's' })) as { serviceDeployments: { status: string }[] };
    expect(listed.serviceDeployments[0]?.status).toBe('ROLLBACK_SUCCESSFUL');
    // No production traffic ever reached green: the hook failed on test traffic.
    expect(world.shifts.filter((s) => s.rule === 'production')).toEqual([]);
  });
});

describe('StopServiceDeployment and deployment alarms', () => {
  it('StopServiceDeployment ROLLBACK during the bake returns traffic to blue at once', async () => {
    const world = progressiveWorld();
    await world.deploy('repo/s:2', 'healthy', { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 30 });
    const green = need(world.service().deployments[0]);
    await world.clock.runUntil(() => world.shifts.some((s) => s.rule === 'production'), 3600_000);
    await world.clock.runUntil(() => false, 60_000);
    const stoppedAt = Date.now();
    await world.call('StopServiceDeployment', { serviceDeploymentArn: green.serviceDeploymentArn, stopType: 'ROLLBACK' });
    expect(world.shifts.at(-2)).toMatchObject({ at: stoppedAt, rule: 'production' });
    expect(weightOn(need(world.shifts.at(-2)).forward, BLUE)).toBe(100);
    await world.settle();
    const listed = (await world.call('ListServiceDeployments', { service: 's' })) as { serviceDeployments: { status: string }[] };
    expect(listed.serviceDeployments[0]?.status).toBe('ROLLBACK_SUCCESSFUL');
  });

  it('a deployment alarm going to ALARM during the bake rolls back', async () => {
    const world = progressiveWorld();
    world.alarms.set('s-errors', 'OK');
    await world.deploy('repo/s:2', 'healthy', {
      ...base,
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 30,
      alarms: { alarmNames: ['s-errors'], enable: true, rollback: true },
    });
    const green = need(world.service().deployments[0]);
    await world.clock.runUntil(() => world.shifts.some((s) => s.rule === 'production'), 3600_000);
    await world.clock.runUntil(() => false, 120_000);
    world.alarms.set('s-errors', 'ALARM');
    world.ecs.alarmChanged('s-errors', 'ALARM');
    expect(weightOn(need(world.shifts.at(-2)).forward, GREEN)).toBe(0);
    await world.settle();
    const failed = world.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED');
    expect(failed?.detail).toMatchObject({ deploymentId: green.id });
    expect(String(failed?.detail.reason)).toContain('s-errors');
    const listed = (await world.call('ListServiceDeployments', { service: 's' })) as { serviceDeployments: { status: string }[] };
    expect(listed.serviceDeployments[0]?.status).toBe('ROLLBACK_SUCCESSFUL');
  });
});
