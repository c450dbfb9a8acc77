/**
 * One simulated ECS service under virtual time, for the ECS fidelity tests: a
 * cluster `c` with a service `s` already running `repo/s:1`, and verbs to roll
 * out another image over the ECS API.
 */
import { afterEach } from 'vitest';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { type ContainerDefinition, type ServiceRecord, SimulatedEcs, type TargetGroupConfig } from '../../lib/sandbox/simulated-ecs';
import { type ImageBehaviour, ImageCatalogue } from '../../lib/sandbox/simulated-workloads';
import { VirtualClock } from '../../lib/sandbox/virtual-clock';

export interface EcsWorldOptions {
  readonly desiredCount?: number;
  /** The service's target group (none when absent). */
  readonly targetGroup?: Partial<TargetGroupConfig>;
  /** The container's healthCheck, as RegisterTaskDefinition takes it. */
  readonly healthCheck?: ContainerDefinition['healthCheck'];
  readonly healthCheckGracePeriodSeconds?: number;
}

export interface EcsWorld {
  readonly ecs: SimulatedEcs;
  readonly images: ImageCatalogue;
  readonly clock: VirtualClock;
  /** Every EventBridge event ECS sent: detail-type and detail. */
  readonly events: { type: string; detail: Record<string, unknown> }[];
  readonly service: () => ServiceRecord;
  /** Registers `image` (with the same health check) and rolls the service out to it with the circuit breaker on. */
  readonly rollOut: (image: string, behaviour: ImageBehaviour, extra?: Record<string, unknown>) => Promise<void>;
  /** Runs virtual time until no rollout is in progress and no task is between states (or `maxMs` passes). */
  readonly settle: (maxMs?: number) => Promise<void>;
  readonly call: (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

const worlds: { ecs: SimulatedEcs; clock: VirtualClock }[] = [];

afterEach(() => {
  for (const { ecs, clock } of worlds.splice(0)) {
    ecs.dispose();
    clock.uninstall();
  }
});

export const TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:eu-west-2:111122223333:targetgroup/s/0123456789abcdef';

export function ecsWorld(options: EcsWorldOptions = {}): EcsWorld {
  const clock = VirtualClock.install(Date.UTC(2026, 0, 5, 9));
  const images = new ImageCatalogue();
  const events: EcsWorld['events'] = [];
  const ecs = new SimulatedEcs(
    { account: '111122223333', region: 'eu-west-2', random: new SeededRandom(7) },
    images,
    (type, _resources, detail) => events.push({ type, detail }),
    () => undefined,
  );
  worlds.push({ ecs, clock });
  const container = (image: string): ContainerDefinition => ({
    name: 's',
    image,
    essential: true,
    portMappings: [{ containerPort: 8080 }],
    ...(options.healthCheck ? { healthCheck: options.healthCheck } : {}),
  });
  ecs.createCluster('c');
  ecs.seedService({
    cluster: 'c',
    serviceName: 's',
    desiredCount: options.desiredCount ?? 4,
    healthCheckGracePeriodSeconds: options.healthCheckGracePeriodSeconds ?? 0,
    loadBalancers: options.targetGroup
      ? [
          {
            targetGroupArn: TARGET_GROUP_ARN,
            containerName: 's',
            containerPort: 8080,
            intervalSeconds: 10,
            healthyThresholdCount: 2,
            deregistrationDelaySeconds: 0,
            ...options.targetGroup,
          },
        ]
      : [],
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
  const service = (): ServiceRecord => {
    const record = ecs.serviceRecord('c', 's');
    if (!record) throw new Error('no service s');
    return record;
  };
  return {
    ecs,
    images,
    clock,
    events,
    service,
    call,
    rollOut: async (image, behaviour, extra = {}) => {
      images.set(image, behaviour);
      const registered = (await call('RegisterTaskDefinition', { family: 's', containerDefinitions: [container(image)] })) as {
        taskDefinition: { taskDefinitionArn: string };
      };
      await call('UpdateService', {
        service: 's',
        taskDefinition: registered.taskDefinition.taskDefinitionArn,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
        ...extra,
      });
    },
    settle: async (maxMs = 3 * 3600_000) => {
      await clock.runUntil(() => !ecs.isBusy(), maxMs);
    },
  };
}
