/**
 * Blue/green, canary and linear deployments, as the Amazon ECS Developer Guide
 * describes them:
 * - "Amazon ECS blue/green service deployments workflow" and the
 *   DeploymentLifecycleHook API reference: the stages in order; green starts
 *   beside blue (POST_SCALE_UP: "The green service revision has started. The blue
 *   service revision is handling 100% of the production traffic"); test traffic
 *   moves to green (POST_TEST_TRAFFIC_SHIFT: "The green service revision handles
 *   100% of the test traffic") before production does; bake time; clean-up.
 * - CanaryConfiguration ("canaryPercent … canaryBakeTimeInMinutes: the amount of
 *   time to wait after shifting the canary traffic before shifting the remaining
 *   traffic") and LinearConfiguration ("shifts production traffic in equal
 *   percentage increments with configurable wait times between each step …
 *   This bake time is not applied after reaching 100 percent traffic").
 * - "Lifecycle hooks for Amazon ECS service deployments": the payload, and the
 *   PRE_/PRODUCTION_TRAFFIC_SHIFT hooks at every canary/linear step.
 */
import { describe, expect, it } from 'vitest';
import { BLUE, GREEN, HOOK_ROLE, PRODUCTION_RULE, progressiveWorld, TEST_RULE, weightOn } from './ecs-progressive-fixture';

const HOOKABLE = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
];

const base = { deploymentCircuitBreaker: { enable: true, rollback: true } };

describe('BLUE_GREEN', () => {
  it('runs the lifecycle stages in order, green beside blue, test traffic before production, then bake and clean-up', async () => {
    const world = progressiveWorld();
    const blueRevision = world.service().deployments[0]?.serviceRevisionArn;
    const hook = world.hook('recorder', () => ({ hookStatus: 'SUCCEEDED' }));
    await world.deploy('repo/s:2', 'healthy', {
      ...base,
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 5,
      lifecycleHooks: [{ hookTargetArn: hook, roleArn: HOOK_ROLE, lifecycleStages: HOOKABLE, hookDetails: { service: 's' } }],
    });
    const green = world.service().deployments[0];
    await world.settle();

    // RECONCILE_SERVICE runs hooks only with more than one ACTIVE revision: here there was one.
    expect(world.invocations.map((i) => i.payload.lifecycleStage)).toEqual(HOOKABLE.slice(1));
    const at = (stage: string) => world.invocations.find((i) => i.payload.lifecycleStage === stage)?.payload;
    const greenRevision = green?.serviceRevisionArn ?? '';
    expect(at('POST_SCALE_UP')?.executionDetails).toEqual({
      serviceArn: world.service().serviceArn,
      targetServiceRevisionArn: greenRevision,
      testTrafficWeights: { [blueRevision ?? '']: 100 },
      productionTrafficWeights: { [blueRevision ?? '']: 100, [greenRevision]: 0 },
    });
    expect(at('POST_TEST_TRAFFIC_SHIFT')?.executionDetails.testTrafficWeights).toEqual({ [greenRevision]: 100 });
    expect(at('PRODUCTION_TRAFFIC_SHIFT')?.executionDetails.productionTrafficWeights).toEqual({ [blueRevision ?? '']: 0, [greenRevision]: 100 });
    expect(new Set(world.invocations.map((i) => i.payload.executionId)).size).toBe(1);
    expect(world.invocations.every((i) => i.payload.resourceArn === green?.serviceDeploymentArn)).toBe(true);
    expect(at('PRE_SCALE_UP')?.hookDetails).toEqual({ service: 's' });

    // Test traffic moved to green first; production all at once.
    expect(world.shifts.map((s) => [s.rule, weightOn(s.forward, GREEN)])).toEqual([
      ['test', 100],
      ['production', 100],
    ]);
    // Completed after the bake time, counted from the production shift, with blue's tasks stopped.
    const shiftedAt = world.shifts[1]?.at ?? 0;
    const completed = world.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED');
    expect(completed?.detail.deploymentId).toBe(green?.id);
    expect((completed?.at ?? 0) - shiftedAt).toBeGreaterThanOrEqual(5 * 60_000);
    const tasks = world.ecs.serviceTasks(world.service());
    expect(tasks.filter((t) => t.lastStatus === 'RUNNING').every((t) => t.targetGroupArn === GREEN)).toBe(true);
    expect(tasks.filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(4);
    expect(tasks.filter((t) => t.deploymentId !== green?.id).every((t) => t.lastStatus === 'STOPPED')).toBe(true);

    const listed = (await world.call('ListServiceDeployments', { service: 's' })) as { serviceDeployments: { status: string }[] };
    expect(listed.serviceDeployments[0]?.status).toBe('SUCCESSFUL');
    const described = (await world.call('DescribeServiceDeployments', { serviceDeploymentArns: [green?.serviceDeploymentArn] })) as {
      serviceDeployments: { status: string; lifecycleStage: string }[];
    };
    expect(described.serviceDeployments[0]).toMatchObject({ status: 'SUCCESSFUL', lifecycleStage: 'CLEAN_UP' });
    const services = (await world.call('DescribeServices', { services: ['s'] })) as {
      services: { loadBalancers: unknown[]; deploymentConfiguration: { strategy: string } }[];
    };
    expect(services.services[0]?.deploymentConfiguration.strategy).toBe('BLUE_GREEN');
    expect(services.services[0]?.loadBalancers[0]).toMatchObject({
      advancedConfiguration: { alternateTargetGroupArn: GREEN, productionListenerRule: PRODUCTION_RULE },
    });
  });

  it('green tasks register in the alternate target group and turn healthy there while blue serves', async () => {
    const world = progressiveWorld();
    type Health = { TargetHealthDescriptions: { Target: { Id: string; Port: number }; TargetHealth: { State: string } }[] };
    const seen: Record<string, Health> = {};
    const hook = world.hook('look', async () => {
      seen.green = (await world.elb.handle('DescribeTargetHealth', { TargetGroupArn: GREEN })) as Health;
      seen.blue = (await world.elb.handle('DescribeTargetHealth', { TargetGroupArn: BLUE })) as Health;
      return { hookStatus: 'SUCCEEDED' };
    });
    await world.deploy('repo/s:2', 'healthy', {
      ...base,
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 0,
      lifecycleHooks: [{ hookTargetArn: hook, roleArn: HOOK_ROLE, lifecycleStages: ['POST_SCALE_UP'] }],
    });
    await world.settle();
    const greenIps = world.ecs
      .serviceTasks(world.service())
      .filter((t) => t.image === 'repo/s:2')
      .map((t) => t.privateIp);
    expect(seen.green?.TargetHealthDescriptions.map((d) => d.Target.Id).sort()).toEqual(greenIps.sort());
    expect(seen.green?.TargetHealthDescriptions.every((d) => d.Target.Port === 8080 && d.TargetHealth.State === 'healthy')).toBe(true);
    expect(seen.blue?.TargetHealthDescriptions.filter((d) => d.TargetHealth.State === 'healthy')).toHaveLength(4);
    expect(seen.blue?.TargetHealthDescriptions.some((d) => greenIps.includes(d.Target.Id))).toBe(false);
  });

  it('swaps the target groups on the next deployment: green serves production, blue becomes the alternate', async () => {
    const world = progressiveWorld();
    await world.deploy('repo/s:2', 'healthy', { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 });
    await world.settle();
    await world.deploy('repo/s:3', 'healthy', { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 });
    await world.settle();
    expect(world.shifts.map((s) => [s.rule, weightOn(s.forward, BLUE)])).toEqual([
      ['test', 0],
      ['production', 0],
      ['test', 100],
      ['production', 100],
    ]);
    const running = world.ecs.serviceTasks(world.service()).filter((t) => t.lastStatus === 'RUNNING');
    expect(running.every((t) => t.targetGroupArn === BLUE && t.image === 'repo/s:3')).toBe(true);
    const rules = (await world.elb.handle('DescribeRules', { RuleArns: [PRODUCTION_RULE, TEST_RULE] })) as {
      Rules: { Actions: { Type: string; ForwardConfig: { TargetGroups: { TargetGroupArn: string; Weight: number }[] } }[] }[];
    };
    expect(rules.Rules[0]?.Actions[0]?.ForwardConfig.TargetGroups).toEqual([
      { TargetGroupArn: GREEN, Weight: 0 },
      { TargetGroupArn: BLUE, Weight: 100 },
    ]);
    expect(rules.Rules[1]?.Actions[0]?.ForwardConfig.TargetGroups).toEqual([{ TargetGroupArn: BLUE, Weight: 100 }]);
  });
});

describe('CANARY', () => {
  it('shifts canaryPercent, bakes canaryBakeTimeInMinutes, then shifts the rest; the traffic-shift hooks run at both steps', async () => {
    const world = progressiveWorld();
    const hook = world.hook('judge', () => ({ hookStatus: 'SUCCEEDED' }));
    await world.deploy('repo/s:2', 'healthy', {
      ...base,
      strategy: 'CANARY',
      bakeTimeInMinutes: 2,
      canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 10 },
      lifecycleHooks: [{ hookTargetArn: hook, roleArn: HOOK_ROLE, lifecycleStages: ['PRE_PRODUCTION_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT'] }],
    });
    await world.settle();
    const production = world.shifts.filter((s) => s.rule === 'production');
    expect(production.map((s) => weightOn(s.forward, GREEN))).toEqual([5, 100]);
    expect(production.map((s) => weightOn(s.forward, BLUE))).toEqual([95, 0]);
    const gap = (production[1]?.at ?? 0) - (production[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(10 * 60_000);
    expect(gap).toBeLessThan(10 * 60_000 + 5_000);
    expect(world.invocations.map((i) => [i.payload.lifecycleStage, Object.values(i.payload.executionDetails.productionTrafficWeights)])).toEqual([
      ['PRE_PRODUCTION_TRAFFIC_SHIFT', [100, 0]],
      ['PRODUCTION_TRAFFIC_SHIFT', [95, 5]],
      ['PRE_PRODUCTION_TRAFFIC_SHIFT', [95, 5]],
      ['PRODUCTION_TRAFFIC_SHIFT', [0, 100]],
    ]);
    const completed = world.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED');
    expect((completed?.at ?? 0) - (production[1]?.at ?? 0)).toBeGreaterThanOrEqual(2 * 60_000);
  });

  it("uses ECS's defaults: 5 % for 10 minutes", async () => {
    const world = progressiveWorld();
    await world.deploy('repo/s:2', 'healthy', { ...base, strategy: 'CANARY' });
    await world.settle();
    const production = world.shifts.filter((s) => s.rule === 'production');
    expect(production.map((s) => weightOn(s.forward, GREEN))).toEqual([5, 100]);
    expect((production[1]?.at ?? 0) - (production[0]?.at ?? 0)).toBeGreaterThanOrEqual(10 * 60_000);
  });
});

describe('LINEAR', () => {
  it('shifts stepPercent at a time with stepBakeTimeInMinutes between steps, none after 100 %', async () => {
    const world = progressiveWorld();
    const hook = world.hook('judge', () => ({ hookStatus: 'SUCCEEDED' }));
    await world.deploy('repo/s:2', 'healthy', {
      ...base,
      strategy: 'LINEAR',
      bakeTimeInMinutes: 0,
      linearConfiguration: { stepPercent: 30, stepBakeTimeInMinutes: 3 },
      lifecycleHooks: [{ hookTargetArn: hook, roleArn: HOOK_ROLE, lifecycleStages: ['PRODUCTION_TRAFFIC_SHIFT'] }],
    });
    await world.settle();
    const production = world.shifts.filter((s) => s.rule === 'production');
    expect(production.map((s) => weightOn(s.forward, GREEN))).toEqual([30, 60, 90, 100]);
    for (let i = 1; i < production.length; i += 1) {
      const gap = (production[i]?.at ?? 0) - (production[i - 1]?.at ?? 0);
      expect(gap).toBeGreaterThanOrEqual(3 * 60_000);
      expect(gap).toBeLessThan(3 * 60_000 + 5_000);
    }
    expect(world.invocations.filter((i) => i.payload.lifecycleStage === 'PRODUCTION_TRAFFIC_SHIFT')).toHaveLength(4);
    const completed = world.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED');
    expect((completed?.at ?? 0) - (production[3]?.at ?? 0)).toBeLessThan(60_000);
  });
});

describe('one deployment after another', () => {
  it('a rolling deployment after a blue/green one keeps serving from the target group production forwards to', async () => {
    const world = progressiveWorld();
    await world.deploy('repo/s:2', 'healthy', { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 });
    await world.settle();
    await world.deploy('repo/s:3', 'healthy', { ...base, strategy: 'ROLLING' });
    await world.settle();
    const running = world.ecs.serviceTasks(world.service()).filter((t) => t.lastStatus === 'RUNNING');
    expect(running.map((t) => [t.image, t.targetGroupArn])).toEqual(Array.from({ length: 4 }, () => ['repo/s:3', GREEN]));
    expect(world.elb.weights(PRODUCTION_RULE)?.filter((t) => t.weight > 0)).toEqual([{ targetGroupArn: GREEN, weight: 100 }]);
    expect(world.ecs.traffic(world.service()).map((r) => [r.image, r.productionWeight])).toEqual([['repo/s:3', 100]]);
  });

  it('a new deployment during a canary returns its traffic to blue, and runs from there', async () => {
    const world = progressiveWorld();
    await world.deploy('repo/s:2', 'healthy', { ...base, strategy: 'CANARY', canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 30 } });
    await world.clock.runUntil(() => world.shifts.some((s) => s.rule === 'production'), 3600_000);
    await world.deploy('repo/s:3', 'healthy', { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 });
    expect(world.elb.weights(PRODUCTION_RULE)?.filter((t) => t.weight > 0)).toEqual([{ targetGroupArn: BLUE, weight: 100 }]);
    await world.settle();
    const running = world.ecs.serviceTasks(world.service()).filter((t) => t.lastStatus === 'RUNNING');
    expect(running.map((t) => [t.image, t.targetGroupArn])).toEqual(Array.from({ length: 4 }, () => ['repo/s:3', GREEN]));
    expect(world.ecs.traffic(world.service()).map((r) => [r.image, r.productionWeight])).toEqual([['repo/s:3', 100]]);
    const listed = (await world.call('ListServiceDeployments', { service: 's' })) as { serviceDeployments: { status: string }[] };
    expect(listed.serviceDeployments.map((d) => d.status)).toEqual(['SUCCESSFUL', 'STOPPED', 'SUCCESSFUL']);
  });

  it('DescribeServiceRevisions shows each container image and its digest', async () => {
    const world = progressiveWorld();
    const digest = `sha256:${'cd'.repeat(32)}`;
    await world.deploy(`repo/s@${digest}`, 'healthy', { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0 });
    await world.settle();
    const revision = world.service().deployments[0]?.serviceRevisionArn;
    const answer = (await world.call('DescribeServiceRevisions', { serviceRevisionArns: [revision] })) as {
      serviceRevisions: { containerImages: { containerName: string; image: string; imageDigest: string }[] }[];
    };
    expect(answer.serviceRevisions[0]?.containerImages).toEqual([{ containerName: 's', image: `repo/s@${digest}`, imageDigest: digest }]);
  });
});
