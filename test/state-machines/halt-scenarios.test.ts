/**
 * The halt state machine (state-machines/halt.asl.json) in the sandbox with the
 * real handlers and simulated trading applications: what stops, what is
 * verified, who is escalated, what is recorded, and where the admin token is not.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import { capacitySnapshotKey } from '../../functions/shared/domain/halt-plan';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import {
  auditTrail,
  deploy,
  executionsOf,
  haltFlag,
  imageOf,
  lockItem,
  openSandbox,
  servicePrimary,
  setAlarm,
  startDeploy,
  statesEntered,
  runUntilQuiet,
} from '../support/sandbox';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { principal } from '../support/approvals';

const halt = async (sandbox: Sandbox, input: Record<string, unknown> = { reason: 'risk limit breached', actor: 'alice' }) =>
  sandbox.runExecution(await sandbox.startExecution('halt', input));

/** What each trading task's admin API says about itself. */
function tradingState(sandbox: Sandbox, service: string): { halted: boolean; openOrders: number; haltedThroughAdminApi: boolean }[] {
  const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[service]?.ecsServiceName ?? service);
  if (!record) throw new Error(`no service ${service}`);
  return sandbox.ecs
    .serviceTasks(record)
    .filter((t) => t.lastStatus === 'RUNNING')
    .map((t) => ({
      halted: sandbox.applications.haltState(t).halted,
      openOrders: sandbox.applications.openOrders(t),
      haltedThroughAdminApi: sandbox.applications.app(t.taskArn)?.halt !== undefined,
    }));
}

describe('halt state machine', () => {
  it('sets the flag first, halts every trading service, hard-stops market-data, verifies, records and pages', async () => {
    const sandbox = await openSandbox();
    const record = await halt(sandbox);

    expect(record.status).toBe('SUCCEEDED');
    expect(statesEntered(record)[0]).toBe('Set halt flag');
    const output = JSON.parse(record.output ?? '{}') as { status: string; unconfirmed: string[]; message: string };
    expect(output).toMatchObject({ status: 'CONFIRMED', unconfirmed: [] });
    expect(output.message).toContain('Trading stopped: market-data, risk-engine, order-gateway confirmed');

    const flag = await haltFlag(sandbox);
    expect(flag).toMatchObject({ halted: true, reason: 'risk limit breached' });
    // No list: the whole fleet is halted, including any trading service added while the halt lasts.
    expect(flag.services).toBeUndefined();
    // Soft halts: tasks keep running, halted with no open orders. Hard halt: scaled to zero, capacity kept for the resume.
    for (const service of ['risk-engine', 'order-gateway']) {
      const tasks = tradingState(sandbox, service);
      expect(tasks.length).toBeGreaterThan(0);
      expect(tasks.every((t) => t.halted && t.openOrders === 0)).toBe(true);
    }
    expect(sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'market-data')?.desiredCount).toBe(0);
    const snapshot = await sandbox.clients.dynamodb.send(
      new GetItemCommand({ TableName: sandbox.config.stateTableName, Key: { pk: { S: capacitySnapshotKey(flag.haltId ?? '', 'market-data') } } }),
    );
    expect(unmarshall(snapshot.Item ?? {})).toMatchObject({ desiredCount: 3 });
    // Support services are not touched.
    expect(sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'trade-service')?.desiredCount).toBe(2);

    const trail = (await readAuditTrail(sandbox, { subject: 'fleet', limit: 100 })).filter((r) => r.executionId === record.executionArn);
    for (const action of ['halt', 'halt.command-services', 'halt.stop-deploys', 'halt.hard-stop', 'halt.verify']) {
      expect(
        trail.some((r) => r.action === action && r.phase === 'intent'),
        `${action} intent`,
      ).toBe(true);
      expect(
        trail.some((r) => r.action === action && r.phase === 'outcome'),
        `${action} outcome`,
      ).toBe(true);
    }
    expect(sandbox.sns.messages.filter((m) => m.subject === `Trading halted (${flag.haltId})`)).toHaveLength(1);
  });

  it('rejects a bad request naming the field, and changes nothing', async () => {
    const sandbox = await openSandbox();
    const record = await halt(sandbox, { reason: '', actor: 'alice', services: ['web-gui'] });
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('InvalidHaltRequestError');
    expect(record.cause).toContain('reason');
    expect((await haltFlag(sandbox)).halted).toBe(false);
    const named = await halt(sandbox, { reason: 'x', actor: 'alice', services: ['web-gui'] });
    expect(named.cause).toContain('web-gui is not a trading service');
    expect((await haltFlag(sandbox)).halted).toBe(false);
  });

  it('halts only the named services when scoped', async () => {
    const sandbox = await openSandbox();
    const record = await halt(sandbox, { reason: 'venue problem', actor: 'alice', services: ['order-gateway'] });
    expect(record.status).toBe('SUCCEEDED');
    expect(tradingState(sandbox, 'order-gateway').every((t) => t.halted && t.openOrders === 0)).toBe(true);
    expect(tradingState(sandbox, 'risk-engine').some((t) => t.halted)).toBe(false);
    expect(sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'market-data')?.desiredCount).toBe(3);
  });

  it('a second halt keeps the first haltId', async () => {
    const sandbox = await openSandbox();
    await halt(sandbox);
    const first = await haltFlag(sandbox);
    const second = await halt(sandbox, { reason: 'another reason', actor: 'bob' });
    expect(second.status).toBe('SUCCEEDED');
    const flag = await haltFlag(sandbox);
    expect(flag.haltId).toBe(first.haltId);
    expect(flag.reason).toBe('risk limit breached');
    expect(JSON.parse(second.output ?? '{}')).toMatchObject({ haltId: first.haltId });
  });

  it('a halt during a running deploy stops it: the deploy is recorded FAILED, its lock released, its rollout rolled back, and new deploys refused', async () => {
    const sandbox = await openSandbox();
    const deployArn = await startDeploy(sandbox, 'market-data', '3.0.0', 'slow-start');
    await sandbox.clock.advance(30_000);
    expect(sandbox.stepFunctions.execution(deployArn)?.status).toBe('RUNNING');

    const record = await halt(sandbox);
    expect(record.status).toBe('SUCCEEDED');
    await runUntilQuiet(sandbox);

    const deployRecord = sandbox.stepFunctions.execution(deployArn);
    expect(deployRecord).toMatchObject({ status: 'ABORTED', error: 'TradingHalted' });
    // Recorded once, though the execution's status change may reach the finalizer more than once.
    const outcomes = (await auditTrail(sandbox, 'market-data')).filter((r) => r.action === 'deploy' && r.phase === 'outcome' && r.executionId === deployArn);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 'failed', error: { name: 'TradingHalted' } });
    expect(await lockItem(sandbox, 'market-data')).toBeUndefined();
    expect(servicePrimary(sandbox, 'market-data')).toMatchObject({ taskDefinition: expect.stringMatching(/market-data:1$/), rolloutState: 'COMPLETED' });

    const refused = await deploy(sandbox, 'risk-engine', '2.0.0');
    expect(refused.record.status).toBe('FAILED');
    expect(refused.record.cause).toContain('trading is halted');
    expect(imageOf(sandbox, 'risk-engine', '2.0.0')).not.toBe(servicePrimary(sandbox, 'risk-engine').taskDefinition);
  });

  it('escalates by name a trading service that never confirms', async () => {
    const sandbox = await openSandbox();
    const release = await deploy(sandbox, 'order-gateway', '3.1.0', 'ignores-halt');
    expect(release.record.status).toBe('SUCCEEDED');

    const pagesBefore = sandbox.sns.messages.length;
    const record = await halt(sandbox);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('HaltNotConfirmed');
    expect(record.cause).toContain('NOT CONFIRMED, act now: order-gateway');
    const page = sandbox.sns.messages.slice(pagesBefore).find((m) => m.subject?.startsWith('HALT NOT CONFIRMED'));
    expect(page?.subject).toBe('HALT NOT CONFIRMED: order-gateway');
    expect(page?.message).toMatch(/order-gateway \(0\/4 tasks confirmed/);
    // The others did stop, and the verification waited out its deadline before escalating.
    expect(tradingState(sandbox, 'risk-engine').every((t) => t.halted && t.openOrders === 0)).toBe(true);
    const verifyStarted = record.history.find((e) => e.stateName === 'Verify trading stopped')?.timestamp ?? 0;
    const verifyEnded = record.history.find((e) => e.stateName === 'Record halt outcome')?.timestamp ?? 0;
    expect(verifyEnded - verifyStarted).toBeGreaterThanOrEqual((sandbox.fleet.halt?.verifyDeadlineSeconds ?? 60) * 1000 - 2_000);
    const recorded = (await readAuditTrail(sandbox, { subject: 'fleet', limit: 50 })).find((r) => r.action === 'halt' && r.phase === 'outcome');
    expect(recorded?.after).toMatchObject({ status: 'ESCALATED', unconfirmed: ['order-gateway'] });
  });

  it('keeps the admin token out of every execution input, output and history, every log line, the audit trail and the pages', async () => {
    const sandbox = await openSandbox();
    const secret = await sandbox.complete(sandbox.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: sandbox.fleet.halt?.adminTokenSecret })));
    const token = secret.SecretString ?? '';
    expect(token.length).toBeGreaterThan(16);

    await setAlarm(sandbox, 'prod-daily-loss-limit', 'ALARM', 'loss limit');
    await runUntilQuiet(sandbox);
    expect(executionsOf(sandbox, 'halt')).toHaveLength(1);
    expect(executionsOf(sandbox, 'halt')[0]?.status).toBe('SUCCEEDED');
    // The services really were called with it: their admin API (which checks the bearer token) took the halt.
    expect(tradingState(sandbox, 'order-gateway').every((t) => t.haltedThroughAdminApi)).toBe(true);
    const resumeArn = await sandbox.startExecution('resume', { requestedBy: 'alice', reason: 'reviewed' });
    await sandbox.clock.runUntil(() => sandbox.stepFunctions.isWaitingOnToken(resumeArn));
    await setAlarm(sandbox, 'prod-daily-loss-limit', 'OK', 'recovered');
    const approved = await sandbox.invokeFunctionUrl('resume', 'DecideResumeApproval', principal('chief-risk-officer'), {
      approvalId: resumeArn.split(':').pop(),
      decision: 'approve',
    });
    expect(approved.statusCode).toBe(200);
    expect((await sandbox.runExecution(resumeArn)).status).toBe('SUCCEEDED');

    const places: [string, string][] = [
      ...sandbox.stepFunctions.listExecutionRecords().map((e): [string, string] => [`execution ${e.name}`, JSON.stringify(e)]),
      ...sandbox.lambda.logLines().map((l): [string, string] => ['function logs', l.message]),
      ['audit trail', JSON.stringify(await readAuditTrail(sandbox, { limit: 1000 }))],
      ['pages', JSON.stringify(sandbox.sns.messages)],
      ['events', JSON.stringify(sandbox.eventBridge.events)],
    ];
    expect(places.length).toBeGreaterThan(20);
    for (const [place, text] of places) expect(text.includes(token), place).toBe(false);
  });
});
