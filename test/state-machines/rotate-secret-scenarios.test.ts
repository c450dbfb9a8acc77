/**
 * The rotate-secret state machine (state-machines/rotate-secret.asl.json) in the
 * sandbox with the real handlers and the real rotation function: who is
 * redeployed and in what order, which secret version every task holds
 * afterwards, what a failed consumer does to the secret, where the value is
 * not, and how a finished scheduled rotation is followed up once.
 */
import { DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import { secretConsumers } from '../../lib/fleet/fleet';
import { deploymentHookFunctionName } from '../../lib/naming';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import { auditTrail, deliver, executionsOf, imageOf, lockItem, openSandbox, runUntilQuiet, statesEntered } from '../support/sandbox';

const rotate = async (sandbox: Sandbox, input: Record<string, unknown>) => sandbox.runExecution(await sandbox.startExecution('rotate-secret', input));

async function stages(sandbox: Sandbox, secret: string): Promise<Record<string, string[]>> {
  const described = await sandbox.complete(sandbox.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secret })));
  return described.VersionIdsToStages ?? {};
}

const versionWith = (all: Record<string, string[]>, stage: string): string | undefined => Object.entries(all).find(([, s]) => s.includes(stage))?.[0];

/** The secret version each running task of a service started with, for the secret's variable. */
function runningVersions(sandbox: Sandbox, service: string, variable: string): (string | undefined)[] {
  const record = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[service]?.ecsServiceName ?? service);
  if (!record) throw new Error(`no service ${service}`);
  return sandbox.ecs
    .serviceTasks(record)
    .filter((t) => t.lastStatus === 'RUNNING')
    .map((t) => sandbox.applications.app(t.taskArn)?.secretVersions[variable]);
}

describe('rotate-secret state machine', () => {
  it('rotates, redeploys every consumer in dependency order through the health gate, and leaves every consumer task on the new version', async () => {
    const sandbox = await openSandbox();
    const secret = sandbox.fleet.secrets['admin-api-token'];
    if (!secret) throw new Error('no admin-api-token in the example fleet');
    const before = versionWith(await stages(sandbox, secret.name), 'AWSCURRENT');
    const consumers = secretConsumers(sandbox.fleet, secret.id);
    expect(consumers).toEqual(['market-data', 'risk-engine', 'order-gateway']);

    const record = await rotate(sandbox, { secret: 'admin-api-token', requestedBy: 'alice', reason: 'quarterly rotation' });
    expect(record.status, record.cause).toBe('SUCCEEDED');
    const output = JSON.parse(record.output ?? '{}') as { status: string; versionId: string; consumers: string[]; message: string };
    expect(output).toMatchObject({ status: 'SUCCEEDED', consumers });

    const after = await stages(sandbox, secret.name);
    expect(versionWith(after, 'AWSCURRENT')).toBe(output.versionId);
    expect(versionWith(after, 'AWSPREVIOUS')).toBe(before);
    expect(versionWith(after, 'AWSPENDING') ?? output.versionId).toBe(output.versionId);

    // Every running task of every consumer read the new version when it started.
    for (const service of consumers) {
      const versions = runningVersions(sandbox, service, secret.variable);
      expect(versions.length, service).toBe(sandbox.fleet.services[service]?.capacity.desired);
      expect(new Set(versions), service).toEqual(new Set([output.versionId]));
    }
    // Services that do not consume it were left alone.
    expect(new Set(runningVersions(sandbox, 'trade-service', secret.variable))).toEqual(new Set([undefined]));
    // The blue/green and canary consumers restarted with their fleet strategy on the load balancer's advanced
    // configuration, registering no lifecycle hook: nothing judged a restart of the revision they already ran.
    for (const [service, strategy] of [
      ['risk-engine', 'BLUE_GREEN'],
      ['order-gateway', 'CANARY'],
    ] as const) {
      const ecsService = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[service]?.ecsServiceName ?? service);
      expect(ecsService?.deploymentConfiguration.strategy, service).toBe(strategy);
      expect(ecsService?.deploymentConfiguration.lifecycleHooks, service).toEqual([]);
      expect(
        ecsService?.loadBalancers.some((lb) => lb.advancedConfiguration),
        service,
      ).toBe(true);
    }
    expect(sandbox.lambda.invocations.filter((i) => i.functionName === deploymentHookFunctionName(sandbox.fleet.environment))).toEqual([]);

    // Dependency order, one at a time: each consumer's restart comes after the previous one's health gate passed.
    const restarts: { service: string; startedAt: string; gatePassedAt: string }[] = [];
    for (const service of consumers) {
      const trail = await auditTrail(sandbox, service);
      const restart = trail.find((r) => r.action === 'secret.rotate.redeploy-consumer.rotation' && r.phase === 'intent');
      const gate = trail.find((r) => r.action === 'deploy.health-gate.release' && r.phase === 'outcome' && r.status === 'succeeded');
      restarts.push({ service, startedAt: restart?.at ?? '', gatePassedAt: gate?.at ?? '' });
    }
    for (let i = 1; i < restarts.length; i++)
      expect((restarts[i]?.startedAt ?? '') > (restarts[i - 1]?.gatePassedAt ?? ''), JSON.stringify(restarts)).toBe(true);
    expect(statesEntered(record)).toEqual(
      expect.arrayContaining([
        'Validate rotation request',
        'Find consuming services',
        'Rotate secret',
        'Redeploy consumers in dependency order',
        'Verify no consumer task predates the new version',
        'Record rotation succeeded',
      ]),
    );
    // The locks are back, and the trail has the intent before and the outcome after.
    for (const service of consumers) expect(await lockItem(sandbox, service), service).toBeUndefined();
    const trail = await auditTrail(sandbox, `secret:${secret.id}`);
    expect(trail.filter((r) => r.action === 'secret.rotate').map((r) => `${r.phase}:${r.status}`)).toEqual(['outcome:succeeded', 'intent:started']);
    // A routine rotation pages nobody.
    expect(sandbox.sns.messages.filter((m) => (m.subject ?? '').includes('admin-api-token'))).toEqual([]);
  });

  it('restores the previous version when a consumer fails its health gate, redeploys every consumer on it, verifies, pages and fails with SecretRotationRolledBack', async () => {
    const sandbox = await openSandbox();
    const secret = sandbox.fleet.secrets['admin-api-token'];
    if (!secret) throw new Error('no admin-api-token in the example fleet');
    const before = versionWith(await stages(sandbox, secret.name), 'AWSCURRENT');
    // risk-engine cannot work with the new token: its deep health endpoint answers 503 until the old one is back.
    const riskImage = imageOf(sandbox, 'risk-engine', '1.0.0');
    const unfollow = sandbox.stepFunctions.onHistoryEvent((execution, event) => {
      if (execution.stateMachineArn !== sandbox.stateMachines['rotate-secret']) return;
      if (event.stateName === 'Redeploy consumers in dependency order' && event.type === 'MapStateEntered')
        sandbox.images.set(riskImage, 'failing-health-check');
      if (event.stateName === 'Restore previous secret version' && event.type === 'TaskStateEntered') sandbox.images.set(riskImage, 'healthy');
    });
    const record = await rotate(sandbox, { secret: 'prod/trading/admin-api-token', requestedBy: 'alice', reason: 'compromised token' });
    unfollow();

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('SecretRotationRolledBack');
    expect(record.cause).toContain('rolled back');
    const entered = statesEntered(record);
    expect(entered).toEqual(
      expect.arrayContaining([
        'Restore previous secret version',
        'Redeploy consumers on the previous version',
        'Verify no consumer task holds the rotated version',
        'Record rotation rolled back',
      ]),
    );
    expect(entered).not.toContain('Record rotation succeeded');
    // order-gateway (after risk-engine) was never moved to the new version; market-data (before it) was, and came back.
    const rotated = executionsOf(sandbox, 'rotate-secret')[0];
    expect(rotated?.status).toBe('FAILED');

    const after = await stages(sandbox, secret.name);
    expect(versionWith(after, 'AWSCURRENT')).toBe(before);
    // AWSPENDING ends on no version: the next rotation is not refused.
    expect(versionWith(after, 'AWSPENDING')).toBeUndefined();
    for (const service of secretConsumers(sandbox.fleet, secret.id)) {
      expect(new Set(runningVersions(sandbox, service, secret.variable)), service).toEqual(new Set([before]));
    }
    const pages = sandbox.sns.messages.filter((m) => (m.subject ?? '').includes('admin-api-token rotation rolled back'));
    expect(pages).toHaveLength(1);
    expect(pages[0]?.message).toMatch(/risk-engine is UNHEALTHY/);
    const trail = await auditTrail(sandbox, `secret:${secret.id}`);
    expect(trail.find((r) => r.action === 'secret.rotate' && r.phase === 'outcome')).toMatchObject({
      status: 'failed',
      after: { status: 'ROLLED_BACK', restoredVersionId: before },
    });
    for (const service of secretConsumers(sandbox.fleet, secret.id)) expect(await lockItem(sandbox, service), service).toBeUndefined();

    // And the secret rotates again afterwards.
    const again = await rotate(sandbox, { secret: 'admin-api-token', requestedBy: 'alice' });
    expect(again.status, again.cause).toBe('SUCCEEDED');
  });

  it('keeps the secret values out of every execution input, output and history, every log line, the audit trail, the pages and the events', async () => {
    const sandbox = await openSandbox();
    const secret = sandbox.fleet.secrets['order-signing-key'];
    if (!secret) throw new Error('no order-signing-key in the example fleet');
    const value = async (stage: string): Promise<string> =>
      (await sandbox.complete(sandbox.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secret.name, VersionStage: stage })))).SecretString ??
      '';
    const original = await value('AWSCURRENT');
    const record = await rotate(sandbox, { secret: 'order-signing-key', requestedBy: 'alice' });
    expect(record.status, record.cause).toBe('SUCCEEDED');
    const rotated = await value('AWSCURRENT');
    expect(await value('AWSPREVIOUS')).toBe(original);
    expect(rotated).not.toBe(original);
    // The consumers really hold the new value.
    for (const service of secretConsumers(sandbox.fleet, secret.id)) {
      const ecsService = sandbox.ecs.serviceRecord(sandbox.fleet.cluster, sandbox.fleet.services[service]?.ecsServiceName ?? service);
      const tasks = ecsService ? sandbox.ecs.serviceTasks(ecsService).filter((t) => t.lastStatus === 'RUNNING') : [];
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks) expect(sandbox.applications.app(task.taskArn)?.secrets[secret.variable]).toBe(rotated);
    }

    const places: [string, string][] = [
      ...sandbox.stepFunctions.listExecutionRecords().map((e): [string, string] => [`execution ${e.name}`, JSON.stringify(e)]),
      ...sandbox.lambda.logLines().map((l): [string, string] => ['function logs', l.message]),
      ['audit trail', JSON.stringify(await readAuditTrail(sandbox, { limit: 1000 }))],
      ['pages', JSON.stringify(sandbox.sns.messages)],
      ['events', JSON.stringify(sandbox.eventBridge.events)],
    ];
    expect(places.length).toBeGreaterThan(20);
    for (const canary of [original, rotated]) {
      expect(canary.length).toBeGreaterThan(32);
      for (const [place, text] of places) expect(text.includes(canary), place).toBe(false);
    }
  });

  it('rejects invalid input with a message that names the field, and changes nothing', async () => {
    const sandbox = await openSandbox();
    const before = await stages(sandbox, 'prod/trading/admin-api-token');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ secret: 'no-such-secret', requestedBy: 'alice' }, /secret: no-such-secret is not a managed secret .*known: admin-api-token/],
      [{ secret: 'admin-api-token' }, /requestedBy:/],
      [{ secret: 'admin-api-token', requestedBy: 'alice', value: 'hunter2' }, /value/],
      [{ secret: 'admin-api-token', requestedBy: 'secretsmanager', source: 'rotation-event' }, /rotatedVersionId: is required when source is rotation-event/],
      [
        { secret: 'admin-api-token', requestedBy: 'secretsmanager', source: 'rotation-event', rotatedVersionId: 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa' },
        /rotatedVersionId: .* is not the AWSCURRENT version/,
      ],
    ];
    for (const [input, message] of cases) {
      const record = await rotate(sandbox, input);
      expect(record.status, JSON.stringify(input)).toBe('FAILED');
      expect(record.error).toBe('InvalidRotationRequestError');
      expect(record.cause, JSON.stringify(input)).toMatch(message);
    }
    expect(await stages(sandbox, 'prod/trading/admin-api-token')).toEqual(before);
    expect(sandbox.secretsManager.rotations).toEqual([]);
  });

  it('follows up a scheduled rotation once per event: the RotationSucceeded event starts one execution that redeploys the consumers', async () => {
    const sandbox = await openSandbox();
    const secret = sandbox.fleet.secrets['order-signing-key'];
    if (!secret) throw new Error('no order-signing-key in the example fleet');
    // Secrets Manager's schedule rotates the secret (as RotationSchedule set it up); Assure hears of it from the event.
    await sandbox.complete(
      sandbox.clients.secretsManager.send(new RotateSecretCommand({ SecretId: secret.name, ClientRequestToken: 'cccccccc-3333-4333-8333-cccccccccccc' })),
    );
    await runUntilQuiet(sandbox);
    const executions = executionsOf(sandbox, 'rotate-secret');
    expect(executions).toHaveLength(1);
    const [execution] = executions;
    const succeeded = sandbox.eventBridge.events.filter(
      (e) => e.source === 'aws.secretsmanager' && (e.detail as { eventName?: string }).eventName === 'RotationSucceeded',
    );
    expect(succeeded).toHaveLength(1);
    expect(execution?.name).toBe(`rotation-${succeeded[0]?.id ?? ''}`);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(JSON.parse(execution?.input ?? '{}')).toMatchObject({
      secret: 'order-signing-key',
      rotatedVersionId: 'cccccccc-3333-4333-8333-cccccccccccc',
      source: 'rotation-event',
    });
    // No second rotation: the event's version is the one the consumers now hold.
    expect(sandbox.secretsManager.rotations).toHaveLength(1);
    for (const service of secretConsumers(sandbox.fleet, secret.id)) {
      expect(new Set(runningVersions(sandbox, service, secret.variable)), service).toEqual(new Set(['cccccccc-3333-4333-8333-cccccccccccc']));
    }

    // The same event delivered again (EventBridge delivers at least once) starts nothing.
    await deliver(sandbox, ...succeeded);
    expect(executionsOf(sandbox, 'rotate-secret')).toHaveLength(1);
    // Nor does the event of a rotation Assure started itself.
    const own = await rotate(sandbox, { secret: 'order-signing-key', requestedBy: 'alice' });
    expect(own.status, own.cause).toBe('SUCCEEDED');
    await runUntilQuiet(sandbox);
    expect(executionsOf(sandbox, 'rotate-secret')).toHaveLength(2);
    // One decision per delivery (the bus may add duplicates of its own): one start, the rest duplicates, or
    // refused (recorded against the fleet) when delivered more than maxEventAgeSeconds after the event.
    const deliveries = sandbox.eventBridge.deliveries.filter((d) => d.target === 'StartRotationFromEvent');
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    const records = [...(await auditTrail(sandbox, 'secret:order-signing-key')), ...(await auditTrail(sandbox, 'fleet'))];
    const decisions = records.filter((r) => r.action === 'secret.rotation-event').map((r) => r.after?.decision);
    expect(decisions).toHaveLength(deliveries.length);
    expect(decisions.filter((d) => d === 'started')).toHaveLength(1);
    expect(decisions.filter((d) => d !== 'started' && d !== 'duplicate' && d !== 'refused')).toEqual([]);
  });
});
