import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { decideReleaseApproval } from '../../../functions/decide-release-approval/core';
import { deploymentHookPayloadSchema, type HookResponse, judgeDeploymentHook } from '../../../functions/judge-deployment-hook/core';
import { judgeCanary } from '../../../functions/shared/domain/canary-judge';
import { collectCanarySamples, findTrafficTargets } from '../../../functions/shared/domain/canary-metrics';
import type { HttpClient } from '../../../functions/shared/runtime/http';
import { exampleFleet, type TestDeps, testDeps } from '../../support/handler-deps';
import { auditRecords, PREVIOUS_REVISION_ARN, TASK_IPS } from './builders';
import {
  BLUE,
  canaryFleet,
  CONFIGURED_DETAILS,
  DEPLOY_EXECUTION_ID,
  GREEN,
  hookPayload,
  type HookStubs,
  hookWorld,
  type HookWorld,
  minutes,
  OLD_SERVICE_REVISION,
  RELEASE_ID,
  stubHookWorld,
} from './deployment-hook-world';
import { SimulatedStateTable } from './simulated-state-table';
import { decideViaUrl, principal } from '../../support/approvals';

const T0 = Date.parse('2026-03-02T09:30:00.000Z');
const at = (hhmmss: string): Date => new Date(`2026-03-02T${hhmmss}.000Z`);

let deps: TestDeps;
let ddb: AwsClientStub<DynamoDBClient>;
let sns: AwsClientStub<SNSClient>;
let world: HookWorld;
let stubs: HookStubs;

/** The example fleet as a canary with the judge held for `observeMinutes` (5 unless a test says otherwise). */
function setUp(options: { approvals?: boolean; observeMinutes?: number } = {}): void {
  const canary = canaryFleet(exampleFleet(), options);
  const { judge } = canary.release;
  const fleet = { ...canary, release: { ...canary.release, judge: { ...judge, observeMinutes: options.observeMinutes ?? 5 } } };
  deps = testDeps({ fleet });
  ddb = mockClient(deps.clients.dynamodb);
  ddb.on(PutItemCommand).resolves({});
  sns = mockClient(deps.clients.sns);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  world = hookWorld();
  stubs = stubHookWorld(deps, world, fleet);
  answerHealth(() => ({ status: 200, body: '{"status":"ok"}' }));
}

function answerHealth(answer: (url: string) => { status: number; body: string }): void {
  (deps.http as Mock<HttpClient>).mockImplementation(async ({ url }) => Promise.resolve(answer(url)));
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at('10:03:10'));
  setUp();
});

afterEach(() => {
  vi.useRealTimers();
});

const invoke = (stage: string, overrides: Parameters<typeof hookPayload>[1] = {}): Promise<HookResponse> =>
  judgeDeploymentHook.core(deploymentHookPayloadSchema.parse(hookPayload(stage, overrides)), deps);

const lastAudit = () => auditRecords(ddb).at(-1);

/** The old revision (blue) serves 95 % from 09:30; the canary (green) 5 % from 10:03, healthy or failing a quarter of its requests. */
function recordCanaryTraffic(options: { canaryErrors: readonly (number | undefined)[]; rejects?: boolean }): void {
  world.metrics[BLUE] = {
    RequestCount: minutes(T0, 50, [1912, 1874, 1950, 1893, 1921, 1902]),
    HTTPCode_Target_5XX_Count: minutes(T0, 50, [1, undefined, 2, undefined, 1, undefined]),
    TargetResponseTime: minutes(T0, 50, [0.212, 0.198, 0.205, 0.231, 0.201, 0.209]),
    ...(options.rejects === false ? {} : { OrderRejectRate: minutes(T0, 50, [0.011, 0.009, 0.012, 0.01]) }),
  };
  const from = Date.parse('2026-03-02T10:03:00.000Z');
  world.metrics[GREEN] = {
    RequestCount: minutes(from, 20, [101, 97, 104, 99, 96, 100]),
    HTTPCode_Target_5XX_Count: minutes(from, 20, options.canaryErrors),
    TargetResponseTime: minutes(from, 20, [0.207, 0.219, 0.199, 0.204, 0.226, 0.203]),
    ...(options.rejects === false ? {} : { OrderRejectRate: minutes(from, 20, [0.01, 0.012, 0.009, 0.011]) }),
  };
}

/** The first invocation of a step, then the next one ECS makes with the returned hookDetails at `later`. */
async function judgeStep(
  stage: string,
  later: string,
  overrides: Parameters<typeof hookPayload>[1] = {},
): Promise<{ first: HookResponse; second: HookResponse }> {
  const first = await invoke(stage, overrides);
  expect(first.hookStatus).toBe('IN_PROGRESS');
  vi.setSystemTime(at(later));
  const second = await invoke(stage, { ...overrides, hookDetails: first.hookStatus === 'IN_PROGRESS' ? { ...first.hookDetails } : {} });
  return { first, second };
}

/** What ECS saw at one invocation, and the reason the audit trail gives for it. */
interface Invocation {
  readonly at: string;
  readonly hookStatus: HookResponse['hookStatus'];
  readonly reason: string | undefined;
}

/**
 * Invokes a stage as ECS does: from now, again every callBackDelay seconds with the hookDetails the
 * last IN_PROGRESS returned, until a SUCCEEDED or FAILED (or after `until`, HH:MM:SS).
 */
async function invokeLikeEcs(stage: string, until: string, overrides: Parameters<typeof hookPayload>[1] = {}): Promise<Invocation[]> {
  const seen: Invocation[] = [];
  let hookDetails = overrides.hookDetails;
  for (;;) {
    const response = await invoke(stage, { ...overrides, ...(hookDetails ? { hookDetails } : {}) });
    seen.push({ at: new Date().toISOString().slice(11, 19), hookStatus: response.hookStatus, reason: lastAudit()?.reason });
    if (response.hookStatus !== 'IN_PROGRESS') return seen;
    hookDetails = { ...response.hookDetails };
    const next = new Date(Date.now() + response.callBackDelay * 1000);
    if (next.getTime() > at(until).getTime()) return seen;
    vi.setSystemTime(next);
  }
}

describe('judge-deployment-hook: the hook contract', () => {
  it('answers SUCCEEDED at once for a stage it does not judge', async () => {
    expect(await invoke('TEST_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(stubs.ecs.calls()).toHaveLength(0);
    expect(lastAudit()).toMatchObject({ action: 'deploy.hook.test_traffic_shift', subject: 'order-gateway', status: 'succeeded' });
  });

  it.each(['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS'] as const)('answers SUCCEEDED at once while the deployment is %s', async (status) => {
    world.deployment = { ...world.deployment, status };
    expect(await invoke('PRODUCTION_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(stubs.cloudwatch.calls()).toHaveLength(0);
    expect(lastAudit()?.reason).toContain(`rollback invocation: the deployment is ${status}`);
  });

  it('answers SUCCEEDED when invoked for the revision a rollback returns to', async () => {
    expect(await invoke('POST_TEST_TRAFFIC_SHIFT', { target: OLD_SERVICE_REVISION })).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(stubs.elbv2.calls()).toHaveLength(0);
  });

  it('finds the service from the ECS service ARN when hookDetails carry none', async () => {
    await invoke('TEST_TRAFFIC_SHIFT', { hookDetails: {} });
    expect(lastAudit()?.subject).toBe('order-gateway');
  });

  it('rejects a payload without the fields ECS sends', () => {
    expect(deploymentHookPayloadSchema.safeParse({ lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT' }).success).toBe(false);
  });

  it('throws (ECS then rolls back) on an unexpected failure, and records it', async () => {
    stubs.ecs
      .on(DescribeServiceDeploymentsCommand)
      .rejects(Object.assign(new Error('Service deployment not found'), { name: 'ServiceDeploymentNotFoundException' }));
    await expect(invoke('PRODUCTION_TRAFFIC_SHIFT')).rejects.toThrow('Service deployment not found');
    expect(lastAudit()).toMatchObject({ status: 'failed', error: { name: 'ServiceDeploymentNotFoundException' } });
  });
});

describe('judge-deployment-hook: POST_TEST_TRAFFIC_SHIFT health of the new revision', () => {
  it('succeeds when every task of the new revision answers 200, and calls no task of the old one', async () => {
    expect(await invoke('POST_TEST_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'SUCCEEDED' });
    const urls = deps.http.mock.calls.map(([request]) => request.url).sort();
    expect(urls).toEqual(TASK_IPS.map((ip) => `http://${ip}:8080/health/deep`).sort());
    expect(lastAudit()).toMatchObject({
      action: 'deploy.hook.post_test_traffic_shift',
      after: { hookStatus: 'SUCCEEDED', health: { healthy: 4, expected: 4 } },
    });
  });

  it('fails when any task of the new revision is unhealthy', async () => {
    answerHealth((url) => (url.includes(TASK_IPS[2]) ? { status: 503, body: 'db pool exhausted' } : { status: 200, body: 'ok' }));
    expect(await invoke('POST_TEST_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'FAILED' });
    expect(lastAudit()?.reason).toContain('3/4 task(s) of order-gateway:42 answer 200');
    expect(lastAudit()?.reason).toContain('db pool exhausted');
  });

  it('waits (IN_PROGRESS with hookDetails) while the new tasks start, and fails past the limit', async () => {
    world.tasks = world.tasks.filter((t) => t.taskDefinitionArn === PREVIOUS_REVISION_ARN || t.taskArn?.endsWith('new0'));
    const first = await invoke('POST_TEST_TRAFFIC_SHIFT');
    expect(first).toEqual({
      hookStatus: 'IN_PROGRESS',
      callBackDelay: 30,
      hookDetails: {
        ...CONFIGURED_DETAILS,
        judge: {
          step: 'POST_TEST_TRAFFIC_SHIFT@5',
          stepStartedAt: '2026-03-02T10:03:10.000Z',
          firstInvokedAt: '2026-03-02T10:03:10.000Z',
          invocations: 1,
          history: [{ at: '2026-03-02T10:03:10.000Z', verdict: 'IN_PROGRESS' }],
        },
      },
    });
    expect(deps.http).not.toHaveBeenCalled();
    vi.setSystemTime(at('10:18:10'));
    const late = await invoke('POST_TEST_TRAFFIC_SHIFT', { hookDetails: first.hookStatus === 'IN_PROGRESS' ? { ...first.hookDetails } : {} });
    expect(late).toEqual({ hookStatus: 'FAILED' });
    expect(lastAudit()?.reason).toMatch(/^no verdict after 15 minute\(s\) \(limit 15\): waiting for the new revision's tasks: 1\/4/);
  });
});

describe('judge-deployment-hook: the canary judge at PRODUCTION_TRAFFIC_SHIFT', () => {
  it('collects samples (IN_PROGRESS), holds a passing canary for observeMinutes, then promotes it on its latest minutes', async () => {
    recordCanaryTraffic({ canaryErrors: [undefined, undefined, 1, undefined, undefined, undefined] });
    const { first, second } = await judgeStep('PRODUCTION_TRAFFIC_SHIFT', '10:07:30');
    expect(first).toMatchObject({ hookStatus: 'IN_PROGRESS', callBackDelay: 30 });
    // minSamples minutes in (10:04–10:06) it passes, but the step is only 4 minutes 20 s old: still watched.
    expect(second).toMatchObject({ hookStatus: 'IN_PROGRESS', hookDetails: { judge: { invocations: 2 } } });
    expect(lastAudit()?.after).toMatchObject({ verdict: 'PASS', window: { start: '2026-03-02T10:04:00.000Z', end: '2026-03-02T10:07:00.000Z' } });
    vi.setSystemTime(at('10:08:30'));
    const third = await invoke('PRODUCTION_TRAFFIC_SHIFT', { hookDetails: second.hookStatus === 'IN_PROGRESS' ? { ...second.hookDetails } : {} });
    expect(third).toEqual({ hookStatus: 'SUCCEEDED' });
    const verdict = lastAudit();
    expect(verdict).toMatchObject({
      action: 'deploy.hook.production_traffic_shift',
      executionId: DEPLOY_EXECUTION_ID,
      status: 'succeeded',
      reason: 'PASS: 3 metric(s) show no regression beyond the margin',
      after: {
        verdict: 'PASS',
        stepStartedAt: '2026-03-02T10:03:10.000Z',
        invocations: 3,
        // The latest minSamples whole minutes, not every minute since the step began (10:04).
        window: { start: '2026-03-02T10:05:00.000Z', end: '2026-03-02T10:08:00.000Z' },
        requests: { canary: 104 + 99 + 96 },
        productionWeights: { new: 5, old: 95 },
      },
    });
    // Per-target-group series: the load balancer's with TargetGroup and LoadBalancer, the fleet's with TargetGroup added.
    const requests = stubs.cloudwatch.commandCalls(GetMetricStatisticsCommand).map((c) => c.args[0].input);
    expect(requests).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'TargetResponseTime',
        Dimensions: [
          { Name: 'TargetGroup', Value: GREEN },
          { Name: 'LoadBalancer', Value: 'app/trading-prod/0a1b2c3d4e5f6071' },
        ],
        Period: 60,
        ExtendedStatistics: ['p99'],
      }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({
        Namespace: 'Trading',
        MetricName: 'OrderRejectRate',
        Dimensions: [
          { Name: 'Service', Value: 'order-gateway' },
          { Name: 'TargetGroup', Value: BLUE },
        ],
        Statistics: ['Average'],
      }),
    );
    const metrics = (verdict?.after?.metrics ?? []) as { name: string; verdict: string; samples: { canary: number } }[];
    expect(metrics.map((m) => [m.name, m.verdict, m.samples.canary])).toEqual([
      ['5xx-rate', 'PASS', 3],
      ['p99-response-time', 'PASS', 3],
      ['Trading/OrderRejectRate', 'PASS', 3],
    ]);
  });

  it('fails a canary whose 5xx rate regressed, with the numbers in the audit trail', async () => {
    recordCanaryTraffic({ canaryErrors: [26, 24, 27, 25, 23, 25] });
    const { second } = await judgeStep('PRODUCTION_TRAFFIC_SHIFT', '10:07:30');
    expect(second).toEqual({ hookStatus: 'FAILED' });
    const verdict = lastAudit();
    expect(verdict?.reason).toMatch(/^FAIL: 5xx-rate is higher on the new revision/);
    const errorRate = (verdict?.after?.metrics as { name: string; p: number; effectSize: number | null; canaryMedian: number }[])[0];
    expect(errorRate?.name).toBe('5xx-rate');
    expect(errorRate?.p).toBeLessThanOrEqual(0.05);
    expect(errorRate?.canaryMedian).toBeGreaterThan(0.2);
    expect(verdict?.after).toMatchObject({ errors: { canary: 76 }, requests: { canary: 300 } });
  });

  it('stays INCONCLUSIVE (never promotes) while a fleet metric has no data, then fails past the limit', async () => {
    recordCanaryTraffic({ canaryErrors: [undefined], rejects: false });
    const { second } = await judgeStep('PRODUCTION_TRAFFIC_SHIFT', '10:07:30');
    expect(second).toMatchObject({ hookStatus: 'IN_PROGRESS', hookDetails: { judge: { invocations: 2, stepStartedAt: '2026-03-02T10:03:10.000Z' } } });
    expect(lastAudit()?.reason).toContain('Trading/OrderRejectRate: 0 sample(s) of the new revision and 0 of the old, 3 needed');
    vi.setSystemTime(at('10:18:10'));
    const late = await invoke('PRODUCTION_TRAFFIC_SHIFT', { hookDetails: second.hookStatus === 'IN_PROGRESS' ? { ...second.hookDetails } : {} });
    expect(late).toEqual({ hookStatus: 'FAILED' });
    expect(lastAudit()?.reason).toMatch(/^no verdict after 15 minute\(s\) \(limit 15\): INCONCLUSIVE/);
  });

  it('starts a new step (a fresh window) when the production weight changes', async () => {
    recordCanaryTraffic({ canaryErrors: [undefined] });
    const { second } = await judgeStep('PRODUCTION_TRAFFIC_SHIFT', '10:08:30', { newWeight: 5 });
    expect(second.hookStatus).toBe('SUCCEEDED');
    const stale = {
      ...CONFIGURED_DETAILS,
      judge: {
        step: 'PRODUCTION_TRAFFIC_SHIFT@5',
        stepStartedAt: '2026-03-02T09:40:00.000Z',
        firstInvokedAt: '2026-03-02T09:40:00.000Z',
        invocations: 9,
        history: [],
      },
    };
    const next = await invoke('PRODUCTION_TRAFFIC_SHIFT', { newWeight: 50, hookDetails: stale });
    expect(next).toMatchObject({
      hookStatus: 'IN_PROGRESS',
      hookDetails: { judge: { step: 'PRODUCTION_TRAFFIC_SHIFT@50', stepStartedAt: '2026-03-02T10:08:30.000Z', invocations: 1 } },
    });
    // Nothing before the new step counts, neither the stale 09:40 nor the previous step's minutes: no whole minute yet.
    expect(lastAudit()).toMatchObject({
      status: 'started',
      after: { verdict: 'INCONCLUSIVE', stepStartedAt: '2026-03-02T10:08:30.000Z', window: { start: '2026-03-02T10:09:00.000Z' } },
    });
    expect(lastAudit()?.reason).toMatch(/^INCONCLUSIVE: 5xx-rate: 0 sample\(s\) of the new revision and 0 of the old, 3 needed/);
  });

  it('holds a clean canary IN_PROGRESS ("PASS so far") until observeMinutes have passed, then promotes it', async () => {
    recordCanaryTraffic({ canaryErrors: [undefined, undefined, 1, undefined, undefined, undefined] });
    const seen = await invokeLikeEcs('PRODUCTION_TRAFFIC_SHIFT', '10:20:00');
    const passing = 'PASS: 3 metric(s) show no regression beyond the margin';
    // Inconclusive until 10:07:10 (10:04–10:06 are minSamples whole minutes), then PASS so far until the step is 5 minutes old.
    expect(seen.filter((i) => i.reason?.startsWith('INCONCLUSIVE')).map((i) => i.hookStatus)).toEqual(Array<string>(8).fill('IN_PROGRESS'));
    expect(seen.filter((i) => i.reason?.startsWith('PASS so far'))).toEqual([
      { at: '10:07:10', hookStatus: 'IN_PROGRESS', reason: `PASS so far; watching the step for 5 minute(s) before it may pass: ${passing}` },
      { at: '10:07:40', hookStatus: 'IN_PROGRESS', reason: `PASS so far; watching the step for 5 minute(s) before it may pass: ${passing}` },
    ]);
    expect(seen).toHaveLength(11);
    expect(seen.at(-1)).toEqual({ at: '10:08:10', hookStatus: 'SUCCEEDED', reason: passing });
    const held = auditRecords(ddb).filter((r) => r.reason?.startsWith('PASS so far'));
    expect(held.map((r) => [r.status, r.after?.observedMinutes])).toEqual([
      ['started', 4],
      ['started', 4.5],
    ]);
    expect(lastAudit()?.after).toMatchObject({ verdict: 'PASS', window: { start: '2026-03-02T10:05:00.000Z', end: '2026-03-02T10:08:00.000Z' } });
  });

  it('fails the step when a regression starts 3 minutes in, once minSamples bad minutes are in the window', async () => {
    // Watched as long as the canary bakes (10 minutes). With the default 5 this step would pass at 10:08:10 on
    // 10:05–10:07 (one good minute, two bad: not significant), before the third bad minute is in.
    setUp({ observeMinutes: 10 });
    // 10:03–10:05 like the old revision, then a quarter of the new revision's requests fail.
    recordCanaryTraffic({ canaryErrors: [undefined, undefined, undefined, ...Array<number>(17).fill(25)] });
    const seen = await invokeLikeEcs('PRODUCTION_TRAFFIC_SHIFT', '10:20:00');
    expect(seen.slice(0, -1).every((i) => i.hookStatus === 'IN_PROGRESS')).toBe(true);
    expect(seen.filter((i) => i.reason?.startsWith('PASS so far')).map((i) => i.at)).toEqual(['10:07:10', '10:07:40', '10:08:10', '10:08:40']);
    expect(seen.at(-1)).toMatchObject({ at: '10:09:10', hookStatus: 'FAILED' });
    const verdict = lastAudit();
    expect(verdict?.reason).toMatch(/^FAIL: 5xx-rate is higher on the new revision/);
    expect(verdict).toMatchObject({
      status: 'failed',
      after: {
        hookStatus: 'FAILED',
        verdict: 'FAIL',
        stepStartedAt: '2026-03-02T10:03:10.000Z',
        window: { start: '2026-03-02T10:06:00.000Z', end: '2026-03-02T10:09:00.000Z' },
        requests: { canary: 99 + 96 + 100, baseline: 1912 + 1874 + 1950 },
        errors: { canary: 75, baseline: 3 },
      },
    });
    const errorRate = (verdict?.after?.metrics as { name: string; p: number; samples: unknown; canaryMedian: number }[])[0];
    expect(errorRate).toMatchObject({ name: '5xx-rate', p: 0.05, samples: { baseline: 3, canary: 3 } });
    expect(errorRate?.canaryMedian).toBeGreaterThan(0.24);

    // Judged on every minute since the step began (10:04–10:08), the two good minutes dilute the three bad ones: PASS.
    const service = deps.fleet.services['order-gateway'];
    if (!service?.trafficShift) throw new Error('order-gateway has no trafficShift');
    const targets = await findTrafficTargets(deps, service.trafficShift);
    const settings = deps.fleet.release.judge;
    const fromStepStart = await collectCanarySamples(deps, service, targets, settings, at('10:03:10'), at('10:09:10'));
    expect(fromStepStart.window).toEqual({ start: '2026-03-02T10:04:00.000Z', end: '2026-03-02T10:09:00.000Z' });
    expect(judgeCanary({ metrics: fromStepStart.metrics, settings }).verdict).toBe('PASS');
  });
});

describe('judge-deployment-hook: POST_PRODUCTION_TRAFFIC_SHIFT after 100 %', () => {
  beforeEach(() => {
    // The old revision served until 10:12; the new one has all production traffic since.
    world.weights = { blue: 0, green: 100 };
    const shift = Date.parse('2026-03-02T10:12:00.000Z');
    world.metrics[BLUE] = {
      RequestCount: minutes(T0, 42, [1912, 1874, 1950]),
      HTTPCode_Target_5XX_Count: minutes(T0, 42, [1, undefined, 2]),
      TargetResponseTime: minutes(T0, 42, [0.212, 0.198, 0.205]),
      OrderRejectRate: minutes(T0, 42, [0.011, 0.009, 0.012]),
    };
    world.metrics[GREEN] = {
      RequestCount: minutes(shift, 10, [2011, 1987, 2004]),
      HTTPCode_Target_5XX_Count: minutes(shift, 10, [2, undefined, 1]),
      TargetResponseTime: minutes(shift, 10, [0.209, 0.203, 0.214]),
      OrderRejectRate: minutes(shift, 10, [0.01, 0.012, 0.011]),
    };
    vi.setSystemTime(at('10:12:20'));
  });

  it('needs minSamples minutes after 100 % and observeMinutes, compared with the old revision’s last minutes with traffic, and says so', async () => {
    const { second } = await judgeStep('POST_PRODUCTION_TRAFFIC_SHIFT', '10:16:30', { newWeight: 100 });
    // 10:13–10:15 pass, but the step is only 4 minutes 10 s old.
    expect(second.hookStatus).toBe('IN_PROGRESS');
    expect(lastAudit()?.reason).toMatch(/^PASS so far; watching the step for 5 minute\(s\) before it may pass: PASS: /);
    vi.setSystemTime(at('10:17:30'));
    const third = await invoke('POST_PRODUCTION_TRAFFIC_SHIFT', {
      newWeight: 100,
      hookDetails: second.hookStatus === 'IN_PROGRESS' ? { ...second.hookDetails } : {},
    });
    expect(third).toEqual({ hookStatus: 'SUCCEEDED' });
    const verdict = lastAudit();
    expect(verdict?.after).toMatchObject({
      verdict: 'PASS',
      stepStartedAt: '2026-03-02T10:12:20.000Z',
      window: { start: '2026-03-02T10:14:00.000Z', end: '2026-03-02T10:17:00.000Z' },
      productionWeights: { new: 100, old: 0 },
    });
    expect(verdict?.reason).toContain(
      'the old revision has 0 % of production traffic, so its baseline is its last 3 period(s) with traffic (2026-03-02T10:09:00.000Z to 2026-03-02T10:11:00.000Z)',
    );
  });

  it('is still collecting two minutes after 100 %', async () => {
    const { second } = await judgeStep('POST_PRODUCTION_TRAFFIC_SHIFT', '10:15:30', { newWeight: 100 });
    expect(second.hookStatus).toBe('IN_PROGRESS');
  });
});

describe('judge-deployment-hook: PRE_PRODUCTION_TRAFFIC_SHIFT release approval', () => {
  it('succeeds at once when the fleet requires no approval', async () => {
    expect(await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  describe('when approvals are required', () => {
    let table: SimulatedStateTable;
    beforeEach(() => {
      setUp({ approvals: true });
      table = new SimulatedStateTable(ddb);
    });

    const approve = (approver: string, decision: 'approve' | 'reject' = 'approve') =>
      decideViaUrl(
        decideReleaseApproval,
        approver,
        { approvalId: RELEASE_ID, decision, ...(decision === 'reject' ? { comment: 'not during the auction' } : {}) },
        deps,
      );

    it('holds the release (IN_PROGRESS), pages once, and promotes after a second person approves', async () => {
      const first = await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT');
      expect(first).toMatchObject({ hookStatus: 'IN_PROGRESS', callBackDelay: 30, hookDetails: { releaseId: RELEASE_ID } });
      expect(await table.item(`approval#${RELEASE_ID}`)).toMatchObject({
        kind: 'release',
        status: 'pending',
        requestedBy: 'release-pipeline',
        approvers: [principal('head-of-trading'), principal('chief-risk-officer')],
        deadline: '2026-03-02T11:03:10.000Z',
        deployExecutionId: DEPLOY_EXECUTION_ID,
      });
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
      expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(`assure approve ${RELEASE_ID}`);

      vi.setSystemTime(at('10:05:00'));
      const waiting = await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT', { hookDetails: first.hookStatus === 'IN_PROGRESS' ? { ...first.hookDetails } : {} });
      expect(waiting.hookStatus).toBe('IN_PROGRESS');
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);

      await approve(principal('head-of-trading'));
      expect(await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'SUCCEEDED' });
      expect(lastAudit()).toMatchObject({
        action: 'deploy.hook.pre_production_traffic_shift',
        reason: `approval ${RELEASE_ID} approved by ${principal('head-of-trading')}`,
      });
    });

    it('rolls back a rejected release', async () => {
      await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT');
      await approve(principal('chief-risk-officer'), 'reject');
      expect(await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT')).toEqual({ hookStatus: 'FAILED' });
      expect(lastAudit()?.reason).toContain(`rejected by ${principal('chief-risk-officer')}: not during the auction`);
    });

    it('rolls back a release nobody approved by the deadline, not limited by the judge’s limit before then', async () => {
      const first = await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT');
      vi.setSystemTime(at('10:40:00'));
      const details = first.hookStatus === 'IN_PROGRESS' ? { ...first.hookDetails } : {};
      expect((await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT', { hookDetails: details })).hookStatus).toBe('IN_PROGRESS');
      vi.setSystemTime(at('11:03:10'));
      expect(await invoke('PRE_PRODUCTION_TRAFFIC_SHIFT', { hookDetails: details })).toEqual({ hookStatus: 'FAILED' });
      expect(lastAudit()?.reason).toContain('was not given by its deadline 2026-03-02T11:03:10.000Z');
    });
  });
});
