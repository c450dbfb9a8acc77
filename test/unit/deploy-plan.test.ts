import { describe, expect, it } from 'vitest';
import { deployPlan, deployTimings, serviceTarget } from '../../functions/shared/domain/deploy-plan';
import { bakeMinutes, judgedStages, productionTrafficSteps } from '../../functions/shared/domain/deployment-strategy';
import type { Fleet, FleetService } from '../../lib/fleet/fleet';
import type { DeployStrategy } from '../../lib/fleet/fleet-schema';
import { exampleFleet } from '../support/handler-deps';

// examples/trading-fleet.yaml: progressDeadlineMinutes 20, soakMinutes 5, the judge's inconclusiveLimitMinutes 15,
// release approvals not required (timeoutMinutes 60).
const fleet = exampleFleet();
const orderGateway = (strategy: DeployStrategy): FleetService => {
  const service = fleet.services['order-gateway'];
  if (!service) throw new Error('the example fleet has no order-gateway');
  return { ...service, strategy };
};
const minutes = (m: number): number => m * 60;

const ROLLING: DeployStrategy = { type: 'rolling', maximumPercent: 200, minimumHealthyPercent: 100 };
const BLUE_GREEN: DeployStrategy = { type: 'blue-green', bakeTimeMinutes: 10 };
const CANARY: DeployStrategy = { type: 'canary', canaryPercent: 5, canaryBakeTimeMinutes: 10 };
const LINEAR: DeployStrategy = { type: 'linear', stepPercent: 30, stepBakeTimeMinutes: 6 };

describe('deploy timings', () => {
  it('gives a rolling deploy the fleet progress deadline for the rollout and the outcome alike', () => {
    expect(deployTimings(fleet, orderGateway(ROLLING))).toEqual({
      progressDeadlineSeconds: minutes(20),
      outcomeDeadlineSeconds: minutes(20),
      soakSeconds: minutes(5),
      lockLeaseSeconds: minutes(20) + minutes(20) + minutes(5) + minutes(15),
    });
  });

  it.each([
    // strategy, production steps, bake minutes (between steps and after the last), judged stages
    ['blue-green', BLUE_GREEN, 1, 10, 3],
    ['canary', CANARY, 2, 10 + 10, 4],
    // 30 % steps: 30, 60, 90, 100; a step bake between steps and after the last.
    ['linear', LINEAR, 4, 4 * 6, 6],
  ] as const)('counts %s steps, bakes and judged stages', (_name, strategy, steps, bake, stages) => {
    expect(productionTrafficSteps(strategy)).toBe(steps);
    expect(bakeMinutes(strategy)).toBe(bake);
    expect(judgedStages(strategy)).toBe(stages);
  });

  it.each([
    ['blue-green', BLUE_GREEN, 10, 3],
    ['canary', CANARY, 20, 4],
    ['linear', LINEAR, 24, 6],
  ] as const)('lets a %s outcome wait cover the deadline, the bakes and the judge at every stage', (_name, strategy, bake, stages) => {
    const timings = deployTimings(fleet, orderGateway(strategy));

    expect(timings.progressDeadlineSeconds).toBe(minutes(20 + bake));
    expect(timings.outcomeDeadlineSeconds).toBe(minutes(20 + bake + stages * 15));
    expect(timings.lockLeaseSeconds).toBe(timings.outcomeDeadlineSeconds + timings.progressDeadlineSeconds + minutes(5) + minutes(15));
  });

  it("adds the release approval's timeout when releases need one", () => {
    const approving: Fleet = { ...fleet, approvals: { ...fleet.approvals, release: { required: true, timeoutMinutes: 45 } } };

    expect(deployTimings(approving, orderGateway(CANARY)).outcomeDeadlineSeconds).toBe(minutes(20 + 20 + 4 * 15 + 45));
    // A rolling deploy has no hook, so nothing waits for an approval.
    expect(deployTimings(approving, orderGateway(ROLLING)).outcomeDeadlineSeconds).toBe(minutes(20));
  });

  it("follows the fleet's judge limit, not a constant", () => {
    const patient: Fleet = { ...fleet, release: { ...fleet.release, judge: { ...fleet.release.judge, inconclusiveLimitMinutes: 40 } } };

    expect(deployTimings(patient, orderGateway(BLUE_GREEN)).outcomeDeadlineSeconds).toBe(minutes(20 + 10 + 3 * 40));
  });

  it("gives rollbacks and restarts of a progressive service a deadline that covers ECS's bakes", () => {
    const target = serviceTarget(fleet, orderGateway(CANARY), { requestedBy: 'alice', reason: 'roll back' });

    expect(target).toMatchObject({ strategy: CANARY, progressDeadlineSeconds: minutes(20 + 20) });
    expect(target.trafficShift).toEqual(fleet.services['order-gateway']?.trafficShift);
  });

  it('puts the outcome deadline and the release in the deploy plan', () => {
    const plan = deployPlan(fleet, orderGateway(LINEAR), { image: 'repo:1.0.0', requestedBy: 'alice', reason: 'release', releaseId: 'release-7' });

    expect(plan).toMatchObject({ releaseId: 'release-7', outcomeDeadlineSeconds: minutes(20 + 24 + 6 * 15), soakSeconds: minutes(5) });
    expect(deployPlan(fleet, orderGateway(LINEAR), { image: 'repo:1.0.0', requestedBy: 'alice', reason: 'release' }).releaseId).toBeNull();
  });
});
