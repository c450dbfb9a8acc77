/**
 * The resume and rollback state machines in the sandbox with the real handlers:
 * approval by a second person (and every way it is refused), gradual resumption,
 * and rollbacks of deploys in flight, of settled services, and to named revisions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DecryptCommand } from '@aws-sdk/client-kms';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../functions/shared/runtime/clients';
import { ALL_CLIENT_CLASSES } from '../../lib/sandbox/all-clients';
import { Sandbox } from '../../lib/sandbox/sandbox';
import {
  auditTrail,
  deploy,
  fleetWith,
  haltFlag,
  lockItem,
  openSandbox,
  routingDecisions,
  runUntilQuiet,
  scenarioOptions,
  servicePrimary,
  setAlarm,
  startDeploy,
  statesEntered,
  succeededCalls,
} from '../support/sandbox';
import { principal } from '../support/approvals';

const revision = (arn: string): string => arn.split('/').pop() ?? arn;

async function haltTrading(sandbox: Sandbox): Promise<string> {
  const record = await sandbox.runExecution(await sandbox.startExecution('halt', { reason: 'loss limit', actor: 'risk-desk' }));
  expect(record.status).toBe('SUCCEEDED');
  return (await haltFlag(sandbox)).haltId ?? '';
}

/** Starts a resume and runs it until it waits for approval; its approval id. */
async function requestResume(sandbox: Sandbox, requestedBy = 'alice'): Promise<{ arn: string; approvalId: string }> {
  const arn = await sandbox.startExecution('resume', { requestedBy, reason: 'reviewed with risk' });
  await sandbox.clock.runUntil(() => sandbox.stepFunctions.isWaitingOnToken(arn) || sandbox.stepFunctions.execution(arn)?.status !== 'RUNNING');
  return { arn, approvalId: arn.split(':').pop() ?? '' };
}

/**
 * A decision POSTed to the resume decision function's URL as `approver` (a name's
 * SSO session): a refusal rejects with the function's reason (403), or with
 * IAM's `Forbidden` when the principal may not call the URL at all.
 */
async function decide(sandbox: Sandbox, approvalId: string, approver: string, decision: 'approve' | 'reject' = 'approve'): Promise<unknown> {
  const response = await sandbox.invokeFunctionUrl('resume', 'DecideResumeApproval', principal(approver), { approvalId, decision });
  const answer = JSON.parse(response.body) as { error?: string; message?: string; Message?: string };
  if (response.statusCode === 200) return answer;
  throw Object.assign(new Error(answer.message ?? answer.Message), {
    statusCode: response.statusCode,
    errorType: answer.error ?? answer.Message,
    errorMessage: answer.message ?? answer.Message,
  });
}

function tradingHalted(sandbox: Sandbox, service: string): boolean[] {
  const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, service);
  if (!record) throw new Error(`no service ${service}`);
  return sandbox.ecs
    .serviceTasks(record)
    .filter((t) => t.lastStatus === 'RUNNING')
    .map((t) => sandbox.applications.haltState(t).halted);
}

describe('resume state machine', () => {
  it('a second person approves: capacity comes back first, then services resume, then the flag clears', async () => {
    const sandbox = await openSandbox();
    await haltTrading(sandbox);
    expect(sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'market-data')?.desiredCount).toBe(0);
    const { arn, approvalId } = await requestResume(sandbox);
    expect(sandbox.sns.messages.some((m) => m.message.includes(`assure approve ${approvalId}`))).toBe(true);

    await decide(sandbox, approvalId, 'chief-risk-officer');
    const record = await sandbox.runExecution(arn);
    expect(record.status).toBe('SUCCEEDED');
    expect(statesEntered(record)).toEqual([
      'Validate resume request',
      'Wait for a second person to approve',
      'Check the fleet is ready to resume',
      'Restore hard-stopped capacity',
      'Tell trading services to resume',
      'Clear halt flag',
      'Record trading resumed',
      'Trading resumed',
    ]);
    // Gradual: the flag cleared only after market-data's capacity was running again and services were told to resume.
    const clearedAt = record.history.find((e) => e.stateName === 'Clear halt flag')?.timestamp ?? 0;
    const marketData = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, 'market-data');
    expect(marketData?.desiredCount).toBe(3);
    const running = sandbox.ecs.serviceTasks(marketData ?? (undefined as never)).filter((t) => t.lastStatus === 'RUNNING');
    expect(running).toHaveLength(3);
    expect(running.every((t) => (t.startedAt ?? Infinity) < clearedAt)).toBe(true);
    expect(await haltFlag(sandbox)).toMatchObject({ halted: false });
    for (const service of ['market-data', 'risk-engine', 'order-gateway']) expect(tradingHalted(sandbox, service).some(Boolean), service).toBe(false);
    const resumed = (await auditTrail(sandbox, 'fleet')).find((r) => r.action === 'resume' && r.phase === 'outcome');
    expect(resumed).toMatchObject({ status: 'succeeded' });
  });

  it('refuses the requester as approver, and a timeout means no: trading stays halted', async () => {
    const sandbox = await openSandbox();
    const haltId = await haltTrading(sandbox);
    // The requester is an approver; as a principal, they still cannot approve their own resume.
    const { arn, approvalId } = await requestResume(sandbox, principal('head-of-trading'));

    await expect(decide(sandbox, approvalId, 'head-of-trading')).rejects.toMatchObject({
      errorType: 'ApprovalRefusedError',
      errorMessage: expect.stringContaining(`${principal('head-of-trading')} asked for this resume and cannot approve it`),
    });
    // Not an approver: IAM refuses the call to the function URL before the function runs.
    await expect(decide(sandbox, approvalId, 'bob')).rejects.toMatchObject({ statusCode: 403, errorType: 'Forbidden' });
    expect(sandbox.stepFunctions.isWaitingOnToken(arn)).toBe(true);

    const record = await sandbox.runExecution(arn);
    expect(record).toMatchObject({ status: 'FAILED', error: 'ResumeNotApproved' });
    expect(record.cause).toContain('no decision in time');
    const waited = (record.stopDate ?? 0) - record.startDate;
    expect(waited).toBeGreaterThanOrEqual(sandbox.fleet.approvals.resumeTimeoutMinutes * 60_000);
    expect(await haltFlag(sandbox)).toMatchObject({ halted: true, haltId });
    expect(tradingHalted(sandbox, 'order-gateway').every(Boolean)).toBe(true);
    // A decision after the timeout changes nothing either.
    await expect(decide(sandbox, approvalId, 'chief-risk-officer')).rejects.toMatchObject({ errorType: 'ApprovalRefusedError' });
  });

  it('refuses while a halt alarm is in ALARM, even when approved', async () => {
    const sandbox = await openSandbox();
    await setAlarm(sandbox, 'prod-daily-loss-limit', 'ALARM', 'loss limit');
    await runUntilQuiet(sandbox);
    expect((await haltFlag(sandbox)).halted).toBe(true);
    const { arn, approvalId } = await requestResume(sandbox);
    await decide(sandbox, approvalId, 'head-of-trading');
    const record = await sandbox.runExecution(arn);
    expect(record).toMatchObject({ status: 'FAILED', error: 'ResumeNotReady' });
    expect(record.cause).toContain('halt alarm prod-daily-loss-limit is in ALARM');
    expect((await haltFlag(sandbox)).halted).toBe(true);
  });

  it('an approver can reject; a resume with no halt in force is refused, naming why', async () => {
    const sandbox = await openSandbox();
    const nothing = await sandbox.runExecution(await sandbox.startExecution('resume', { requestedBy: 'alice', reason: 'x' }));
    expect(nothing).toMatchObject({ status: 'FAILED', error: 'InvalidResumeRequestError' });
    expect(nothing.cause).toContain('Trading is not halted');
    const invalid = await sandbox.runExecution(await sandbox.startExecution('resume', { reason: 'x' }));
    expect(invalid.cause).toContain('requestedBy');

    await haltTrading(sandbox);
    const { arn, approvalId } = await requestResume(sandbox);
    await decide(sandbox, approvalId, 'chief-risk-officer', 'reject');
    const record = await sandbox.runExecution(arn);
    expect(record).toMatchObject({ status: 'FAILED', error: 'ResumeNotApproved' });
    expect(record.cause).toContain(`Rejected by ${principal('chief-risk-officer')}`);
    expect((await haltFlag(sandbox)).halted).toBe(true);
  });

  it('waits for approval across sandbox sessions (the CLI runs one command per process)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'assure-resume-'));
    try {
      let sandbox = await Sandbox.open(scenarioOptions({ fleet: fleetWith(), stateDirectory: directory }));
      await haltTrading(sandbox);
      const { arn, approvalId } = await requestResume(sandbox);
      await sandbox.save();
      sandbox.dispose();

      sandbox = await Sandbox.open(scenarioOptions({ fleet: fleetWith(), stateDirectory: directory }));
      expect(sandbox.stepFunctions.isWaitingOnToken(arn)).toBe(true);
      await decide(sandbox, approvalId, 'head-of-trading');
      const record = await sandbox.runExecution(arn);
      expect(record.status).toBe('SUCCEEDED');
      // One history: the states before the save, and after it, each entered once.
      expect(statesEntered(record).filter((s) => s === 'Wait for a second person to approve')).toHaveLength(1);
      expect(statesEntered(record)[0]).toBe('Validate resume request');
      sandbox.dispose();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('resume approval: who may complete the waiting task', () => {
  it('records the requester IAM authenticated at the request URL, never a name from the body', async () => {
    const sandbox = await openSandbox();
    await haltTrading(sandbox);
    const claimed = await sandbox.invokeFunctionUrl('resume', 'RequestResume', principal('alice'), { reason: 'x', requestedBy: principal('bob') });
    expect(claimed.statusCode).toBe(502);
    const response = await sandbox.invokeFunctionUrl('resume', 'RequestResume', principal('alice'), { reason: 'reviewed', name: 'resume-by-alice' });
    expect(response.statusCode).toBe(200);
    const { executionArn } = JSON.parse(response.body) as { executionArn: string };
    expect(JSON.parse(sandbox.stepFunctions.execution(executionArn)?.input ?? '{}')).toEqual({ requestedBy: principal('alice'), reason: 'reviewed' });
  });

  it('stores the task token only as its hash and a KMS ciphertext: no table holds the token', async () => {
    const sandbox = await openSandbox();
    await haltTrading(sandbox);
    const { arn, approvalId } = await requestResume(sandbox);
    const token = sandbox.stepFunctions.pausedExecutions().find((p) => p.record.executionArn === arn)?.taskToken ?? '';
    expect(token).not.toBe('');

    const tables = await sandbox.dynamodb.snapshot();
    expect(JSON.stringify(tables)).not.toContain(token);
    const approval = tables.flatMap((t) => t.items).find((item) => JSON.stringify(item).includes(`approval#${approvalId}`));
    const stored = unmarshall(approval as Record<string, AttributeValue>);
    expect(stored).toMatchObject({ taskTokenHash: createHash('sha256').update(token).digest('hex'), taskTokenCiphertext: expect.any(String) });
    expect(stored).not.toHaveProperty('taskToken');
    expect(Buffer.from(String(stored.taskTokenCiphertext), 'base64').toString('utf8')).not.toContain(token);
  });

  it('denies SendTaskSuccess to any role but the decision function, even with the token', async () => {
    const sandbox = await openSandbox();
    await haltTrading(sandbox);
    const { arn, approvalId } = await requestResume(sandbox);
    // Whoever reads the execution's history can see the token: IAM must still say no.
    const token = sandbox.stepFunctions.pausedExecutions().find((p) => p.record.executionArn === arn)?.taskToken ?? '';
    const asFunction = (key: string) => {
      const name = sandbox.functionArns.resume?.[key]?.split(':').pop() ?? '';
      const session = sandbox.iam?.functionSession(name);
      if (!session) throw new Error(`no role for ${key}`);
      return createAwsClients(ALL_CLIENT_CLASSES, { region: sandbox.context.region, plugins: [sandbox.transport.plugin(session)] });
    };
    const forged = JSON.stringify({ approvedBy: principal('mallory'), decidedAt: new Date().toISOString(), comment: null });
    for (const key of ['RequestResumeApproval', 'ClearHaltFlag']) {
      await expect(sandbox.complete(asFunction(key).sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: forged }))), key).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
    }
    // Nor may another role decrypt the stored token.
    const tables = await sandbox.dynamodb.snapshot();
    const approval = unmarshall(
      tables.flatMap((t) => t.items).find((i) => JSON.stringify(i).includes(`approval#${approvalId}`)) as Record<string, AttributeValue>,
    );
    await expect(
      sandbox.complete(
        asFunction('ClearHaltFlag').kms.send(
          new DecryptCommand({ CiphertextBlob: Buffer.from(String(approval.taskTokenCiphertext), 'base64'), EncryptionContext: { approvalId } }),
        ),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(sandbox.stepFunctions.isWaitingOnToken(arn)).toBe(true);

    await decide(sandbox, approvalId, 'chief-risk-officer');
    expect((await sandbox.runExecution(arn)).status).toBe('SUCCEEDED');
  });
});

describe('rollback state machine', () => {
  it('stops a deploy in flight with ECS rollback; the deploy execution is stopped and recorded FAILED', async () => {
    const sandbox = await openSandbox();
    const deployArn = await startDeploy(sandbox, 'order-gateway', '3.0.0', 'slow-start');
    await sandbox.clock.advance(40_000);

    const record = await sandbox.runExecution(
      await sandbox.startExecution('rollback', { service: 'order-gateway', reason: 'bad release', source: 'cli', requestedBy: 'carol' }),
    );
    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.parse(record.output ?? '{}')).toMatchObject({ message: expect.stringContaining('rolled back to order-gateway:1 and verified healthy') });
    await runUntilQuiet(sandbox);

    expect(sandbox.stepFunctions.execution(deployArn)).toMatchObject({ status: 'ABORTED', error: 'StoppedForRollback' });
    const trail = await auditTrail(sandbox, 'order-gateway');
    const deployOutcomes = trail.filter((r) => r.action === 'deploy' && r.phase === 'outcome' && r.executionId === deployArn);
    expect(deployOutcomes).toHaveLength(1);
    expect(deployOutcomes[0]).toMatchObject({ status: 'failed' });
    expect(trail.find((r) => r.action === 'rollback.update-service' && r.phase === 'outcome')?.after).toMatchObject({ action: 'stopped-in-flight-deployment' });
    expect(servicePrimary(sandbox, 'order-gateway')).toMatchObject({
      taskDefinition: expect.stringMatching(/order-gateway:1$/),
      rolloutState: 'COMPLETED',
      deployments: 1,
    });
    expect(await lockItem(sandbox, 'order-gateway')).toBeUndefined();
  });

  it('returns a settled service to its previous revision inside the rollback window, and refuses outside it', async () => {
    const sandbox = await openSandbox();
    expect((await deploy(sandbox, 'risk-engine', '2.0.0')).record.status).toBe('SUCCEEDED');
    expect(revision(servicePrimary(sandbox, 'risk-engine').taskDefinition)).toBe('risk-engine:2');

    const inside = await sandbox.runExecution(await sandbox.startExecution('rollback', { service: 'risk-engine', reason: 'pnl drift' }));
    expect(inside.status).toBe('SUCCEEDED');
    expect(revision(servicePrimary(sandbox, 'risk-engine').taskDefinition)).toBe('risk-engine:1');

    expect((await deploy(sandbox, 'market-data', '2.0.0')).record.status).toBe('SUCCEEDED');
    await sandbox.clock.advance((sandbox.fleet.guardRails.rollbackWindowMinutes + 1) * 60_000);
    const outside = await sandbox.runExecution(await sandbox.startExecution('rollback', { service: 'market-data', reason: 'late' }));
    expect(outside).toMatchObject({ status: 'FAILED', error: 'RollbackRefused' });
    expect(outside.cause).toContain('rollback window');
    expect(revision(servicePrimary(sandbox, 'market-data').taskDefinition)).toBe('market-data:2');
    expect(await lockItem(sandbox, 'market-data')).toBeUndefined();
  });

  it('goes to the revision an engineer names, at any time; a bad request names the field', async () => {
    const sandbox = await openSandbox();
    await deploy(sandbox, 'market-data', '2.0.0');
    await deploy(sandbox, 'market-data', '2.1.0');
    await sandbox.clock.advance(6 * 3600_000);
    const named = await sandbox.runExecution(await sandbox.startExecution('rollback', { service: 'market-data', reason: 'back to 2.0.0', targetRevision: 2 }));
    expect(named.status).toBe('SUCCEEDED');
    expect(revision(servicePrimary(sandbox, 'market-data').taskDefinition)).toBe('market-data:2');

    const unknown = await sandbox.runExecution(await sandbox.startExecution('rollback', { service: 'nope', reason: 'x' }));
    expect(unknown).toMatchObject({ status: 'FAILED', error: 'InvalidRollbackRequestError' });
    expect(unknown.cause).toContain('service: nope is not in the prod fleet');
    const negative = await sandbox.runExecution(await sandbox.startExecution('rollback', { service: 'market-data', reason: 'x', targetRevision: -1 }));
    expect(negative.cause).toContain('targetRevision');
  });

  it('an alarm on a settled service after a deploy starts a rollback; the event id names the execution', async () => {
    const sandbox = await openSandbox();
    expect((await deploy(sandbox, 'order-gateway', '3.0.0')).record.status).toBe('SUCCEEDED');
    await setAlarm(sandbox, 'prod-order-gateway-latency-p99', 'ALARM', 'p99 above 25 ms');
    await runUntilQuiet(sandbox);
    const rollbacks = sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.rollback);
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]?.name).toMatch(/^alarm-[0-9a-f-]{36}$/);
    expect(rollbacks[0]?.status).toBe('SUCCEEDED');
    expect(revision(servicePrimary(sandbox, 'order-gateway').taskDefinition)).toBe('order-gateway:1');
    expect(JSON.parse(rollbacks[0]?.input ?? '{}')).toMatchObject({
      service: 'order-gateway',
      source: 'alarm:prod-order-gateway-latency-p99',
      requestedBy: 'assure',
    });
    // The deploy's update and the rollback's: the alarm event, however often delivered, moved the service once.
    expect(succeededCalls(sandbox, 'UpdateService')).toBe(2);
    const eventId = rollbacks[0]?.name.replace(/^alarm-/, '');
    const decisions = (await routingDecisions(sandbox)).filter((d) => d.eventId === eventId).map((d) => d.decision);
    expect(decisions.filter((d) => d !== 'duplicate')).toEqual(['rollback-started']);
  });
});
