/**
 * The `assure` CLI against the sandbox: each call is a separate invocation (as
 * from a shell), sharing a temporary state directory.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/program';
import type { ServiceStatus } from '../../lib/cli/commands/status';
import type { AuditRecord } from '../../functions/shared/domain/audit';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

let state: string;

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'assure-cli-'));
});

afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

async function assure(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--state', state, ...args], { line: (t = '') => out.push(t), error: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const image = (service: string, tag: string): string => `111122223333.dkr.ecr.eu-west-2.amazonaws.com/${service}:${tag}`;

describe('assure CLI', () => {
  it('deploys, prints each state with its virtual time, and keeps the result for the next invocation', async () => {
    const deploy = await assure('deploy', 'market-data', '--image', image('market-data', '1.1.0'), '--requested-by', 'alice');
    expect(deploy.code).toBe(0);
    expect(deploy.out).toMatch(/^05:30:00 {2}market-data {2}Validate deploy request$/m);
    expect(deploy.out).toMatch(/^\d\d:\d\d:\d\d {2}market-data {2}Soak while watching rollback alarms$/m);
    expect(deploy.out).toContain('✓ market-data now runs');

    const status = await assure('--json', 'status');
    expect(status.code).toBe(0);
    const { services } = JSON.parse(status.out) as { services: ServiceStatus[] };
    const marketData = services.find((s) => s.service === 'market-data');
    expect(marketData).toMatchObject({
      revision: 2,
      image: image('market-data', '1.1.0'),
      desiredCount: 3,
      runningCount: 3,
      lastDeployment: { outcome: 'SUCCEEDED', image: image('market-data', '1.1.0'), requestedBy: 'alice' },
    });
    expect(services.find((s) => s.service === 'order-gateway')).toMatchObject({ revision: 1, lastDeployment: null });

    const history = JSON.parse((await assure('--json', 'history', 'market-data')).out) as AuditRecord[];
    expect(
      history
        .filter((r) => r.action === 'deploy')
        .map((r) => r.phase)
        .sort(),
    ).toEqual(['intent', 'outcome']);
  });

  it('exits non-zero when a deploy rolled back, using the behaviour set with sandbox image', async () => {
    const set = await assure('sandbox', 'image', image('risk-engine', '2.4.0'), '--behaviour', 'crash-on-start');
    expect(set.code).toBe(0);
    const deploy = await assure('deploy', 'risk-engine', '--image', image('risk-engine', '2.4.0'));
    expect(deploy.code).toBe(1);
    expect(deploy.out).toContain('ECS SERVICE_DEPLOYMENT_FAILED');
    expect(deploy.out).toContain('✗ DeployRolledBack: risk-engine: deploy of');
    const status = (JSON.parse((await assure('--json', 'status')).out) as { services: ServiceStatus[] }).services;
    expect(status.find((s) => s.service === 'risk-engine')).toMatchObject({ revision: 1, lastDeployment: { outcome: 'ROLLED_BACK' } });
  });

  it('exits 2 with the field and the reason for bad input', async () => {
    const fleet = join(state, 'broken.yaml');
    writeFileSync(fleet, 'environment: prod\ncluster: c\nservices: {}\n');
    const broken = await assure('--config', fleet, 'status');
    expect(broken.code).toBe(2);
    expect(broken.err).toContain('services: must list at least one service');
    // Nothing was created for a fleet file that does not validate.
    expect(existsSync(join(state, 'sandbox.json'))).toBe(false);

    const unknown = await assure('deploy', 'pricing-engine', '--image', image('pricing-engine', '1.0.0'));
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('service: pricing-engine is not in the prod fleet');
    // The rejection itself is on the audit trail.
    const trail = JSON.parse((await assure('--json', 'history', 'fleet')).out) as AuditRecord[];
    expect(trail[0]).toMatchObject({ action: 'deploy', status: 'failed', error: { name: 'InvalidDeployRequestError' } });

    const badBehaviour = await assure('sandbox', 'image', image('web-gui', '2.0.0'), '--behaviour', 'explodes');
    expect(badBehaviour.code).toBe(2);
    expect(badBehaviour.err).toContain("argument 'explodes' is invalid");
  });

  it('reports fleet health with evidence', async () => {
    const health = await assure('--json', 'health', 'order-gateway');
    expect(health.code).toBe(0);
    const report = JSON.parse(health.out) as { status: string; services: { checks: { name: string; status: string }[] }[] };
    expect(report.status).toBe('HEALTHY');
    expect(report.services[0]?.checks.map((c) => `${c.name}:${c.status}`)).toEqual([
      'rollout:pass',
      'capacity:pass',
      'stopped-tasks:pass',
      'alarms:pass',
      'http:pass',
    ]);
  });

  it('runs the demo end to end and exits 0 when every step ends as expected; sandbox reset forgets it', async () => {
    const demo = await assure('demo');
    expect(demo.err).toBe('');
    expect(demo.code).toBe(0);
    expect(demo.out).toContain('Every step ended as expected.');
    // Two release rollbacks, the halt (once), the scale-out refused while halted, the resume approval and the resume.
    expect(demo.out).toMatch(/^The on-call was paged 6 time\(s\)/m);
    expect(demo.out.match(/^Page .*Trading halted/gm)).toHaveLength(1);
    expect(demo.out).not.toMatch(/^Page .*halt-started/m);
    // risk-engine's blue/green release was caught on test traffic: still on revision 1, its last deploy rolled back.
    expect(demo.out).toMatch(/^risk-engine +trading +risk-engine:1 +risk-engine:1\.0\.0 +3\/3 +COMPLETED +ROLLED_BACK risk-engine@sha256:[0-9a-f]{64}/m);
    expect(demo.out).toMatch(/Assure's lifecycle hook at PRODUCTION_TRAFFIC_SHIFT: FAIL: /);
    expect(demo.out).toContain('0 traffic-seconds: no production order ever reached the bad revision');
    expect(existsSync(join(state, 'sandbox.json'))).toBe(true);
    const reset = await assure('sandbox', 'reset');
    expect(reset.code).toBe(0);
    expect(existsSync(join(state, 'sandbox.json'))).toBe(false);
  });

  it('halts from an alarm, refuses the requester as approver, and resumes once a second person approves, across invocations', async () => {
    const alarm = await assure('sandbox', 'alarm', 'prod-daily-loss-limit', 'ALARM', '--reason', 'P&L below the limit');
    expect(alarm.code).toBe(0);
    expect(alarm.out).toMatch(/^05:30:00 {2}halt {2}Set halt flag$/m);
    expect(alarm.out).toContain('Routed prod-daily-loss-limit: halt-started');
    expect(alarm.out).toMatch(/✓ halt alarm-[0-9a-f-]+: SUCCEEDED: Halt halt-/);
    expect(alarm.out).toContain('Trading stopped: market-data, risk-engine, order-gateway confirmed');
    expect(alarm.out).toMatch(/^Page \d\d:\d\d:\d\d {2}Trading halted \(halt-/m);

    // Refused while the alarm is in ALARM? Not yet asked: first the request, from the head of trading (an approver).
    const resume = await assure('resume', '--reason', 'reviewed', '--as', 'head-of-trading');
    expect(resume.code).toBe(0);
    const approvalId = /Approval id: (\S+)\./.exec(resume.out)?.[1] ?? '';
    expect(approvalId).toMatch(/^resume-/);
    expect(resume.out).toContain(`assure approve ${approvalId}`);

    const self = await assure('approve', approvalId, '--as', 'head-of-trading');
    expect(self.code).toBe(2);
    expect(self.err).toContain('head-of-trading asked for this resume and cannot approve it');
    // The same principal by its ARN (another name for the same person) is still the requester.
    const sameSession = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_TradingApprover_3d7a/head-of-trading';
    const renamed = await assure('--as', sameSession, 'approve', approvalId);
    expect(renamed.code).toBe(2);
    expect(renamed.err).toContain(`${sameSession} asked for this resume and cannot approve it`);
    // Not an approver: IAM refuses the call to the approval endpoint, and the CLI says who may approve.
    const outsider = await assure('approve', approvalId, '--as', 'alice');
    expect(outsider.code).toBe(2);
    expect(outsider.err).toContain('AWSReservedSSO_TradingOperator_5f1c/alice may not call the resume approval endpoint');
    expect(outsider.err).toContain('only chief-risk-officer, head-of-trading may approve');

    await assure('sandbox', 'alarm', 'prod-daily-loss-limit', 'OK', '--reason', 'P&L back inside the limit');
    const approved = await assure('approve', approvalId, '--as', 'chief-risk-officer');
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('Restore hard-stopped capacity');
    expect(approved.out).toContain('✓ Trading resumed after halt');
    const status = (JSON.parse((await assure('--json', 'status')).out) as { services: ServiceStatus[] }).services;
    expect(status.find((s) => s.service === 'market-data')).toMatchObject({ desiredCount: 3, runningCount: 3 });
  });

  it('rolls a service back to a named revision, and halts named services from the command line', async () => {
    await assure('deploy', 'reference-data', '--image', image('reference-data', '1.1.0'));
    const rollback = await assure('rollback', 'reference-data', '--revision', '1', '--reason', 'pin to 1.0.0');
    expect(rollback.code).toBe(0);
    expect(rollback.out).toContain('reference-data rolled back to reference-data:1 and verified healthy');
    expect(rollback.out).toContain('Page');
    const unknownService = await assure('rollback', 'pricing-engine');
    expect(unknownService.code).toBe(2);
    expect(unknownService.out).toContain('service: pricing-engine is not in the prod fleet');
    const badRevision = await assure('rollback', 'reference-data', '--revision', 'two');
    expect(badRevision.code).toBe(2);

    const bad = await assure('halt', '--reason', 'venue outage', '--service', 'web-gui');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('web-gui is not a trading service');
    const halted = await assure('halt', '--reason', 'venue outage', '--service', 'order-gateway', '--as', 'bob');
    expect(halted.code).toBe(0);
    expect(halted.out).toContain('Trading stopped: order-gateway confirmed');
    // While halted, deploys are refused.
    const refused = await assure('deploy', 'web-gui', '--image', image('web-gui', '2.0.0'));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('trading is halted');
  });

  it('emits events from files as their AWS service would: a forged one is refused and recorded, a real one halts', async () => {
    const forged = await assure('sandbox', 'emit', 'examples/events/foreign-account-alarm.json');
    expect(forged.code).toBe(0);
    expect(forged.out).toContain('Routed prod-daily-loss-limit: rejected — event from foreign account 999999999999');
    // A forged event needs no person: recorded, nobody paged.
    expect(forged.out).not.toContain('[assure prod] prod-daily-loss-limit: rejected');
    const stale = await assure('sandbox', 'emit', 'examples/events/stale-alarm.json');
    expect(stale.out).toContain('rejected — stale event');
    const future = await assure('sandbox', 'emit', 'examples/events/future-dated-alarm.json');
    expect(future.out).toContain('rejected — future-dated event');
    expect(future.out).not.toContain('halt-started');
    const replayed = await assure('sandbox', 'emit', 'examples/events/replayed-alarm.json');
    expect(replayed.out).toContain('rejected — replayed event (replay incident-2025-12-replay)');

    const real = await assure('sandbox', 'emit', 'examples/events/daily-loss-limit-alarm.json');
    expect(real.code).toBe(0);
    expect(real.out).toContain('halt-started');

    const missing = await assure('sandbox', 'emit', join(state, 'nope.json'));
    expect(missing.code).toBe(2);
    writeFileSync(join(state, 'bad.json'), JSON.stringify({ source: 'aws.cloudwatch', detail: {} }));
    const invalid = await assure('sandbox', 'emit', join(state, 'bad.json'));
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain('detail-type');
    const badState = await assure('sandbox', 'alarm', 'prod-daily-loss-limit', 'RED');
    expect(badState.code).toBe(2);
    expect(badState.err).toContain('state: must be one of ALARM, OK, INSUFFICIENT_DATA');
  });
});
