/**
 * The sandbox account runs blue/green, canary and linear deployments of a fleet
 * service behind its simulated Application Load Balancer: the target groups and
 * listener rules come from the fleet's `trafficShift`, ECS re-weights the rules
 * (Elastic Load Balancing answers DescribeRules, DescribeTargetGroups and
 * DescribeTargetHealth in AWS's shapes), `traffic()` and `onTrafficChange()`
 * follow the weights, and ECS invokes lifecycle hooks as each hook's role.
 */
import { DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RuleNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REQUEST_RESOURCES } from '../../lib/sandbox/iam/request-resources';
import { Sandbox } from '../../lib/sandbox/sandbox';
import type { LifecycleHookPayload, ServiceTraffic } from '../../lib/sandbox/simulated-ecs';
import { fleetWith, openSandbox } from '../support/sandbox';

const elbv2 = (sandbox: Sandbox): ElasticLoadBalancingV2Client => {
  const client = new ElasticLoadBalancingV2Client({
    region: sandbox.context.region,
    credentials: { accessKeyId: 'SANDBOX', secretAccessKey: 'SANDBOX' },
    maxAttempts: 1,
  });
  // As createAwsClients plugs the sandbox in: the transport answers in place of HTTP.
  (client.middlewareStack as unknown as { use(plugin: ReturnType<Sandbox['transport']['plugin']>): void }).use(sandbox.transport.plugin());
  return client;
};

const shiftOf = (sandbox: Sandbox) => {
  const shift = sandbox.fleet.services['order-gateway']?.trafficShift;
  if (!shift) throw new Error('order-gateway has no trafficShift');
  return shift;
};

/** Registers order-gateway's next image and deploys it as a canary, with `hookArn` judging every production step. */
async function deployCanary(sandbox: Sandbox, hookArn: string | undefined, hookRoleArn: string): Promise<void> {
  const shift = shiftOf(sandbox);
  const ecs = sandbox.clients.ecs;
  const cluster = sandbox.fleet.cluster;
  const current = sandbox.ecs.serviceRecord(cluster, 'order-gateway');
  const definition = sandbox.ecs.taskDefinition(current?.taskDefinition ?? '');
  const image = `${sandbox.fleet.services['order-gateway']?.imageRepository ?? ''}@sha256:${'ab'.repeat(32)}`;
  sandbox.images.set(image, 'healthy');
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'order-gateway',
      containerDefinitions: [
        { name: sandbox.fleet.services['order-gateway']?.container, image, essential: true, portMappings: [{ containerPort: shift.containerPort }] },
      ],
      ...(definition?.executionRoleArn ? { executionRoleArn: definition.executionRoleArn } : {}),
    }),
  );
  await ecs.send(
    new UpdateServiceCommand({
      cluster,
      service: 'order-gateway',
      taskDefinition: registered.taskDefinition?.taskDefinitionArn,
      loadBalancers: [
        {
          targetGroupArn: shift.targetGroupArn,
          containerName: sandbox.fleet.services['order-gateway']?.container,
          containerPort: shift.containerPort,
          advancedConfiguration: {
            alternateTargetGroupArn: shift.alternateTargetGroupArn,
            productionListenerRule: shift.productionListenerRuleArn,
            testListenerRule: shift.testListenerRuleArn,
            roleArn: `arn:aws:iam::${sandbox.context.account}:role/${shift.roleName}`,
          },
        },
      ],
      deploymentConfiguration: {
        strategy: 'CANARY',
        bakeTimeInMinutes: 1,
        canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 2 },
        lifecycleHooks: hookArn
          ? [{ hookTargetArn: hookArn, roleArn: hookRoleArn, lifecycleStages: ['PRODUCTION_TRAFFIC_SHIFT'], hookDetails: { service: 'order-gateway' } }]
          : [],
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    }),
  );
}

describe('the fleet behind its load balancer', () => {
  it('seeds both target groups and the production and test rules from trafficShift; tasks serve from the production group', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    const shift = shiftOf(sandbox);
    const client = elbv2(sandbox);
    const rules = await client.send(new DescribeRulesCommand({ RuleArns: [shift.productionListenerRuleArn, shift.testListenerRuleArn] }));
    expect(rules.Rules?.map((r) => r.Actions?.[0]?.ForwardConfig?.TargetGroups)).toEqual([
      [{ TargetGroupArn: shift.targetGroupArn, Weight: 100 }],
      [{ TargetGroupArn: shift.targetGroupArn, Weight: 100 }],
    ]);
    expect(rules.Rules?.[0]?.Actions?.[0]?.Type).toBe('forward');
    const groups = await client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [shift.targetGroupArn, shift.alternateTargetGroupArn] }));
    expect(groups.TargetGroups?.map((g) => g.TargetGroupName)).toEqual(['order-gateway-blue', 'order-gateway-green']);
    const health = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: shift.targetGroupArn }));
    const desired = sandbox.fleet.services['order-gateway']?.capacity.desired;
    expect(health.TargetHealthDescriptions?.filter((d) => d.TargetHealth?.State === 'healthy')).toHaveLength(desired ?? 0);
    expect((await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: shift.alternateTargetGroupArn }))).TargetHealthDescriptions).toEqual([]);
    await expect(client.send(new DescribeRulesCommand({ RuleArns: [`${shift.productionListenerRuleArn.slice(0, -1)}9`] }))).rejects.toBeInstanceOf(
      RuleNotFoundException,
    );
    const traffic = sandbox.traffic('order-gateway');
    expect(traffic.revisions).toHaveLength(1);
    expect(traffic.revisions[0]).toMatchObject({ targetGroupArn: shift.targetGroupArn, productionWeight: 100, testWeight: 100 });
  });

  it('ECS shifts the canary, traffic() and onTrafficChange() follow the weights, tasks show the digest they run', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, { iam: 'off' });
    const shift = shiftOf(sandbox);
    const payloads: LifecycleHookPayload[] = [];
    const hook = sandbox.lambda.createFunction({
      functionName: 'test-judge',
      timeoutSeconds: 60,
      handler: async (event) => {
        payloads.push(event as LifecycleHookPayload);
        return { hookStatus: 'SUCCEEDED' };
      },
    });
    const changes: { serviceId: string; traffic: ServiceTraffic }[] = [];
    sandbox.onTrafficChange((serviceId, traffic) => changes.push({ serviceId, traffic }));
    await deployCanary(sandbox, hook, `arn:aws:iam::${sandbox.context.account}:role/any`);
    await sandbox.settleEcs(3600_000);
    const production = (c: { traffic: ServiceTraffic }) =>
      c.traffic.revisions
        .map((r) => [r.targetGroupArn === shift.alternateTargetGroupArn ? 'green' : 'blue', r.productionWeight, r.testWeight])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(changes.every((c) => c.serviceId === 'order-gateway')).toBe(true);
    expect(changes.map(production)).toEqual([
      [
        ['blue', 100, 0],
        ['green', 0, 100],
      ],
      [
        ['blue', 95, 0],
        ['green', 5, 100],
      ],
      [
        ['blue', 0, 0],
        ['green', 100, 100],
      ],
    ]);
    expect((changes[2]?.traffic.at ?? 0) - (changes[1]?.traffic.at ?? 0)).toBeGreaterThanOrEqual(120_000);
    expect(payloads).toHaveLength(2);
    expect(payloads[0]?.hookDetails).toEqual({ service: 'order-gateway' });
    const now = sandbox.traffic('order-gateway');
    expect(now.revisions).toHaveLength(1);
    expect(now.revisions[0]).toMatchObject({
      targetGroupArn: shift.alternateTargetGroupArn,
      productionWeight: 100,
      image: expect.stringContaining('@sha256:abab'),
    });

    const ecs = sandbox.clients.ecs;
    const listed = await ecs.send(new ListTasksCommand({ cluster: sandbox.fleet.cluster, serviceName: 'order-gateway' }));
    const described = await ecs.send(new DescribeTasksCommand({ cluster: sandbox.fleet.cluster, tasks: listed.taskArns }));
    const containers = described.tasks?.flatMap((t) => t.containers ?? []) ?? [];
    expect(containers.length).toBeGreaterThan(0);
    expect(containers.every((c) => c.image?.endsWith(`@sha256:${'ab'.repeat(32)}`) && c.imageDigest === `sha256:${'ab'.repeat(32)}`)).toBe(true);
  });

  it('invokes a hook as its role: a role without lambda:InvokeFunction on the function rolls the deployment back', async () => {
    const sandbox = await openSandbox(fleetWith(), undefined, {
      editPolicies: (policies) => ({
        ...policies,
        roles: {
          ...policies.roles,
          [`arn:aws:iam::${policies.account}:role/hook-denied`]: { roleName: 'hook-denied', documents: [] },
        },
      }),
    });
    const hook = sandbox.lambda.createFunction({ functionName: 'test-judge', timeoutSeconds: 60, handler: async () => ({ hookStatus: 'SUCCEEDED' }) });
    await deployCanary(sandbox, hook, `arn:aws:iam::${sandbox.context.account}:role/hook-denied`);
    await sandbox.settleEcs(3600_000);
    const failed = sandbox.eventBridge.events.find(
      (e) => e['detail-type'] === 'ECS Deployment State Change' && e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED',
    );
    expect(String(failed?.detail.reason)).toContain('is not authorized to perform: lambda:InvokeFunction');
    expect(sandbox.traffic('order-gateway').revisions.map((r) => [r.targetGroupArn, r.productionWeight])).toEqual([[shiftOf(sandbox).targetGroupArn, 100]]);
  });
});

describe('across sandbox sessions', () => {
  it('a canary saved in its bake carries on after the sandbox is opened again', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'assure-canary-'));
    try {
      let sandbox = await Sandbox.open({ fleet: fleetWith(), stateDirectory: directory, iam: 'off' });
      await deployCanary(sandbox, undefined, '');
      await sandbox.clock.runUntil(() => sandbox.traffic('order-gateway').revisions.some((r) => r.productionWeight === 5), 3600_000);
      const shiftedAt = Date.now();
      await sandbox.save();
      sandbox.dispose();

      sandbox = await Sandbox.open({ fleet: fleetWith(), stateDirectory: directory, iam: 'off' });
      const changes: ServiceTraffic[] = [];
      sandbox.onTrafficChange((_id, traffic) => changes.push(traffic));
      expect(
        sandbox
          .traffic('order-gateway')
          .revisions.map((r) => r.productionWeight)
          .sort((a, b) => a - b),
      ).toEqual([5, 95]);
      await sandbox.settleEcs(3600_000);
      expect(changes.map((c) => c.revisions.find((r) => r.targetGroupArn === shiftOf(sandbox).alternateTargetGroupArn)?.productionWeight)).toEqual([100]);
      expect((changes[0]?.at ?? 0) - shiftedAt).toBeGreaterThanOrEqual(120_000);
      expect(sandbox.eventBridge.events.some((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED')).toBe(true);
      sandbox.dispose();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('IAM for the new requests', () => {
  const lookups = {
    account: '111122223333',
    region: 'eu-west-2',
    secretArn: () => undefined,
    rotationFunction: () => undefined,
    tokenStateMachine: () => undefined,
  };

  it('UpdateService passes the load-balancer role and each hook role to ecs.amazonaws.com', () => {
    const facts = REQUEST_RESOURCES['ecs:UpdateService']?.(
      {
        cluster: 'trading-prod',
        service: 'order-gateway',
        loadBalancers: [{ advancedConfiguration: { roleArn: 'arn:aws:iam::111122223333:role/elb' } }],
        deploymentConfiguration: { lifecycleHooks: [{ roleArn: 'arn:aws:iam::111122223333:role/hook' }, { roleArn: 'arn:aws:iam::111122223333:role/hook' }] },
      },
      lookups,
    );
    expect(facts?.further).toEqual([
      { action: 'iam:PassRole', resources: ['arn:aws:iam::111122223333:role/elb'], context: { 'iam:PassedToService': 'ecs.amazonaws.com' } },
      { action: 'iam:PassRole', resources: ['arn:aws:iam::111122223333:role/hook'], context: { 'iam:PassedToService': 'ecs.amazonaws.com' } },
    ]);
  });

  it("Elastic Load Balancing's Describe actions have no resource-level permissions", () => {
    for (const action of ['DescribeRules', 'DescribeTargetGroups', 'DescribeTargetHealth']) {
      expect(REQUEST_RESOURCES[`elasticloadbalancing:${action}`]?.({}, lookups)).toEqual({ resources: {} });
    }
  });
});
