/**
 * UpdateService's checks of blue/green, canary and linear settings, with the
 * ranges the ECS API reference documents: DeploymentConfiguration
 * (bakeTimeInMinutes 0–1440; strategy ROLLING, BLUE_GREEN, CANARY, LINEAR),
 * CanaryConfiguration (canaryPercent "multiples of 0.1 from 0.1 to 100.0",
 * canaryBakeTimeInMinutes 0–1440), LinearConfiguration (stepPercent "multiples
 * of 0.1 from 3.0 to 100.0", stepBakeTimeInMinutes 0–1440),
 * DeploymentLifecycleHook (lifecycleStages; SCALE_UP, BAKE_TIME and CLEAN_UP
 * take no hook) and AdvancedConfiguration (alternateTargetGroupArn required;
 * blue/green, canary and linear need a load balancer). A refused call changes
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { ADVANCED, BLUE, closeWorlds, HOOK_ROLE, progressiveWorld } from './ecs-progressive-fixture';

const HOOK = 'arn:aws:lambda:eu-west-2:111122223333:function:judge';

async function refusal(deploymentConfiguration: Record<string, unknown>, advancedConfiguration: unknown = ADVANCED): Promise<string> {
  const world = progressiveWorld();
  const before = structuredClone(world.service().deploymentConfiguration);
  try {
    await world.call('UpdateService', {
      service: 's',
      forceNewDeployment: true,
      loadBalancers: [{ targetGroupArn: BLUE, containerName: 's', containerPort: 8080, ...(advancedConfiguration ? { advancedConfiguration } : {}) }],
      deploymentConfiguration,
    });
  } catch (error) {
    expect(error).toBeInstanceOf(SimulatedAwsError);
    expect((error as SimulatedAwsError).code).toBe('InvalidParameterException');
    expect(world.service().deploymentConfiguration).toEqual(before);
    expect(world.service().deployments).toHaveLength(1);
    return (error as Error).message;
  } finally {
    closeWorlds();
  }
  throw new Error('UpdateService was accepted');
}

describe('ranges', () => {
  it.each([
    [{ strategy: 'CANARY', canaryConfiguration: { canaryPercent: 0 } }, 'canaryPercent'],
    [{ strategy: 'CANARY', canaryConfiguration: { canaryPercent: 5.05 } }, 'canaryPercent'],
    [{ strategy: 'CANARY', canaryConfiguration: { canaryPercent: 100.1 } }, 'canaryPercent'],
    [{ strategy: 'CANARY', canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 1441 } }, 'canaryBakeTimeInMinutes'],
    [{ strategy: 'LINEAR', linearConfiguration: { stepPercent: 2.9 } }, 'stepPercent'],
    [{ strategy: 'LINEAR', linearConfiguration: { stepPercent: 10, stepBakeTimeInMinutes: -1 } }, 'stepBakeTimeInMinutes'],
    [{ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1441 }, 'bakeTimeInMinutes'],
    [{ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1.5 }, 'bakeTimeInMinutes'],
    [{ strategy: 'RED_BLACK' }, 'strategy'],
    [{ strategy: 'BLUE_GREEN' }, 'bakeTimeInMinutes is required'],
  ])('%j is refused, naming %s', async (configuration, field) => {
    expect(await refusal(configuration)).toContain(field);
  });

  it('accepts the edges: canaryPercent 0.1 and 100, stepPercent 3, bake times 0 and 1440', async () => {
    const world = progressiveWorld();
    for (const configuration of [
      { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 0.1, canaryBakeTimeInMinutes: 0 }, bakeTimeInMinutes: 1440 },
      { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 100, canaryBakeTimeInMinutes: 1440 }, bakeTimeInMinutes: 0 },
      { strategy: 'LINEAR', linearConfiguration: { stepPercent: 3, stepBakeTimeInMinutes: 1440 } },
    ]) {
      await world.call('UpdateService', {
        service: 's',
        loadBalancers: [{ targetGroupArn: BLUE, containerName: 's', containerPort: 8080, advancedConfiguration: ADVANCED }],
        deploymentConfiguration: configuration,
      });
      expect(world.service().deploymentConfiguration).toMatchObject(configuration);
    }
  });
});

describe('lifecycle hooks', () => {
  it.each(['SCALE_UP', 'BAKE_TIME', 'CLEAN_UP'])('a hook at %s is refused', async (stage) => {
    const message = await refusal({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 5,
      lifecycleHooks: [{ hookTargetArn: HOOK, roleArn: HOOK_ROLE, lifecycleStages: [stage] }],
    });
    expect(message).toContain(stage);
    expect(message).toContain('lifecycleHooks[0].lifecycleStages');
  });

  it('an unknown stage, no stages, or a target that is not a Lambda function is refused', async () => {
    expect(
      await refusal({
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 5,
        lifecycleHooks: [{ hookTargetArn: HOOK, roleArn: HOOK_ROLE, lifecycleStages: ['POST_BAKE'] }],
      }),
    ).toContain('POST_BAKE');
    expect(
      await refusal({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5, lifecycleHooks: [{ hookTargetArn: HOOK, roleArn: HOOK_ROLE, lifecycleStages: [] }] }),
    ).toContain('lifecycleStages');
    expect(
      await refusal({
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 5,
        lifecycleHooks: [{ hookTargetArn: 'arn:aws:sns:eu-west-2:111122223333:t', roleArn: HOOK_ROLE, lifecycleStages: ['PRE_SCALE_UP'] }],
      }),
    ).toContain('hookTargetArn');
  });
});

describe('load balancer advanced configuration', () => {
  it.each(['BLUE_GREEN', 'CANARY', 'LINEAR'])('%s without advancedConfiguration is refused, naming the field', async (strategy) => {
    expect(await refusal({ strategy, bakeTimeInMinutes: 5 }, null)).toContain('loadBalancers[].advancedConfiguration');
  });

  it('the alternate target group is required, differs from the target group, and must exist', async () => {
    expect(await refusal({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 }, { ...ADVANCED, alternateTargetGroupArn: undefined })).toContain(
      'alternateTargetGroupArn',
    );
    expect(await refusal({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 }, { ...ADVANCED, alternateTargetGroupArn: BLUE })).toContain(
      'alternateTargetGroupArn',
    );
    expect(
      await refusal({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 }, { ...ADVANCED, alternateTargetGroupArn: BLUE.replace('s-blue', 's-other') }),
    ).toContain('not found');
    expect(
      await refusal(
        { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 },
        { ...ADVANCED, productionListenerRule: `${ADVANCED.productionListenerRule.slice(0, -1)}9` },
      ),
    ).toContain('productionListenerRule');
  });

  it('ROLLING needs none of it, as before', async () => {
    const world = progressiveWorld();
    await world.call('UpdateService', { service: 's', deploymentConfiguration: { strategy: 'ROLLING' } });
    expect(world.service().deploymentConfiguration.strategy).toBe('ROLLING');
  });
});
