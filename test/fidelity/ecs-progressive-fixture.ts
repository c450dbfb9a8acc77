/**
 * One simulated ECS service behind a simulated Application Load Balancer, for
 * the blue/green, canary and linear fidelity tests: cluster `c`, service `s`
 * running `repo/s:1` in the blue target group, a production listener rule (100 %
 * blue) and a test listener rule, lifecycle hook functions in a simulated
 * Lambda, and verbs to deploy another image with a progressive strategy.
 */
import { afterEach } from 'vitest';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { type LifecycleHookPayload, type ServiceRecord, SimulatedEcs } from '../../lib/sandbox/simulated-ecs';
import { SimulatedElbv2 } from '../../lib/sandbox/simulated-elbv2';
import { SimulatedLambda } from '../../lib/sandbox/simulated-lambda';
import { type ImageBehaviour, ImageCatalogue } from '../../lib/sandbox/simulated-workloads';
import { VirtualClock } from '../../lib/sandbox/virtual-clock';

const ARN = 'arn:aws:elasticloadbalancing:eu-west-2:111122223333';
export const BLUE = `${ARN}:targetgroup/s-blue/0a1b2c3d4e5f6051`;
export const GREEN = `${ARN}:targetgroup/s-green/0a1b2c3d4e5f6052`;
export const PRODUCTION_RULE = `${ARN}:listener-rule/app/trading/0a1b2c3d4e5f6071/0a1b2c3d4e5f6072/0a1b2c3d4e5f6053`;
export const TEST_RULE = `${ARN}:listener-rule/app/trading/0a1b2c3d4e5f6071/0a1b2c3d4e5f6073/0a1b2c3d4e5f6054`;
export const ELB_ROLE = 'arn:aws:iam::111122223333:role/ecs-infrastructure-load-balancers';
export const HOOK_ROLE = 'arn:aws:iam::111122223333:role/ecs-hook-invoke';

export const ADVANCED = { alternateTargetGroupArn: GREEN, productionListenerRule: PRODUCTION_RULE, testListenerRule: TEST_RULE, roleArn: ELB_ROLE };

/** A hook's function: gets AWS's payload, answers a hookStatus (or throws). */
export type HookFunction = (payload: LifecycleHookPayload) => unknown;

export interface ProgressiveWorld {
  readonly ecs: SimulatedEcs;
  readonly elb: SimulatedElbv2;
  readonly lambda: SimulatedLambda;
  readonly images: ImageCatalogue;
  readonly clock: VirtualClock;
  readonly start: number;
  /** ECS's EventBridge events. */
  readonly events: { at: number; type: string; detail: Record<string, unknown> }[];
  /** Every listener rule change: when, which rule, and green's (alternate target group's) weight on it. */
  readonly shifts: { at: number; rule: 'production' | 'test'; forward: { targetGroupArn: string; weight: number }[] }[];
  /** Every hook invocation: when, which function, and the payload. */
  readonly invocations: { at: number; hook: string; payload: LifecycleHookPayload }[];
  /** Alarms the deployment may watch, by name: their state. */
  readonly alarms: Map<string, string>;
  readonly service: () => ServiceRecord;
  /** Creates a hook function; returns its ARN. */
  readonly hook: (name: string, fn: HookFunction) => string;
  /** Registers `image` and deploys it with UpdateService: loadBalancers with the advanced configuration and `deploymentConfiguration`. */
  readonly deploy: (image: string, behaviour: ImageBehaviour, deploymentConfiguration: Record<string, unknown>) => Promise<void>;
  readonly settle: (maxMs?: number) => Promise<void>;
  readonly call: (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

const worlds: { ecs: SimulatedEcs; lambda: SimulatedLambda; clock: VirtualClock }[] = [];

/** Disposes every world opened so far (after each test, or between worlds within one). */
export function closeWorlds(): void {
  for (const { ecs, lambda, clock } of worlds.splice(0)) {
    ecs.dispose();
    lambda.dispose();
    clock.uninstall();
  }
}

afterEach(closeWorlds);

export function progressiveWorld(options: { desiredCount?: number; deregistrationDelaySeconds?: number } = {}): ProgressiveWorld {
  const start = Date.UTC(2026, 0, 5, 9);
  const clock = VirtualClock.install(start);
  const images = new ImageCatalogue();
  const events: ProgressiveWorld['events'] = [];
  const shifts: ProgressiveWorld['shifts'] = [];
  const invocations: ProgressiveWorld['invocations'] = [];
  const alarms = new Map<string, string>();
  const random = new SeededRandom(7);
  const lambda = new SimulatedLambda({ account: '111122223333', region: 'eu-west-2', random });
  const elb = new SimulatedElbv2();
  const healthCheck = { healthCheckIntervalSeconds: 10, healthyThresholdCount: 2, deregistrationDelaySeconds: options.deregistrationDelaySeconds ?? 0 };
  elb.createTargetGroup({ targetGroupArn: BLUE, port: 8080, ...healthCheck });
  elb.createTargetGroup({ targetGroupArn: GREEN, port: 8080, ...healthCheck });
  elb.createRule({ ruleArn: PRODUCTION_RULE, priority: 10, pathPatterns: ['/*'], forward: [{ targetGroupArn: BLUE, weight: 100 }] });
  elb.createRule({
    ruleArn: TEST_RULE,
    priority: 5,
    httpHeader: { name: 'X-Assure-Test', values: ['1'] },
    forward: [{ targetGroupArn: BLUE, weight: 100 }],
  });
  elb.onRuleChange((ruleArn, forward) =>
    shifts.push({ at: Date.now(), rule: ruleArn === PRODUCTION_RULE ? 'production' : 'test', forward: forward.map((t) => ({ ...t })) }),
  );
  const ecs = new SimulatedEcs(
    { account: '111122223333', region: 'eu-west-2', random },
    images,
    (type, _resources, detail) => events.push({ at: Date.now(), type, detail }),
    (name) => {
      const state = alarms.get(name);
      return state ? { state, evaluationWindowMs: 60_000 } : undefined;
    },
    {
      elb,
      invokeHook: async (hook, payload) => {
        invocations.push({ at: Date.now(), hook: hook.hookTargetArn.split(':').pop() ?? '', payload: structuredClone(payload) });
        return lambda.invoke(hook.hookTargetArn, payload);
      },
    },
  );
  elb.registeredTargets((arn) => ecs.targetsIn(arn));
  worlds.push({ ecs, lambda, clock });
  const container = (image: string) => ({ name: 's', image, essential: true, portMappings: [{ containerPort: 8080 }] });
  ecs.createCluster('c');
  ecs.seedService({
    cluster: 'c',
    serviceName: 's',
    desiredCount: options.desiredCount ?? 4,
    healthCheckGracePeriodSeconds: 0,
    loadBalancers: [
      {
        targetGroupArn: BLUE,
        containerName: 's',
        containerPort: 8080,
        intervalSeconds: 10,
        healthyThresholdCount: 2,
        deregistrationDelaySeconds: options.deregistrationDelaySeconds ?? 0,
      },
    ],
    taskDefinition: {
      family: 's',
      containerDefinitions: [container('repo/s:1')],
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      tags: [],
    },
  });
  const call = async (operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> =>
    (await ecs.handle(operation, { cluster: 'c', ...input })) as Record<string, unknown>;
  return {
    ecs,
    elb,
    lambda,
    images,
    clock,
    start,
    events,
    shifts,
    invocations,
    alarms,
    service: () => {
      const record = ecs.serviceRecord('c', 's');
      if (!record) throw new Error('no service s');
      return record;
    },
    hook: (name, fn) => lambda.createFunction({ functionName: name, handler: async (event) => fn(event as LifecycleHookPayload), timeoutSeconds: 900 }),
    deploy: async (image, behaviour, deploymentConfiguration) => {
      images.set(image, behaviour);
      const registered = (await call('RegisterTaskDefinition', { family: 's', containerDefinitions: [container(image)] })) as {
        taskDefinition: { taskDefinitionArn: string };
      };
      await call('UpdateService', {
        service: 's',
        taskDefinition: registered.taskDefinition.taskDefinitionArn,
        loadBalancers: [{ targetGroupArn: BLUE, containerName: 's', containerPort: 8080, advancedConfiguration: ADVANCED }],
        deploymentConfiguration,
      });
    },
    settle: async (maxMs = 6 * 3600_000) => {
      await clock.runUntil(() => !ecs.isBusy(), maxMs);
    },
    call,
  };
}

/** Green's weight on a recorded rule change. */
export const weightOn = (forward: readonly { targetGroupArn: string; weight: number }[], targetGroupArn: string): number =>
  forward.find((t) => t.targetGroupArn === targetGroupArn)?.weight ?? 0;
