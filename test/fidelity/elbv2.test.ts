/**
 * Elastic Load Balancing v2 as the sandbox answers it, against the API
 * reference: DescribeRules (Rule: RuleArn, Priority as a string, Conditions,
 * Actions with Type forward and ForwardConfig.TargetGroups [{TargetGroupArn,
 * Weight}], IsDefault), DescribeTargetGroups (TargetGroup fields, including
 * the load balancers that route to it), DescribeTargetHealth
 * (TargetHealthDescription: Target {Id, Port}, HealthCheckPort, TargetHealth
 * {State: initial | healthy | unhealthy | unused | draining, Reason}), and the
 * errors RuleNotFound and TargetGroupNotFound.
 */
import { describe, expect, it } from 'vitest';
import type { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { listenerOf, loadBalancerOf } from '../../lib/sandbox/simulated-elbv2';
import { BLUE, GREEN, HOOK_ROLE, PRODUCTION_RULE, progressiveWorld, TEST_RULE } from './ecs-progressive-fixture';

const code = async (work: Promise<unknown>): Promise<string> => {
  try {
    await work;
  } catch (error) {
    return (error as SimulatedAwsError).code;
  }
  return 'none';
};

describe('DescribeRules', () => {
  it('answers rules by ARN or by listener, in priority order, with their forward weights', async () => {
    const { elb } = progressiveWorld();
    const byArn = (await elb.handle('DescribeRules', { RuleArns: [PRODUCTION_RULE] })) as { Rules: Record<string, unknown>[] };
    expect(byArn.Rules[0]).toEqual({
      RuleArn: PRODUCTION_RULE,
      Priority: '10',
      Conditions: [{ Field: 'path-pattern', Values: ['/*'], PathPatternConfig: { Values: ['/*'] } }],
      Actions: [
        {
          Type: 'forward',
          Order: 1,
          TargetGroupArn: BLUE,
          ForwardConfig: { TargetGroups: [{ TargetGroupArn: BLUE, Weight: 100 }], TargetGroupStickinessConfig: { Enabled: false } },
        },
      ],
      IsDefault: false,
    });
    const listener = listenerOf(TEST_RULE);
    expect(listener).toBe('arn:aws:elasticloadbalancing:eu-west-2:111122223333:listener/app/trading/0a1b2c3d4e5f6071/0a1b2c3d4e5f6073');
    const byListener = (await elb.handle('DescribeRules', { ListenerArn: listener })) as { Rules: { RuleArn: string }[] };
    expect(byListener.Rules.map((r) => r.RuleArn)).toEqual([TEST_RULE]);
    expect(await code(elb.handle('DescribeRules', { RuleArns: [`${PRODUCTION_RULE.slice(0, -1)}0`] }))).toBe('RuleNotFoundException');
  });
});

describe('DescribeTargetGroups', () => {
  it('lists the target groups with their health-check settings and load balancers', async () => {
    const { elb } = progressiveWorld();
    const answer = (await elb.handle('DescribeTargetGroups', { TargetGroupArns: [BLUE, GREEN] })) as { TargetGroups: Record<string, unknown>[] };
    expect(answer.TargetGroups.map((g) => g.TargetGroupName)).toEqual(['s-blue', 's-green']);
    expect(answer.TargetGroups[0]).toMatchObject({
      Protocol: 'HTTP',
      Port: 8080,
      TargetType: 'ip',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
      LoadBalancerArns: [loadBalancerOf(PRODUCTION_RULE)],
    });
    // Green gets no traffic from any rule yet.
    expect(answer.TargetGroups[1]?.LoadBalancerArns).toEqual([]);
    expect(await code(elb.handle('DescribeTargetGroups', { TargetGroupArns: [BLUE.replace('s-blue', 's-red')] }))).toBe('TargetGroupNotFoundException');
  });
});

describe('DescribeTargetHealth', () => {
  it("shows ECS's tasks as targets: healthy in blue, draining while blue is cleaned up, unused when not registered", async () => {
    const world = progressiveWorld({ deregistrationDelaySeconds: 120 });
    type Health = {
      TargetHealthDescriptions: { Target: { Id: string; Port: number }; HealthCheckPort?: string; TargetHealth: { State: string; Reason?: string } }[];
    };
    const blue = (await world.elb.handle('DescribeTargetHealth', { TargetGroupArn: BLUE })) as Health;
    expect(blue.TargetHealthDescriptions).toHaveLength(4);
    expect(blue.TargetHealthDescriptions[0]).toMatchObject({ Target: { Port: 8080 }, HealthCheckPort: '8080', TargetHealth: { State: 'healthy' } });
    const ip = blue.TargetHealthDescriptions[0]?.Target.Id ?? '';
    const one = (await world.elb.handle('DescribeTargetHealth', { TargetGroupArn: BLUE, Targets: [{ Id: ip }, { Id: '10.9.9.9', Port: 8080 }] })) as Health;
    expect(one.TargetHealthDescriptions.map((d) => [d.Target.Id, d.TargetHealth.State, d.TargetHealth.Reason])).toEqual([
      [ip, 'healthy', undefined],
      ['10.9.9.9', 'unused', 'Target.NotRegistered'],
    ]);

    const hook = world.hook('watch', () => ({ hookStatus: 'SUCCEEDED' }));
    await world.deploy('repo/s:2', 'healthy', {
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 0,
      lifecycleHooks: [{ hookTargetArn: hook, roleArn: HOOK_ROLE, lifecycleStages: ['POST_PRODUCTION_TRAFFIC_SHIFT'] }],
    });
    await world.clock.runUntil(() => world.ecs.targetsIn(BLUE).some((t) => t.state === 'draining'), 3600_000);
    const draining = (await world.elb.handle('DescribeTargetHealth', { TargetGroupArn: BLUE })) as Health;
    expect(
      draining.TargetHealthDescriptions.every((d) => d.TargetHealth.State === 'draining' && d.TargetHealth.Reason === 'Target.DeregistrationInProgress'),
    ).toBe(true);
    expect(await code(world.elb.handle('DescribeTargetHealth', { TargetGroupArn: BLUE.replace('s-blue', 's-red') }))).toBe('TargetGroupNotFoundException');
    await world.settle();
    expect(((await world.elb.handle('DescribeTargetHealth', { TargetGroupArn: BLUE })) as Health).TargetHealthDescriptions).toEqual([]);
  });
});
