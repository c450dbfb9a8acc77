/**
 * The parts of CreateService/UpdateService that blue/green, canary and linear
 * deployments add (ECS API reference: DeploymentConfiguration,
 * CanaryConfiguration, LinearConfiguration, DeploymentLifecycleHook,
 * LoadBalancer, AdvancedConfiguration). Each refusal is an
 * InvalidParameterException naming the field; the wording is the sandbox's own.
 */
import { SimulatedAwsError } from '../aws-error';
import type { EcsLoadBalancing } from './load-balancing';
import { type AdvancedConfiguration, LIFECYCLE_STAGES, type LifecycleStage, type ServiceRecord, type TargetGroupConfig } from './records';

type DeploymentConfiguration = ServiceRecord['deploymentConfiguration'];

const STRATEGIES = ['ROLLING', 'BLUE_GREEN', 'CANARY', 'LINEAR'];
/** Stages that take no hook (DeploymentLifecycleHook.lifecycleStages). */
const NO_HOOK_STAGES: readonly string[] = ['SCALE_UP', 'BAKE_TIME', 'CLEAN_UP'];
/** ECS's defaults (API reference): canary 5 % for 10 minutes, linear 10 % steps of 6 minutes. */
export const CANARY_DEFAULTS = { canaryPercent: 5, canaryBakeTimeInMinutes: 10 } as const;
export const LINEAR_DEFAULTS = { stepPercent: 10, stepBakeTimeInMinutes: 6 } as const;

const refuse = (message: string): never => {
  throw new SimulatedAwsError('InvalidParameterException', message);
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const minutes = (value: unknown, field: string): void => {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1440) refuse(`${field} must be an integer from 0 to 1440.`);
};

/** A number from `min` to 100 in steps of 0.1. */
const percent = (value: unknown, min: number, field: string): void => {
  if (value === undefined) return;
  const ok = typeof value === 'number' && value >= min && value <= 100 && Math.abs(value * 10 - Math.round(value * 10)) < 1e-9;
  if (!ok) refuse(`${field} must be a multiple of 0.1 from ${min.toFixed(1)} to 100.0.`);
};

/** Checks the strategy fields of a merged deploymentConfiguration (defaults are ECS's, applied when a deployment starts). */
export function checkStrategy(configuration: DeploymentConfiguration & Record<string, unknown>): void {
  const strategy = configuration.strategy;
  if (strategy !== undefined && !STRATEGIES.includes(strategy)) refuse(`deploymentConfiguration.strategy must be one of ${STRATEGIES.join(', ')}.`);
  minutes(configuration.bakeTimeInMinutes, 'deploymentConfiguration.bakeTimeInMinutes');
  const canary = configuration.canaryConfiguration as unknown;
  if (canary !== undefined) {
    if (!isObject(canary)) refuse('deploymentConfiguration.canaryConfiguration must be an object.');
    const c = canary as Record<string, unknown>;
    percent(c.canaryPercent, 0.1, 'deploymentConfiguration.canaryConfiguration.canaryPercent');
    minutes(c.canaryBakeTimeInMinutes, 'deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes');
  }
  const linear = configuration.linearConfiguration as unknown;
  if (linear !== undefined) {
    if (!isObject(linear)) refuse('deploymentConfiguration.linearConfiguration must be an object.');
    const l = linear as Record<string, unknown>;
    percent(l.stepPercent, 3, 'deploymentConfiguration.linearConfiguration.stepPercent');
    minutes(l.stepBakeTimeInMinutes, 'deploymentConfiguration.linearConfiguration.stepBakeTimeInMinutes');
  }
  const hooks = configuration.lifecycleHooks as unknown;
  if (hooks !== undefined) {
    if (!Array.isArray(hooks)) return refuse('deploymentConfiguration.lifecycleHooks must be a list.');
    hooks.forEach((hook: unknown, i) => checkHook(hook, `deploymentConfiguration.lifecycleHooks[${i}]`));
  }
  // API reference, DeploymentConfiguration.bakeTimeInMinutes: "You must provide this parameter when you use the BLUE_GREEN deployment strategy."
  if (strategy === 'BLUE_GREEN' && configuration.bakeTimeInMinutes === undefined)
    refuse('deploymentConfiguration.bakeTimeInMinutes is required for a BLUE_GREEN deployment.');
}

function checkHook(hook: unknown, field: string): void {
  if (!isObject(hook)) return refuse(`${field} must be an object.`);
  if (typeof hook.hookTargetArn !== 'string' || !/^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(hook.hookTargetArn)) {
    refuse(`${field}.hookTargetArn must be a Lambda function ARN.`);
  }
  if (typeof hook.roleArn !== 'string' || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(hook.roleArn)) refuse(`${field}.roleArn must be an IAM role ARN.`);
  const stages = hook.lifecycleStages;
  if (!Array.isArray(stages) || stages.length === 0) return refuse(`${field}.lifecycleStages must name at least one lifecycle stage.`);
  for (const stage of stages as unknown[]) {
    if (!LIFECYCLE_STAGES.includes(stage as LifecycleStage)) refuse(`${field}.lifecycleStages: ${String(stage)} is not a lifecycle stage.`);
    if (NO_HOOK_STAGES.includes(stage as string)) refuse(`${field}.lifecycleStages: ${String(stage)} does not take a lifecycle hook.`);
  }
  if (hook.hookDetails !== undefined && !isObject(hook.hookDetails) && !Array.isArray(hook.hookDetails)) {
    refuse(`${field}.hookDetails must be a JSON object.`);
  }
}

/**
 * UpdateService's `loadBalancers` over the service's current ones: the target group settings (health check,
 * deregistration delay) belong to the target group and are kept; the container, port and advanced
 * configuration are the request's.
 */
export function mergeLoadBalancers(current: readonly TargetGroupConfig[], requested: unknown, elb: EcsLoadBalancing | undefined): TargetGroupConfig[] {
  if (!Array.isArray(requested)) return refuse('loadBalancers must be a list.');
  return requested.map((entry: unknown, i): TargetGroupConfig => {
    const field = `loadBalancers[${i}]`;
    if (!isObject(entry)) return refuse(`${field} must be an object.`);
    const targetGroupArn = String(entry.targetGroupArn ?? '');
    if (!targetGroupArn.includes(':targetgroup/')) refuse(`${field}.targetGroupArn must be a target group ARN.`);
    if (elb && !elb.hasTargetGroup(targetGroupArn)) refuse(`${field}.targetGroupArn: target group ${targetGroupArn} not found.`);
    if (typeof entry.containerName !== 'string' || typeof entry.containerPort !== 'number') refuse(`${field} needs containerName and containerPort.`);
    const base = current.find((lb) => lb.targetGroupArn === targetGroupArn) ?? current[0];
    if (!base) return refuse(`${field}: the service has no load balancer settings to update.`);
    const advanced = entry.advancedConfiguration === undefined ? undefined : advancedConfiguration(entry.advancedConfiguration, targetGroupArn, field, elb);
    const { advancedConfiguration: _previous, ...settings } = base;
    return {
      ...settings,
      targetGroupArn,
      containerName: entry.containerName as string,
      containerPort: entry.containerPort as number,
      ...(advanced ? { advancedConfiguration: advanced } : {}),
    };
  });
}

function advancedConfiguration(value: unknown, targetGroupArn: string, field: string, elb: EcsLoadBalancing | undefined): AdvancedConfiguration {
  if (!isObject(value)) return refuse(`${field}.advancedConfiguration must be an object.`);
  const alternate = value.alternateTargetGroupArn;
  if (typeof alternate !== 'string' || !alternate.includes(':targetgroup/'))
    return refuse(`${field}.advancedConfiguration.alternateTargetGroupArn is required.`);
  if (alternate === targetGroupArn) refuse(`${field}.advancedConfiguration.alternateTargetGroupArn must differ from targetGroupArn.`);
  if (elb && !elb.hasTargetGroup(alternate)) refuse(`${field}.advancedConfiguration.alternateTargetGroupArn: target group ${alternate} not found.`);
  const production = value.productionListenerRule;
  if (typeof production !== 'string' || production.length === 0)
    return refuse(`${field}.advancedConfiguration.productionListenerRule is required for an Application Load Balancer.`);
  const test = value.testListenerRule;
  if (test !== undefined && typeof test !== 'string') refuse(`${field}.advancedConfiguration.testListenerRule must be a listener rule ARN.`);
  for (const [name, rule] of [
    ['productionListenerRule', production],
    ['testListenerRule', test],
  ] as const) {
    if (typeof rule === 'string' && elb && !elb.hasRule(rule)) refuse(`${field}.advancedConfiguration.${name}: listener rule ${rule} not found.`);
  }
  const roleArn = value.roleArn;
  if (typeof roleArn !== 'string' || !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(roleArn))
    return refuse(`${field}.advancedConfiguration.roleArn must be an IAM role ARN.`);
  return {
    alternateTargetGroupArn: alternate,
    productionListenerRule: production,
    ...(typeof test === 'string' ? { testListenerRule: test } : {}),
    roleArn,
  };
}

/** A progressive strategy needs the advanced configuration on a load balancer. */
export function requireAdvancedConfiguration(configuration: DeploymentConfiguration, loadBalancers: readonly TargetGroupConfig[]): void {
  const strategy = configuration.strategy ?? 'ROLLING';
  if (strategy === 'ROLLING') return;
  if (loadBalancers.length === 0)
    refuse(`A ${strategy} deployment needs loadBalancers (an Application Load Balancer, a Network Load Balancer or Service Connect).`);
  if (!loadBalancers.some((lb) => lb.advancedConfiguration)) {
    refuse(`loadBalancers[].advancedConfiguration is required for a ${strategy} deployment (alternateTargetGroupArn, productionListenerRule, roleArn).`);
  }
}
