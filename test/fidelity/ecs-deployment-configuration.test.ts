/**
 * UpdateService checks deploymentConfiguration as ECS does, held to the Amazon
 * ECS API Reference:
 * - "DeploymentConfiguration"
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html):
 *   minimumHealthyPercent is a lower limit in percent of the desired count (0–100),
 *   maximumPercent an upper limit (a REPLICA service's default 200);
 * - "DeploymentCircuitBreaker"
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html):
 *   `enable` and `rollback` are required booleans;
 * - "DeploymentAlarms"
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html):
 *   `alarmNames`, `enable` and `rollback` are required;
 * - "UpdateService", Errors
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html):
 *   a bad parameter is an InvalidParameterException.
 *
 * AWS does not document the messages; the tests check the error name only.
 */
import { describe, expect, it } from 'vitest';
import { ecsWorld } from './ecs-fixture';

const valid = {
  maximumPercent: 200,
  minimumHealthyPercent: 100,
  deploymentCircuitBreaker: { enable: true, rollback: true },
  alarms: { alarmNames: ['a'], enable: true, rollback: true },
};

describe('UpdateService deploymentConfiguration', () => {
  it.each<[string, Record<string, unknown>]>([
    ['minimumHealthyPercent below 0', { minimumHealthyPercent: -1 }],
    ['minimumHealthyPercent above 100', { minimumHealthyPercent: 101 }],
    ['minimumHealthyPercent not an integer', { minimumHealthyPercent: 50.5 }],
    ['maximumPercent below 100', { maximumPercent: 99, minimumHealthyPercent: 0 }],
    ['maximumPercent not a number', { maximumPercent: '200' }],
    ['maximumPercent and minimumHealthyPercent both 100 (no task can be replaced)', { maximumPercent: 100, minimumHealthyPercent: 100 }],
    ['a circuit breaker without rollback', { deploymentCircuitBreaker: { enable: true } }],
    ['a circuit breaker whose enable is not a boolean', { deploymentCircuitBreaker: { enable: 'true', rollback: true } }],
    [
      'a circuit breaker threshold of an unknown type',
      { deploymentCircuitBreaker: { enable: true, rollback: true, thresholdConfiguration: { type: 'PERCENT', value: 50 } } },
    ],
    [
      'a circuit breaker threshold value of 0',
      { deploymentCircuitBreaker: { enable: true, rollback: true, thresholdConfiguration: { type: 'COUNT', value: 0 } } },
    ],
    ['alarms without alarmNames', { alarms: { enable: true, rollback: true } }],
    ['alarms without enable', { alarms: { alarmNames: ['a'], rollback: true } }],
    ['alarms whose names are not strings', { alarms: { alarmNames: [1], enable: true, rollback: false } }],
  ])('refuses %s with InvalidParameterException, and changes nothing', async (_case, change) => {
    const world = ecsWorld();
    const before = structuredClone(world.service().deploymentConfiguration);
    const update = world.call('UpdateService', { service: 's', desiredCount: 6, deploymentConfiguration: { ...valid, ...change } });
    await expect(update).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect(world.service().deploymentConfiguration).toEqual(before);
    expect(world.service().desiredCount).toBe(4);
  });

  it('accepts a valid configuration, and keeps the fields a call leaves out', async () => {
    const world = ecsWorld();
    await world.call('UpdateService', { service: 's', deploymentConfiguration: valid });
    await world.call('UpdateService', { service: 's', deploymentConfiguration: { maximumPercent: 150, minimumHealthyPercent: 50 } });
    expect(world.service().deploymentConfiguration).toEqual({ ...valid, maximumPercent: 150, minimumHealthyPercent: 50 });
    await world.call('UpdateService', {
      service: 's',
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: false, resetOnHealthyTask: false, thresholdConfiguration: { type: 'COUNT', value: 5 } },
      },
    });
    expect(world.service().deploymentConfiguration.deploymentCircuitBreaker).toEqual({
      enable: true,
      rollback: false,
      resetOnHealthyTask: false,
      thresholdConfiguration: { type: 'COUNT', value: 5 },
    });
  });
});
