/**
 * How Assure asks ECS to deploy a service, in one place: the UpdateService a
 * rollout, a rollback and a restart send for each strategy, and how long such a
 * deployment may take.
 *
 * - Rolling: the circuit breaker with rollback, and the service's rollback alarms
 *   as deployment alarms.
 * - Blue/green, canary, linear (ECS-native): the same alarms, ECS's strategy with
 *   the fleet file's bake times, and, for a deploy, the load balancer's advanced
 *   configuration (the two target groups, the listener rules, the role ECS shifts
 *   traffic with) and Assure's lifecycle hook. A restart (a secret consumer's
 *   forceNewDeployment) sends the same load balancer, since it may be the first
 *   UpdateService with the fleet file's strategy (ECS refuses a progressive
 *   strategy on a service whose load balancer has no advanced configuration), and
 *   no hook. A rollback follows a deploy that configured the load balancer and
 *   keeps it as it is, with no hook. Nothing judges a rollback or a restart.
 */
import type {
  DeploymentConfiguration,
  DeploymentLifecycleHook,
  DeploymentLifecycleHookStage,
  LoadBalancer,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import type { DeployStrategy, TrafficShift } from '../../../lib/fleet/fleet-schema';
import { iamRoleArn } from '../../../lib/naming';
import type { AssureConfig } from '../runtime/config';
import { InvalidInputError } from '../runtime/errors';

/** What the UpdateService of any deploy, rollback or restart needs to know about the service. */
export interface DeploymentSettings {
  readonly cluster: string;
  readonly ecsServiceName: string;
  readonly container: string;
  readonly rollbackAlarmNames: readonly string[];
  readonly rolling: { readonly maximumPercent: number; readonly minimumHealthyPercent: number };
  readonly strategy: DeployStrategy;
  /** Blue/green, canary and linear only. */
  readonly trafficShift: TrafficShift | null;
}

/** The stages where Assure's hook judges (and, before production traffic, waits for a release approval). */
export const HOOK_LIFECYCLE_STAGES: readonly DeploymentLifecycleHookStage[] = [
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
];

/** What the hook is given at every invocation (ECS passes the hook's `hookDetails`). */
export interface HookDetails {
  /** The fleet service id. */
  readonly service: string;
  /** The deploy execution that started the deployment. */
  readonly deployExecutionId: string;
  readonly requestedBy: string;
  readonly releaseId?: string;
}

/** What a deploy adds to its UpdateService for a progressive strategy. */
export interface ProgressiveRelease {
  readonly loadBalancers: LoadBalancer[];
  readonly lifecycleHooks: DeploymentLifecycleHook[];
}

export interface RolloutOptions {
  readonly forceNewDeployment?: boolean;
  readonly healthCheckGracePeriodSeconds?: number;
  /** A deploy or restart of a blue/green, canary or linear service: the load balancer and Assure's hook (none for a restart). */
  readonly release?: ProgressiveRelease;
}

export const isProgressive = (strategy: DeployStrategy): boolean => strategy.type !== 'rolling';

/** ECS's strategy and bake times for the fleet file's strategy (undefined for rolling). */
function ecsStrategy(
  strategy: DeployStrategy,
): Pick<DeploymentConfiguration, 'strategy' | 'bakeTimeInMinutes' | 'canaryConfiguration' | 'linearConfiguration'> | undefined {
  switch (strategy.type) {
    case 'rolling':
      return undefined;
    case 'blue-green':
      return { strategy: 'BLUE_GREEN', bakeTimeInMinutes: strategy.bakeTimeMinutes };
    case 'canary':
      // The fleet file has one canary bake time: ECS waits it at the canary step and again after the full shift.
      return {
        strategy: 'CANARY',
        bakeTimeInMinutes: strategy.canaryBakeTimeMinutes,
        canaryConfiguration: { canaryPercent: strategy.canaryPercent, canaryBakeTimeInMinutes: strategy.canaryBakeTimeMinutes },
      };
    case 'linear':
      // Likewise: the step bake time between steps and after the last one.
      return {
        strategy: 'LINEAR',
        bakeTimeInMinutes: strategy.stepBakeTimeMinutes,
        linearConfiguration: { stepPercent: strategy.stepPercent, stepBakeTimeInMinutes: strategy.stepBakeTimeMinutes },
      };
  }
}

/**
 * The deployment configuration every UpdateService of a deploy sends, rollout and
 * rollback alike: the circuit breaker with rollback and the rollback alarms as
 * deployment alarms; for a progressive strategy also ECS's strategy, its bake
 * times and the lifecycle hooks (none for a rollback or a restart).
 */
export function deploymentConfiguration(
  settings: Pick<DeploymentSettings, 'rolling' | 'rollbackAlarmNames' | 'strategy'>,
  lifecycleHooks: DeploymentLifecycleHook[] = [],
): DeploymentConfiguration {
  const alarmNames = settings.rollbackAlarmNames;
  const progressive = ecsStrategy(settings.strategy);
  return {
    ...(progressive ? { ...progressive, lifecycleHooks } : {}),
    maximumPercent: settings.rolling.maximumPercent,
    minimumHealthyPercent: settings.rolling.minimumHealthyPercent,
    deploymentCircuitBreaker: { enable: true, rollback: true },
    alarms: { alarmNames: [...alarmNames], enable: alarmNames.length > 0, rollback: alarmNames.length > 0 },
  };
}

/** The UpdateService that points the service at `taskDefinitionArn` with its strategy. */
export function updateServiceInput(settings: DeploymentSettings, taskDefinitionArn: string, options: RolloutOptions = {}): UpdateServiceCommandInput {
  const { release, ...rest } = options;
  return {
    cluster: settings.cluster,
    service: settings.ecsServiceName,
    taskDefinition: taskDefinitionArn,
    ...rest,
    ...(release ? { loadBalancers: release.loadBalancers } : {}),
    deploymentConfiguration: deploymentConfiguration(settings, release?.lifecycleHooks),
  };
}

/**
 * The load balancer ECS shifts a blue/green, canary or linear service's traffic
 * on: both target groups, the listener rules and the traffic-shift role in
 * Assure's account. Undefined for a rolling service.
 */
function progressiveLoadBalancers(
  settings: Pick<DeploymentSettings, 'container' | 'strategy' | 'trafficShift' | 'ecsServiceName'>,
  config: Pick<AssureConfig, 'account'>,
): LoadBalancer[] | undefined {
  if (!isProgressive(settings.strategy)) return undefined;
  const shift = settings.trafficShift;
  // The fleet file refuses a progressive strategy without trafficShift; a plan without one is a bug, not a request to roll.
  if (!shift) throw new InvalidInputError(`${settings.ecsServiceName} uses the ${settings.strategy.type} strategy but its plan has no trafficShift`);
  return [
    {
      targetGroupArn: shift.targetGroupArn,
      containerName: settings.container,
      containerPort: shift.containerPort,
      advancedConfiguration: {
        alternateTargetGroupArn: shift.alternateTargetGroupArn,
        productionListenerRule: shift.productionListenerRuleArn,
        testListenerRule: shift.testListenerRuleArn,
        roleArn: iamRoleArn(config.account, shift.roleName),
      },
    },
  ];
}

/**
 * What a deploy of a blue/green, canary or linear service adds: the load balancer
 * ECS shifts traffic on and Assure's hook. Undefined for a rolling service.
 */
export function progressiveRelease(
  settings: Pick<DeploymentSettings, 'container' | 'strategy' | 'trafficShift' | 'ecsServiceName'>,
  config: Pick<AssureConfig, 'account' | 'deploymentHookFunctionArn' | 'deploymentHookRoleArn'>,
  hookDetails: HookDetails,
): ProgressiveRelease | undefined {
  const loadBalancers = progressiveLoadBalancers(settings, config);
  if (!loadBalancers) return undefined;
  return {
    loadBalancers,
    lifecycleHooks: [
      {
        hookTargetArn: config.deploymentHookFunctionArn,
        roleArn: config.deploymentHookRoleArn,
        lifecycleStages: [...HOOK_LIFECYCLE_STAGES],
        hookDetails: { ...hookDetails },
      },
    ],
  };
}

/**
 * What a restart of a blue/green, canary or linear service adds: the same load
 * balancer as a deploy and no hook (a restart reruns the revision the service
 * already runs; nothing judges it). Undefined for a rolling service.
 */
export function progressiveRestart(
  settings: Pick<DeploymentSettings, 'container' | 'strategy' | 'trafficShift' | 'ecsServiceName'>,
  config: Pick<AssureConfig, 'account'>,
): ProgressiveRelease | undefined {
  const loadBalancers = progressiveLoadBalancers(settings, config);
  return loadBalancers ? { loadBalancers, lifecycleHooks: [] } : undefined;
}

/**
 * The rollout options of a restart or a rollback: for a blue/green, canary or linear service its load
 * balancer (ECS refuses those strategies without it) and no hook; nothing for a rolling one.
 */
export function restartWithLoadBalancer(
  settings: Pick<DeploymentSettings, 'container' | 'strategy' | 'trafficShift' | 'ecsServiceName'>,
  config: Pick<AssureConfig, 'account'>,
): Pick<RolloutOptions, 'release'> {
  const release = progressiveRestart(settings, config);
  return release ? { release } : {};
}

/** Production traffic steps: one for blue/green, the canary and the rest for canary, 100 / stepPercent (rounded up) for linear. */
export function productionTrafficSteps(strategy: DeployStrategy): number {
  switch (strategy.type) {
    case 'rolling':
      return 0;
    case 'blue-green':
      return 1;
    case 'canary':
      return strategy.canaryPercent >= 100 ? 1 : 2;
    case 'linear':
      return Math.ceil(100 / strategy.stepPercent);
  }
}

/** Minutes ECS bakes in a deployment of this strategy (what deploymentConfiguration asks for). */
export function bakeMinutes(strategy: DeployStrategy): number {
  const ecs = ecsStrategy(strategy);
  if (!ecs) return 0;
  const steps = productionTrafficSteps(strategy);
  const stepBake = ecs.canaryConfiguration?.canaryBakeTimeInMinutes ?? ecs.linearConfiguration?.stepBakeTimeInMinutes ?? 0;
  // A bake between steps (none after the last: the final bake follows it).
  return (ecs.bakeTimeInMinutes ?? 0) + stepBake * (steps - 1);
}

/**
 * Hook invocations that may hold a deployment while the judge collects samples:
 * after test traffic, at every production step, and after the full shift.
 */
export function judgedStages(strategy: DeployStrategy): number {
  return isProgressive(strategy) ? productionTrafficSteps(strategy) + 2 : 0;
}
