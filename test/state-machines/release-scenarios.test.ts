/**
 * The release state machine (state-machines/release.asl.json) run in the
 * sandbox with the real handlers, nesting the deploy and rollback state
 * machines (`startExecution.sync:2`): waves in dependency order, a failed
 * service rolls the released ones back in reverse order, the consistency
 * proof, the deploy-window wait, and fleet rollback.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readRelease, type ReleaseRecord } from '../../functions/shared/domain/release';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import type { ImageBehaviour } from '../../lib/sandbox/simulated-workloads';
import { auditTrail, drainEvents, fleetWith, openSandbox, servicePrimary, statesEntered } from '../support/sandbox';

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** A digest-pinned image of the service, with its sandbox behaviour. */
function pinned(sandbox: Sandbox, service: string, version: string, behaviour: ImageBehaviour = 'healthy'): string {
  const image = `${sandbox.fleet.services[service]?.imageRepository ?? ''}@${digestOf(`${service}:${version}`)}`;
  sandbox.images.set(image, behaviour);
  return image;
}

const revision = (arn: string): string => arn.split('/').pop() ?? arn;

async function release(sandbox: Sandbox, input: unknown, name?: string): Promise<{ executionArn: string; record: ReleaseRecord; status: string }> {
  const executionArn = await sandbox.startExecution('release', input, name);
  const execution = await sandbox.runExecution(executionArn, 48 * 3600_000);
  const record = await readRelease(sandbox, executionArn.split(':').pop() ?? '');
  if (!record) throw new Error(`no release record for ${executionArn}`);
  return { executionArn, record, status: execution.status };
}

/** Executions of a workflow's state machine, oldest first, with the service each was about. */
function executionsOf(sandbox: Sandbox, workflow: string): { service: string; status: string; startDate: number }[] {
  const arn = sandbox.config.stateMachineArns[workflow as 'deploy'];
  return sandbox.stepFunctions
    .listExecutionRecords(arn)
    .sort((a, b) => a.startDate - b.startDate)
    .map((e) => ({ service: (JSON.parse(e.input) as { service: string }).service, status: e.status, startDate: e.startDate }));
}

describe('release state machine', () => {
  it('a 3-service release whose last service fails rolls the first two back in reverse order', async () => {
    const sandbox = await openSandbox();
    const before = Object.fromEntries(['reference-data', 'market-data', 'risk-engine'].map((s) => [s, servicePrimary(sandbox, s).taskDefinition]));
    const { record, status, executionArn } = await release(sandbox, {
      services: {
        'risk-engine': pinned(sandbox, 'risk-engine', '2.0.0', 'crash-on-start'),
        'market-data': pinned(sandbox, 'market-data', '2.0.0'),
        'reference-data': pinned(sandbox, 'reference-data', '2.0.0'),
      },
      requestedBy: 'release-manager',
      reason: 'quarterly release',
    });

    expect(status).toBe('FAILED');
    expect(record.waves).toEqual([['reference-data'], ['market-data'], ['risk-engine']]);
    expect(record.status).toBe('FAILED');
    expect(record.services['risk-engine']?.status).toBe('FAILED');
    expect(record.services['market-data']?.status).toBe('ROLLED_BACK');
    expect(record.services['reference-data']?.status).toBe('ROLLED_BACK');
    // Deployed in dependency order, rolled back in reverse.
    expect(executionsOf(sandbox, 'deploy').map((e) => e.service)).toEqual(['reference-data', 'market-data', 'risk-engine']);
    expect(executionsOf(sandbox, 'rollback').map((e) => `${e.service} ${e.status}`)).toEqual(['market-data SUCCEEDED', 'reference-data SUCCEEDED']);
    // Every service ends on its previous revision.
    await sandbox.settleEcs();
    for (const [service, taskDefinition] of Object.entries(before)) {
      expect(revision(servicePrimary(sandbox, service).taskDefinition), service).toBe(revision(taskDefinition));
      expect(record.fleetAfter?.[service]?.taskDefinitionArn).toBe(taskDefinition);
    }
    const trail = await auditTrail(sandbox, `release/${executionArn.split(':').pop() ?? ''}`);
    expect(trail.map((r) => r.action)).toEqual(expect.arrayContaining(['release.started', 'release.wave', 'release.rollback', 'release.finished']));
    const execution = sandbox.stepFunctions.execution(executionArn);
    expect(statesEntered(execution ?? ({ history: [] } as never))).toContain('Roll back the released services');
  });

  it('releases a wave in parallel, proves every task runs the released digest, and a fleet rollback returns it', async () => {
    const sandbox = await openSandbox();
    const before = Object.fromEntries(['market-data', 'trade-service'].map((s) => [s, servicePrimary(sandbox, s).taskDefinition]));
    const images = { 'market-data': pinned(sandbox, 'market-data', '2.1.0'), 'trade-service': pinned(sandbox, 'trade-service', '2.1.0') };
    const { record, status, executionArn } = await release(sandbox, { services: images, requestedBy: 'release-manager', reason: 'fix' });

    expect(status).toBe('SUCCEEDED');
    expect(record).toMatchObject({ status: 'SUCCEEDED', waves: [['market-data', 'trade-service']], consistency: { proven: true, mismatches: [] } });
    expect(record.consistency?.tasks).toBeGreaterThanOrEqual(2);
    for (const [service, image] of Object.entries(images)) {
      expect(record.services[service]).toMatchObject({ status: 'RELEASED', image, previousTaskDefinitionArn: before[service] });
      expect(record.fleetAfter?.[service]?.image).toBe(image);
    }
    // One wave, both services at once (maxParallelDeploys 3).
    const [a, b] = sandbox.stepFunctions.listExecutionRecords(sandbox.config.stateMachineArns.deploy);
    expect(Math.abs((a?.startDate ?? 0) - (b?.startDate ?? 0))).toBeLessThan(60_000);

    const releaseId = executionArn.split(':').pop() ?? '';
    const rolled = await release(sandbox, { rollbackOf: releaseId, requestedBy: 'release-manager', reason: 'back out' });
    expect(rolled.status).toBe('SUCCEEDED');
    expect(rolled.record).toMatchObject({ kind: 'rollback', rollbackOf: releaseId, status: 'SUCCEEDED' });
    await sandbox.settleEcs();
    for (const [service, taskDefinition] of Object.entries(before)) {
      expect(revision(servicePrimary(sandbox, service).taskDefinition), service).toBe(revision(taskDefinition));
      expect(rolled.record.services[service]?.status).toBe('ROLLED_BACK');
    }
  });

  it('refuses a manifest that names a tag instead of a digest, naming the field', async () => {
    const sandbox = await openSandbox();
    const image = `${sandbox.fleet.services['market-data']?.imageRepository ?? ''}:2.2.0`;
    const executionArn = await sandbox.startExecution('release', { services: { 'market-data': image }, requestedBy: 'me', reason: 'tagged' });
    const execution = await sandbox.runExecution(executionArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidReleaseRequestError');
    expect(execution.cause).toContain('services.market-data');
  });

  it('refuses a release whose next deploy window is further away than the fleet allows', async () => {
    const fleet = fleetWith((raw) => {
      (raw.release as { maxWindowWaitHours: number }).maxWindowWaitHours = 2;
    });
    // No IAM: a refusal needs no grants, and another fleet would synthesize another stack.
    const sandbox = await openSandbox(fleet, Date.parse('2026-01-05T08:00:00Z'), { iam: 'off' });
    const executionArn = await sandbox.startExecution('release', {
      services: { 'market-data': pinned(sandbox, 'market-data', '2.3.0') },
      requestedBy: 'me',
      reason: 'too early',
    });
    const execution = await sandbox.runExecution(executionArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.cause).toContain('no deploy window opens within 2 hours');
  });

  it('a release stopped from outside stops its deploy and is recorded FAILED', async () => {
    const sandbox = await openSandbox();
    const executionArn = await sandbox.startExecution('release', {
      services: { 'market-data': pinned(sandbox, 'market-data', '2.4.0', 'slow-start') },
      requestedBy: 'release-manager',
      reason: 'stopped halfway',
    });
    await sandbox.clock.advance(60_000);
    const [deploy] = sandbox.stepFunctions.listExecutionRecords(sandbox.config.stateMachineArns.deploy);
    expect(deploy?.status).toBe('RUNNING');
    sandbox.stepFunctions.stopExecution(executionArn, 'Operator', 'wrong build');
    await drainEvents(sandbox);
    expect(sandbox.stepFunctions.execution(deploy?.executionArn ?? '')?.status).toBe('ABORTED');
    const record = await readRelease(sandbox, executionArn.split(':').pop() ?? '');
    expect(record).toMatchObject({ status: 'FAILED', failure: { error: 'Operator', cause: expect.stringContaining('wrong build') } });
    expect(record?.finishedAt).toBeDefined();
  });
});
