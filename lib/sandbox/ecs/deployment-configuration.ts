/**
 * A service's deploymentConfiguration as CreateService/UpdateService check it
 * (API reference: DeploymentConfiguration, DeploymentCircuitBreaker,
 * DeploymentAlarms): each refusal is an InvalidParameterException.
 *
 * AWS documents the shapes and ranges but not the messages: the wording here is
 * the sandbox's own, naming the field and the rule.
 */
import { SimulatedAwsError } from '../aws-error';
import { checkStrategy } from './progressive-configuration';
import type { ServiceRecord } from './records';

type DeploymentConfiguration = ServiceRecord['deploymentConfiguration'];

const THRESHOLD_TYPES = ['COUNT', 'BOUNDED_PERCENT', 'UNBOUNDED_PERCENT'];

const refuse = (message: string): never => {
  throw new SimulatedAwsError('InvalidParameterException', message);
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `requested` merged over `current` (fields left out keep their value, as UpdateService does), or an
 * InvalidParameterException naming the first rule it breaks. A REPLICA service's rules:
 * minimumHealthyPercent 0–100, maximumPercent at least 100, and not both at 100 (no task could be replaced).
 */
export function mergeDeploymentConfiguration(current: DeploymentConfiguration, requested: unknown): DeploymentConfiguration {
  if (!isObject(requested)) return refuse('deploymentConfiguration must be an object.');
  const merged = { ...structuredClone(current), ...structuredClone(requested) } as DeploymentConfiguration & Record<string, unknown>;
  if (!Number.isInteger(merged.minimumHealthyPercent) || merged.minimumHealthyPercent < 0 || merged.minimumHealthyPercent > 100) {
    refuse('deploymentConfiguration.minimumHealthyPercent must be an integer from 0 to 100.');
  }
  if (!Number.isInteger(merged.maximumPercent) || merged.maximumPercent < 100) {
    refuse('deploymentConfiguration.maximumPercent must be an integer of at least 100 for a REPLICA service.');
  }
  if (merged.maximumPercent <= 100 && merged.minimumHealthyPercent >= 100) {
    refuse('maximumPercent must be greater than 100 or minimumHealthyPercent less than 100.');
  }
  checkCircuitBreaker(merged.deploymentCircuitBreaker);
  checkAlarms(merged.alarms);
  checkStrategy(merged);
  return merged;
}

/** DeploymentCircuitBreaker: `enable` and `rollback` are required booleans. */
function checkCircuitBreaker(breaker: unknown): void {
  if (!isObject(breaker)) return refuse('deploymentConfiguration.deploymentCircuitBreaker must be an object.');
  for (const field of ['enable', 'rollback']) {
    if (typeof breaker[field] !== 'boolean') refuse(`deploymentConfiguration.deploymentCircuitBreaker.${field} is required and must be a boolean.`);
  }
  if (breaker.resetOnHealthyTask !== undefined && typeof breaker.resetOnHealthyTask !== 'boolean') {
    refuse('deploymentConfiguration.deploymentCircuitBreaker.resetOnHealthyTask must be a boolean.');
  }
  const threshold = breaker.thresholdConfiguration;
  if (threshold === undefined) return;
  if (!isObject(threshold) || !THRESHOLD_TYPES.includes(String(threshold.type))) {
    refuse(`deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.type must be one of ${THRESHOLD_TYPES.join(', ')}.`);
  }
  const value = (threshold as Record<string, unknown>).value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    refuse('deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.value must be a positive integer.');
  }
}

/** DeploymentAlarms: `alarmNames` (strings), `enable` and `rollback` are all required. */
function checkAlarms(alarms: unknown): void {
  if (!isObject(alarms)) return refuse('deploymentConfiguration.alarms must be an object.');
  if (!Array.isArray(alarms.alarmNames) || alarms.alarmNames.some((name) => typeof name !== 'string' || name.length === 0)) {
    refuse('deploymentConfiguration.alarms.alarmNames is required and must be a list of alarm names.');
  }
  for (const field of ['enable', 'rollback']) {
    if (typeof alarms[field] !== 'boolean') refuse(`deploymentConfiguration.alarms.${field} is required and must be a boolean.`);
  }
}
