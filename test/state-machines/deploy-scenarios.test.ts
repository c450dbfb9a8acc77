/**
 * The deploy state machine (state-machines/deploy.asl.json) run in the sandbox
 * with the real handlers: each scenario checks how the execution ends, what the
 * simulated ECS service runs afterwards, the lock, and the audit trail.
 */
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import {
  auditTrail,
  deploy,
  fleetWith,
  imageOf,
  lockItem,
  openSandbox,
  outcomesPerAction,
  scenarioOptions,
  servicePrimary,
  startDeploy,
  statesEntered,
  succeededCalls,
} from '../support/sandbox';
import type { RevisionTraffic } from '../../lib/sandbox/ecs/traffic';

/** Every action of the execution that changes something recorded its outcome once (health checks are read-only and repeat by design). */
const eachOnce = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).map(([action, n]) => [action, action.startsWith('deploy.health-gate') ? n : 1]));

const revision = (arn: string): string => arn.split('/').pop() ?? arn;

/** The example fleet with `service` deployed rolling (the example fleet's order-gateway is a canary), and any other change. */
const rolling = (service: string, change: (raw: Record<string, unknown>) => void = () => undefined) =>
  fleetWith((raw) => {
    ((raw.services as Record<string, Record<string, unknown>>)[service] as Record<string, unknown>).strategy = { type: 'rolling' };
    change(raw);
  });

describe('deploy state machine', () => {
  it('deploys a good release: rolled out, health-gated, soaked, unlocked, recorded', async () => {
    const sandbox = await openSandbox();
    const { record } = await deploy(sandbox, 'market-data', '1.1.0');

    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.parse(record.output ?? '{}')).toMatchObject({ status: 'SUCCEEDED', image: imageOf(sandbox, 'market-data', '1.1.0') });
    expect(statesEntered(record)).toEqual([
      'Validate deploy request',
      'Acquire deploy lock',
      'Check deploy guards',
      'Register task definition revision',
      'Start deployment',
      'Wait for deployment outcome',
      'Run health gate',
      'Soak configured?',
      'Soak while watching rollback alarms',
      'Run final health check',
      'Release deploy lock',
      'Record deploy succeeded',
      'Deploy succeeded',
    ]);
    const primary = servicePrimary(sandbox, 'market-data');
    expect(revision(primary.taskDefinition)).toBe('market-data:2');
    expect(primary).toMatchObject({ rolloutState: 'COMPLETED', deployments: 1 });
    const definition = sandbox.ecs.taskDefinition(primary.taskDefinition);
    expect(definition?.containerDefinitions[0]?.image).toBe(imageOf(sandbox, 'market-data', '1.1.0'));
    expect(await lockItem(sandbox, 'market-data')).toBeUndefined();

    // The soak lasted the configured five minutes.
    const soakStart = record.history.find((e) => e.stateName === 'Soak while watching rollback alarms')?.timestamp ?? 0;
    const soakEnd = record.history.find((e) => e.stateName === 'Run final health check')?.timestamp ?? 0;
    expect(soakEnd - soakStart).toBeGreaterThanOrEqual(5 * 60_000);

    const trail = await auditTrail(sandbox, 'market-data');
    for (const action of [
      'deploy',
      'deploy.acquire-lock',
      'deploy.check-guards',
      'deploy.register-task-definition',
      'deploy.update-service',
      'deploy.release-lock',
    ]) {
      expect(
        trail.some((r) => r.action === action && r.phase === 'intent'),
        `${action} intent`,
      ).toBe(true);
      expect(
        trail.some((r) => r.action === action && r.phase === 'outcome' && r.status === 'succeeded'),
        `${action} outcome`,
      ).toBe(true);
    }
    const update = trail.find((r) => r.action === 'deploy.update-service' && r.phase === 'outcome');
    expect(update?.before).toEqual({ taskDefinitionArn: expect.stringMatching(/market-data:1$/) });
    expect(update?.actor).toBe('tester');
    expect(update?.executionId).toBe(record.executionArn);

    // No side effect twice, however often ECS's events were delivered.
    expect(succeededCalls(sandbox, 'RegisterTaskDefinition')).toBe(1);
    expect(succeededCalls(sandbox, 'UpdateService')).toBe(1);
    const outcomes = await outcomesPerAction(sandbox, 'market-data', record.executionArn);
    expect(outcomes).toEqual(eachOnce(outcomes));
  });

  it('a release whose containers crash: the circuit breaker fails it, ECS rolls back, the deploy reports FAILED', async () => {
    const sandbox = await openSandbox();
    const { record } = await deploy(sandbox, 'risk-engine', '2.0.0', 'crash-on-start');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('DeployRolledBack');
    expect(record.cause).toContain('ECS deployment circuit breaker: tasks failed to start.');
    expect(statesEntered(record)).toContain('Verify health after rollback');
    const primary = servicePrimary(sandbox, 'risk-engine');
    expect(revision(primary.taskDefinition)).toBe('risk-engine:1');
    expect(primary).toMatchObject({ rolloutState: 'COMPLETED', deployments: 1 });
    const rollback = (await auditTrail(sandbox, 'risk-engine')).find((r) => r.action === 'deploy.roll-back' && r.phase === 'outcome');
    expect(rollback?.after).toMatchObject({ action: 'confirmed-ecs-rollback' });
    expect(await lockItem(sandbox, 'risk-engine')).toBeUndefined();
    // ECS rolled back by itself: Assure updated the service once, and recorded each step once.
    expect(succeededCalls(sandbox, 'UpdateService')).toBe(1);
    const outcomes = await outcomesPerAction(sandbox, 'risk-engine', record.executionArn);
    expect(outcomes).toMatchObject({ deploy: 1, 'deploy.roll-back': 1 });
    expect(outcomes).toEqual(eachOnce(outcomes));
  });

  it('a rolling release that fails its deep health check: the health gate rolls it back to the last good revision', async () => {
    const sandbox = await openSandbox(rolling('order-gateway'));
    const { record } = await deploy(sandbox, 'order-gateway', '3.2.0', 'failing-health-check');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('DeployRolledBack');
    expect(record.cause).toContain('HealthGateFailedError');
    expect(record.cause).toContain('0/4 tasks answer 200 on /health/deep');
    const states = statesEntered(record);
    expect(states.indexOf('Roll back release')).toBeGreaterThan(states.indexOf('Run health gate'));
    expect(states).not.toContain('Soak while watching rollback alarms');
    expect(revision(servicePrimary(sandbox, 'order-gateway').taskDefinition)).toBe('order-gateway:1');
    const rollback = (await auditTrail(sandbox, 'order-gateway')).find((r) => r.action === 'deploy.roll-back' && r.phase === 'outcome');
    expect(rollback?.after).toMatchObject({ action: 'redeployed-previous' });
    const outcome = (await auditTrail(sandbox, 'order-gateway')).find((r) => r.action === 'deploy' && r.phase === 'outcome');
    expect(outcome?.after).toMatchObject({ status: 'ROLLED_BACK', runningTaskDefinitionArn: expect.stringMatching(/order-gateway:1$/) });
    expect(await lockItem(sandbox, 'order-gateway')).toBeUndefined();
    // The release, then the redeploy of the last good revision: two updates, no more.
    expect(succeededCalls(sandbox, 'UpdateService')).toBe(2);
    const outcomes = await outcomesPerAction(sandbox, 'order-gateway', record.executionArn);
    expect(outcomes).toEqual(eachOnce(outcomes));
  });

  it('a canary that fails its deep health check: the hook fails it on test traffic, before any order reaches it', async () => {
    const sandbox = await openSandbox();
    const [original] = sandbox.traffic('order-gateway').revisions;
    const seen: RevisionTraffic[] = [];
    sandbox.onTrafficChange((serviceId, traffic) => {
      if (serviceId === 'order-gateway') seen.push(...traffic.revisions);
    });
    const { record } = await deploy(sandbox, 'order-gateway', '3.2.0', 'failing-health-check');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('DeployRolledBack');
    expect(record.cause).toContain('at POST_TEST_TRAFFIC_SHIFT: the hook returned hookStatus FAILED');
    // The new revision had test traffic and never a share of production.
    const others = seen.filter((r) => r.targetGroupArn !== original?.targetGroupArn);
    expect(others.some((r) => r.testWeight === 100)).toBe(true);
    expect(others.every((r) => r.productionWeight === 0)).toBe(true);
    expect(sandbox.traffic('order-gateway').revisions).toEqual([expect.objectContaining({ targetGroupArn: original?.targetGroupArn, productionWeight: 100 })]);
    const trail = await auditTrail(sandbox, 'order-gateway');
    const hook = trail.filter((r) => r.action === 'deploy.hook.post_test_traffic_shift');
    expect(hook).toHaveLength(1);
    expect(hook[0]).toMatchObject({ status: 'failed', after: { hookStatus: 'FAILED', lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' } });
    expect(hook[0]?.reason).toContain('/health/deep');
    // ECS never reached the stage before production traffic moves.
    expect(trail.filter((r) => r.action === 'deploy.hook.pre_production_traffic_shift')).toEqual([]);
    expect(revision(servicePrimary(sandbox, 'order-gateway').taskDefinition)).toBe('order-gateway:1');
    expect(await lockItem(sandbox, 'order-gateway')).toBeUndefined();
  });

  it('an alarm during the soak ends it at once and rolls back', async () => {
    const sandbox = await openSandbox();
    // Errors start three minutes after the new tasks start: after ECS completes, during the soak.
    const { record } = await deploy(sandbox, 'trade-service', '2.0.0', 'high-error-rate');

    expect(record.status).toBe('FAILED');
    expect(record.cause).toContain('RollbackAlarmFiredError');
    expect(record.cause).toContain('prod-trade-service-error-rate');
    const soakStart = record.history.find((e) => e.stateName === 'Soak while watching rollback alarms')?.timestamp ?? 0;
    const soakFailed = record.history.find((e) => e.type === 'TaskFailed' && e.stateName === 'Soak while watching rollback alarms');
    expect(soakFailed?.detail?.error).toBe('RollbackAlarmFiredError');
    expect((soakFailed?.timestamp ?? Infinity) - soakStart).toBeLessThan(5 * 60_000);
    // Within one event delivery of the alarm's state change (500 ms by default; at most maxDeliveryDelayMs when delivery varies).
    const alarmAt = sandbox.cloudwatch.alarmHistory('prod-trade-service-error-rate').findLast((h) => h.HistorySummary.endsWith('to ALARM'))?.Timestamp ?? 0;
    expect((soakFailed?.timestamp ?? Infinity) - alarmAt).toBeLessThanOrEqual(sandbox.eventBridge.maxDeliveryDelayMs + 500);
    expect(revision(servicePrimary(sandbox, 'trade-service').taskDefinition)).toBe('trade-service:1');
    // The alarm's event may arrive more than once: one rollback, by the deploy, and no rollback execution of the router's.
    expect(sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines.rollback)).toHaveLength(0);
    expect(succeededCalls(sandbox, 'UpdateService')).toBe(2);
    const outcomes = await outcomesPerAction(sandbox, 'trade-service', record.executionArn);
    expect(outcomes).toEqual(eachOnce(outcomes));
  });

  it('refuses a second deploy of the same service while the first holds the lock, naming the holder', async () => {
    const sandbox = await openSandbox();
    const first = await startDeploy(sandbox, 'market-data', '1.1.0', 'healthy', 'first');
    const second = await startDeploy(sandbox, 'market-data', '1.2.0', 'healthy', 'second');
    const [firstRecord, secondRecord] = [await sandbox.runExecution(first), await sandbox.runExecution(second)];

    expect(firstRecord.status).toBe('SUCCEEDED');
    expect(secondRecord.status).toBe('FAILED');
    expect(secondRecord.error).toBe('DeployRefused');
    expect(secondRecord.cause).toContain('DeployLockHeldError');
    expect(secondRecord.cause).toContain(first);
    expect(secondRecord.cause).toContain('market-data:1.1.0');
    expect(statesEntered(secondRecord)).not.toContain('Register task definition revision');
    // The refused deploy did not release the holder's lock: the first finished its soak under it.
    expect(statesEntered(firstRecord)).toContain('Release deploy lock');
    expect(await lockItem(sandbox, 'market-data')).toBeUndefined();
  });

  it('refuses to deploy while trading is halted, without touching the service', async () => {
    const sandbox = await openSandbox();
    await sandbox.clients.ssm.send(
      new PutParameterCommand({
        Name: sandbox.config.haltParameterName,
        Value: JSON.stringify({ halted: true, haltId: 'halt-42', reason: 'loss limit breached', actor: 'risk-desk' }),
        Overwrite: true,
      }),
    );
    const { record } = await deploy(sandbox, 'order-gateway', '3.3.0');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('DeployRefused');
    expect(record.cause).toContain('TradingHaltedError');
    expect(record.cause).toContain('halt-42');
    expect(sandbox.ecs.taskDefinition(sandbox.ecs.serviceRecord('trading-prod', 'order-gateway')?.taskDefinition ?? '')?.revision).toBe(1);
    expect(sandbox.transport.calls.some((c) => c.operation === 'RegisterTaskDefinition' || c.operation === 'UpdateService')).toBe(false);
    expect(await lockItem(sandbox, 'order-gateway')).toBeUndefined();
  });

  it('refuses to deploy outside the deploy windows', async () => {
    const fleet = fleetWith();
    const { Sandbox } = await import('../../lib/sandbox/sandbox');
    // Monday 10:00 London: market hours, outside every window of the example fleet.
    const sandbox = await Sandbox.open(scenarioOptions({ fleet, startAt: Date.parse('2026-01-05T09:50:00Z') }));
    try {
      const { record } = await deploy(sandbox, 'market-data', '1.1.0');
      expect(record.error).toBe('DeployRefused');
      expect(record.cause).toContain('DeployWindowClosedError');
      expect(await lockItem(sandbox, 'market-data')).toBeUndefined();
    } finally {
      sandbox.dispose();
    }
  });

  it('rolls back when ECS does not report an outcome of a rolling deploy before the progress deadline', async () => {
    const sandbox = await openSandbox(rolling('order-gateway', (raw) => ((raw.deploy as Record<string, unknown>).progressDeadlineMinutes = 4)));
    // The new tasks need 10 minutes to start; the rollback to the running revision needs about three (drain + alarm bake).
    const { record } = await deploy(sandbox, 'order-gateway', '3.4.0', 'slow-start');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('DeployRolledBack');
    const timedOut = record.history.find((e) => e.type === 'TaskTimedOut' && e.stateName === 'Wait for deployment outcome');
    expect(timedOut?.detail?.error).toBe('States.Timeout');
    const started = record.history.find((e) => e.stateName === 'Wait for deployment outcome')?.timestamp ?? 0;
    expect((timedOut?.timestamp ?? 0) - started).toBeGreaterThanOrEqual(240_000);
    expect((timedOut?.timestamp ?? 0) - started).toBeLessThan(241_000);
    expect(statesEntered(record)).toContain('Verify health after rollback');
    expect(revision(servicePrimary(sandbox, 'order-gateway').taskDefinition)).toBe('order-gateway:1');
    expect(await lockItem(sandbox, 'order-gateway')).toBeUndefined();
  });

  it('retries a throttled ECS call in the state machine and updates the service exactly once', async () => {
    const sandbox = await openSandbox();
    sandbox.faults.inject({ service: 'ecs', operation: 'UpdateService', fault: { kind: 'throttle' }, times: 2 });
    const { record } = await deploy(sandbox, 'reference-data', '1.1.0');

    expect(record.status).toBe('SUCCEEDED');
    const updates = sandbox.transport.calls.filter((c) => c.operation === 'UpdateService');
    expect(updates.map((c) => c.error ?? 'ok')).toEqual(['ThrottlingException', 'ThrottlingException', 'ok']);
    // AWS records no retry event: each failed attempt is a TaskFailed, and each retry another TaskScheduled.
    const failedAttempts = record.history.filter((e) => e.type === 'TaskFailed' && e.stateName === 'Start deployment');
    expect(failedAttempts).toHaveLength(2);
    expect(record.history.filter((e) => e.type === 'TaskScheduled' && e.stateName === 'Start deployment')).toHaveLength(3);
    expect(sandbox.transport.calls.filter((c) => c.operation === 'RegisterTaskDefinition' && !c.error)).toHaveLength(1);
    expect(revision(servicePrimary(sandbox, 'reference-data').taskDefinition)).toBe('reference-data:2');
  });

  it('finishes the wait when ECS reports the outcome before the token is stored', async () => {
    const sandbox = await openSandbox();
    // The wait's token write takes 25 s; the crashing release fails (circuit breaker) after about 17 s.
    sandbox.faults.inject({ service: 'dynamodb', operation: 'UpdateItem', fault: { kind: 'latency', ms: 25_000 }, times: 1 });
    const { record } = await deploy(sandbox, 'risk-engine', '2.0.1', 'crash-on-start');

    const failedEvent = sandbox.eventBridge.events.find((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_FAILED');
    const waitStarted = record.history.find((e) => e.stateName === 'Wait for deployment outcome')?.timestamp ?? 0;
    const waitEnded = record.history.find((e) => e.type === 'TaskFailed' && e.stateName === 'Wait for deployment outcome');
    expect(Date.parse(failedEvent?.time ?? '')).toBeLessThan(waitStarted + 25_000);
    expect(waitEnded?.detail?.error).toBe('DeploymentFailedError');
    // Answered when the token was stored, not at the 20-minute progress deadline.
    expect((waitEnded?.timestamp ?? Infinity) - waitStarted).toBeGreaterThanOrEqual(25_000);
    expect((waitEnded?.timestamp ?? Infinity) - waitStarted).toBeLessThan(27_000);
    expect(record.error).toBe('DeployRolledBack');
  });

  it('rejects a malformed request with the field named, and changes nothing', async () => {
    const sandbox = await openSandbox();
    const executionArn = await sandbox.startExecution('deploy', {
      service: 'order-gateway',
      image: imageOf(sandbox, 'order-gateway', '3.3.0'),
      requestedBy: 'tester',
      environment: 'prod',
    });
    const record = await sandbox.runExecution(executionArn);

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('InvalidDeployRequestError');
    expect(record.cause).toContain('Unrecognized key: \\"environment\\"');
    expect(sandbox.transport.calls.filter((c) => ['ecs', 'ssm'].includes(c.service))).toHaveLength(0);
    expect(await lockItem(sandbox, 'order-gateway')).toBeUndefined();
  });
});
