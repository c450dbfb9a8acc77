/**
 * The demo's releases: a pipeline's push of an order-gateway canary that the
 * judge fails at 5 %, a person's blue/green release of risk-engine caught on
 * test traffic before any production order reaches it, and a fleet release
 * whose last service fails, so the first two roll back in reverse order.
 * Each prints the production exposure of the bad revision.
 */
import { readAuditTrail } from '../../../functions/shared/domain/audit';
import type { Sandbox } from '../../sandbox/sandbox';
import type { ImageBehaviour } from '../../sandbox/simulated-workloads';
import { describeExposure, measureExposure, type Exposure } from '../exposure';
import type { Output } from '../output';
import { pushAndFollow } from '../release-push';
import { runRelease, type ReleaseRun } from '../release-run';
import { manifestReleaseInput, printReleaseRun } from './release';
import { printPushReport } from './sandbox';

/** What the demo checks after each act: the expectation it failed, or nothing. */
export type DemoCheck = (ok: boolean, expected: string, got: string) => void;

const CANARY_SERVICE = 'order-gateway';
const BLUE_GREEN_SERVICE = 'risk-engine';
/** A fleet release in three waves (reference-data, then trade-service, then position-service); the last one fails. */
const FLEET_RELEASE = { 'reference-data': 'healthy', 'trade-service': 'healthy', 'position-service': 'crash-on-start' } as const;

/** Pushes an image that starts no release (its tag is not a release tag) and returns its digest reference. */
async function pushCandidate(sandbox: Sandbox, service: string, tag: string, behaviour: ImageBehaviour, output: Output): Promise<string> {
  const pushed = sandbox.push(`${service}:${tag}`, { behaviour });
  output.line(`   sandbox push ${service}:${tag} --behaviour ${behaviour}  →  ${pushed.image}`);
  // The pipeline's push event reaches the push handler, which records the tag and starts nothing.
  await sandbox.clock.advance(5_000);
  return pushed.image;
}

async function measured<T>(
  sandbox: Sandbox,
  service: string,
  isBad: (image: string) => boolean,
  run: () => Promise<T>,
): Promise<{ result: T; exposure: Exposure }> {
  const meter = measureExposure(sandbox, service, isBad);
  try {
    const result = await run();
    return { result, exposure: meter.stop() };
  } catch (error) {
    meter.stop();
    throw error;
  }
}

/** The lifecycle hook's last verdict against the service, from the audit trail: the stage and why. */
async function lastHookFailure(sandbox: Sandbox, service: string, since: number): Promise<{ stage: string; reason: string } | undefined> {
  const trail = await readAuditTrail(sandbox, { subject: service, limit: 50 });
  const record = trail.find((r) => r.action.startsWith('deploy.hook.') && r.status === 'failed' && Date.parse(r.at) >= since);
  return record ? { stage: record.action.slice('deploy.hook.'.length).toUpperCase(), reason: record.reason ?? '' } : undefined;
}

async function printHookVerdict(sandbox: Sandbox, service: string, since: number, output: Output): Promise<{ stage: string; reason: string } | undefined> {
  const verdict = await lastHookFailure(sandbox, service, since);
  if (verdict) output.line(`   Assure's lifecycle hook at ${verdict.stage}: ${verdict.reason}`);
  return verdict;
}

const status = (run: ReleaseRun | undefined): string => run?.record?.status ?? run?.result.status ?? 'no release';

export async function runReleaseActs(sandbox: Sandbox, output: Output, heading: (title: string) => void, check: DemoCheck): Promise<void> {
  const fleet = sandbox.fleet;
  const canary = fleet.services[CANARY_SERVICE];
  if (canary?.strategy.type === 'canary' && canary.release.trigger === 'push') {
    heading(
      `A pipeline pushes ${CANARY_SERVICE} 3.4.0, whose error rate climbs under load: released as a ${canary.strategy.canaryPercent} % canary, the judge fails it on the canary's own metrics`,
    );
    output.line(`   sandbox push ${CANARY_SERVICE}:3.4.0 --behaviour high-error-rate`);
    const since = sandbox.clock.now();
    const { result: report, exposure } = await measured(
      sandbox,
      CANARY_SERVICE,
      (image) => sandbox.images.behaviourOf(image) === 'high-error-rate',
      () => pushAndFollow(sandbox, `${CANARY_SERVICE}:3.4.0`, { behaviour: 'high-error-rate' }, output),
    );
    printPushReport(report, output, false);
    const verdict = await printHookVerdict(sandbox, CANARY_SERVICE, since, output);
    output.line(`   Production exposure of the bad revision: ${describeExposure(exposure)}`);
    const run = report.releases[0];
    check(
      run?.record?.status === 'FAILED' &&
        verdict?.stage === 'PRODUCTION_TRAFFIC_SHIFT' &&
        verdict.reason.startsWith('FAIL') &&
        exposure.peakPercent === canary.strategy.canaryPercent &&
        exposure.trafficSeconds > 0,
      `the release FAILED by the judge's verdict with the bad revision never above ${canary.strategy.canaryPercent} % of production traffic`,
      `${status(run)}, ${verdict ? `${verdict.stage}: ${verdict.reason}` : 'no hook verdict'}, peak ${exposure.peakPercent} %`,
    );
    await sandbox.settleEcs();
  }

  if (fleet.services[BLUE_GREEN_SERVICE]?.strategy.type === 'blue-green') {
    heading(`A person releases ${BLUE_GREEN_SERVICE} 5.0.0 blue/green; its deep health check fails on test traffic, before any production order reaches it`);
    const image = await pushCandidate(sandbox, BLUE_GREEN_SERVICE, 'rc-5.0.0', 'failing-health-check', output);
    output.line(`   release manifest { services: { ${BLUE_GREEN_SERVICE}: ${image} } } --as alice`);
    const since = sandbox.clock.now();
    const { result: run, exposure } = await measured(
      sandbox,
      BLUE_GREEN_SERVICE,
      (candidate) => candidate === image,
      () => runRelease(sandbox, manifestReleaseInput({ services: { [BLUE_GREEN_SERVICE]: image } }, 'alice', `${BLUE_GREEN_SERVICE} 5.0.0`), 'alice', output),
    );
    printReleaseRun(run, output, false);
    const verdict = await printHookVerdict(sandbox, BLUE_GREEN_SERVICE, since, output);
    output.line(`   Production exposure of the bad revision: ${describeExposure(exposure)}`);
    check(
      run.record?.status === 'FAILED' && verdict?.stage === 'POST_TEST_TRAFFIC_SHIFT' && exposure.trafficSeconds === 0,
      'the release FAILED on test traffic with no production exposure',
      `${status(run)}, ${verdict?.stage ?? 'no hook verdict'}, ${describeExposure(exposure)}`,
    );
    await sandbox.settleEcs();
  }

  if (Object.keys(FLEET_RELEASE).every((id) => fleet.services[id])) {
    const ids = Object.keys(FLEET_RELEASE);
    heading(`A fleet release of ${ids.join(', ')} in dependency order: the last one crashes, so the first two roll back in reverse order`);
    const services: Record<string, string> = {};
    for (const [id, behaviour] of Object.entries(FLEET_RELEASE)) services[id] = await pushCandidate(sandbox, id, 'rc-2.0.0', behaviour, output);
    output.line(`   release manifest { services: { ${ids.join(', ')} } } --as alice`);
    const run = await runRelease(sandbox, manifestReleaseInput({ services }, 'alice', 'quarterly platform release'), 'alice', output);
    printReleaseRun(run, output, false);
    const accounts = run.record?.services ?? {};
    const rolledBack = ids.slice(0, -1).every((id) => accounts[id]?.status === 'ROLLED_BACK');
    const order = ids
      .filter((id) => accounts[id]?.rollbackExecutionArn)
      .sort(
        (a, b) =>
          (sandbox.stepFunctions.execution(accounts[a]?.rollbackExecutionArn ?? '')?.startDate ?? 0) -
          (sandbox.stepFunctions.execution(accounts[b]?.rollbackExecutionArn ?? '')?.startDate ?? 0),
      );
    check(
      run.record?.status === 'FAILED' && rolledBack && order.join(',') === ids.slice(0, -1).reverse().join(','),
      `the release FAILED and ${ids.slice(0, -1).reverse().join(' then ')} rolled back`,
      `${status(run)}, rolled back: ${order.join(', ') || 'none'}`,
    );
    await sandbox.settleEcs();
  }
}
