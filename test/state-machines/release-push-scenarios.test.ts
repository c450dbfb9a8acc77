/**
 * Pushes to ECR released through the simulated bus: the push rule, the push
 * handler and the release state machine, with the deploy-window wait, a newer
 * push superseding a waiting release, and one release per digest.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readRelease } from '../../functions/shared/domain/release';
import { ecrRepositoryName } from '../../lib/naming';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { auditTrail, drainEvents, openSandbox, servicePrimary, statesEntered } from '../support/sandbox';

/** Emits a push exactly as ECR does (one event per tag) and returns the pinned image. */
function push(sandbox: Sandbox, service: string, tag: string, content = tag): { image: string; digest: string } {
  const repositoryUri = sandbox.fleet.services[service]?.imageRepository ?? '';
  const repository = ecrRepositoryName(repositoryUri);
  const digest = `sha256:${createHash('sha256').update(`${service}:${content}`).digest('hex')}`;
  const image = `${repositoryUri}@${digest}`;
  sandbox.images.set(image, 'healthy');
  sandbox.eventBridge.emit({
    source: 'aws.ecr',
    detailType: 'ECR Image Action',
    resources: [`arn:aws:ecr:${sandbox.config.region}:${sandbox.config.account}:repository/${repository}`],
    detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': repository, 'image-digest': digest, 'image-tag': tag },
  });
  return { image, digest };
}

const releases = (sandbox: Sandbox) => sandbox.stepFunctions.listExecutionRecords(sandbox.config.stateMachineArns.release);

async function runAll(sandbox: Sandbox): Promise<void> {
  await drainEvents(sandbox);
  for (const execution of releases(sandbox)) await sandbox.runExecution(execution.executionArn, 48 * 3600_000);
}

describe('releases started by a push', () => {
  it('releases the pushed digest once, whatever the number of tags, and ignores other tags', async () => {
    const sandbox = await openSandbox();
    const { image, digest } = push(sandbox, 'order-gateway', '3.1.0', 'build-1');
    push(sandbox, 'order-gateway', 'v3.1.0', 'build-1');
    push(sandbox, 'order-gateway', 'latest', 'build-1');
    await runAll(sandbox);

    const started = releases(sandbox);
    expect(started.map((e) => e.name)).toEqual([`push-order-gateway-${digest.slice(7, 47)}`]);
    expect(started[0]?.status).toBe('SUCCEEDED');
    const record = await readRelease(sandbox, started[0]?.name ?? '');
    expect(record).toMatchObject({ status: 'SUCCEEDED', source: { type: 'push', digest }, consistency: { proven: true } });
    expect(record?.services['order-gateway']).toMatchObject({ status: 'RELEASED', image, digest });
    const primary = servicePrimary(sandbox, 'order-gateway');
    expect(sandbox.ecs.taskDefinition(primary.taskDefinition)?.containerDefinitions[0]?.image).toBe(image);

    const pushes = (await auditTrail(sandbox, 'order-gateway')).filter((r) => r.action.startsWith('release.push'));
    const decisions = pushes.map((r) => (r.after as { decision: string }).decision);
    // At-least-once delivery may repeat an event: each repeat is recorded, and none starts a second release.
    expect(decisions.filter((d) => d === 'started')).toHaveLength(1);
    expect([...new Set(decisions)].sort()).toEqual(['duplicate', 'ignored', 'started']);
  });

  it('waits for the next deploy window, and a newer push supersedes the waiting release', async () => {
    // Monday 08:00 London: the morning window has closed; the evening one opens at 16:45.
    const sandbox = await openSandbox(undefined, Date.parse('2026-01-05T08:00:00Z'));
    const first = push(sandbox, 'order-gateway', '3.2.0');
    await drainEvents(sandbox);
    await sandbox.clock.runUntil(() => false, 3600_000);
    const second = push(sandbox, 'order-gateway', '3.2.1');
    await runAll(sandbox);

    const [older, newer] = releases(sandbox).sort((a, b) => a.startDate - b.startDate);
    expect(older?.status).toBe('SUCCEEDED');
    expect(statesEntered(older ?? ({ history: [] } as never))).toEqual(
      expect.arrayContaining(['Wait for the deploy window', 'Check the release is still the newest', 'Record the release superseded', 'Release superseded']),
    );
    expect(await readRelease(sandbox, older?.name ?? '')).toMatchObject({ status: 'SUPERSEDED', waitUntil: '2026-01-05T16:45:00.000Z' });
    expect(newer?.status).toBe('SUCCEEDED');
    expect(await readRelease(sandbox, newer?.name ?? '')).toMatchObject({ status: 'SUCCEEDED', services: { 'order-gateway': { digest: second.digest } } });
    // Only the newer digest was deployed, and not before the window opened.
    const deploys = sandbox.stepFunctions.listExecutionRecords(sandbox.config.stateMachineArns.deploy);
    expect(deploys.map((d) => (JSON.parse(d.input) as { image: string }).image)).toEqual([second.image]);
    expect(deploys[0]?.startDate).toBeGreaterThanOrEqual(Date.parse('2026-01-05T16:45:00Z'));
    expect(first.digest).not.toBe(second.digest);
  });
});
