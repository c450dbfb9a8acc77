/**
 * Following a release: a stand-in release state machine and a fake traffic API
 * on a real sandbox (the real ones come from the release workflow and the
 * sandbox's progressive ECS). What is under test is the CLI's side: state
 * lines, traffic lines on every change, the account read from `release#<id>`,
 * the wait for a release approval, and a push followed to its release.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { writeAuditRecord } from '../../functions/shared/domain/audit';
import { type ReleaseRecord, type ReleaseStatus, type ServiceReleaseStatus, releaseKey } from '../../functions/shared/domain/release';
import type { ReleaseApproval } from '../../functions/shared/domain/release-approval';
import { printReleaseRun } from '../../lib/cli/commands/release';
import { EXIT } from '../../lib/cli/exit-codes';
import type { Output } from '../../lib/cli/output';
import { RELEASE_WORKFLOW, executionArnOf } from '../../lib/cli/release-contract';
import { pushAndFollow, pushExitCode } from '../../lib/cli/release-push';
import { progressiveServices, releaseExitCode, runRelease } from '../../lib/cli/release-run';
import type { RevisionTraffic, ServiceTraffic } from '../../lib/sandbox/ecs/traffic';
import type { Sandbox } from '../../lib/sandbox/sandbox';
import type { EcrPush } from '../../lib/sandbox/simulated-ecr';
import { fleetWith, openSandbox } from '../support/sandbox';

const REPO = '111122223333.dkr.ecr.eu-west-2.amazonaws.com/order-gateway';
const OLD = `sha256:ab12${'0'.repeat(60)}`;
const NEW = `sha256:cd34${'1'.repeat(60)}`;
const taskDefinition = (n: number): string => `arn:aws:ecs:eu-west-2:111122223333:task-definition/order-gateway:${n}`;

const revision = (n: number, digest: string, productionWeight: number, testWeight = 0): RevisionTraffic => ({
  serviceRevisionArn: `arn:aws:ecs:eu-west-2:111122223333:service-revision/trading/order-gateway/${n}`,
  taskDefinitionArn: taskDefinition(n),
  image: `${REPO}@${digest}`,
  targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-2:111122223333:targetgroup/og-${n}/0123456789abcdef`,
  productionWeight,
  testWeight,
});

function capture(): Output & { readonly text: () => string } {
  const lines: string[] = [];
  return { line: (t = '') => lines.push(t), error: (t) => lines.push(t), text: () => lines.join('\n') };
}

/** A release state machine standing in for the release workflow: validate, deploy (two minutes), then succeed or fail. */
function standInRelease(outcome: 'succeed' | 'fail'): StateMachineDefinition {
  return {
    StartAt: 'Validate release request',
    States: {
      'Validate release request': { Type: 'Pass', Next: 'Deploy wave' },
      'Deploy wave': { Type: 'Wait', Seconds: 120, Next: 'Finish release' },
      'Finish release':
        outcome === 'succeed'
          ? { Type: 'Pass', Result: { message: 'Release released order-gateway' }, End: true }
          : { Type: 'Fail', Error: 'ReleaseFailed', Cause: 'order-gateway: judge FAIL at 5%' },
    },
  } as StateMachineDefinition;
}

/** A pushed image of order-gateway, as the sandbox's ECR reports it. */
const pushed = (ref: string, digest: string): EcrPush => ({
  repository: 'order-gateway',
  repositoryUri: REPO,
  tag: ref.split(':').pop() ?? '',
  digest,
  image: `${REPO}@${digest}`,
});

/** A sandbox whose order-gateway is its only canary (risk-engine rolls), with a stand-in release workflow and a scripted traffic API. */
async function releaseSandbox(outcome: 'succeed' | 'fail'): Promise<{ sandbox: Sandbox; shift: (revisions: RevisionTraffic[]) => void; pushes: string[] }> {
  const fleet = fleetWith((raw) => {
    const services = raw.services as Record<string, Record<string, unknown>>;
    if (services['order-gateway']) services['order-gateway'].strategy = { type: 'canary', canaryPercent: 5 };
    if (services['risk-engine']) services['risk-engine'].strategy = { type: 'rolling' };
  });
  // The stand-in state machine is not part of the stack, so no role of it could be checked.
  const sandbox = await openSandbox(fleet, undefined, { iam: 'off' });
  sandbox.stateMachines[RELEASE_WORKFLOW] = sandbox.stepFunctions.createStateMachine('assure-prod-release', standInRelease(outcome));
  let revisions = [revision(1, OLD, 100)];
  const listeners = new Set<(serviceId: string, traffic: ServiceTraffic) => void>();
  const pushes: string[] = [];
  const traffic = (service: string): ServiceTraffic => ({ revisions: service === 'order-gateway' ? revisions : [], at: sandbox.clock.now() });
  const fake: Pick<Sandbox, 'traffic' | 'onTrafficChange' | 'push'> = {
    traffic,
    onTrafficChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    push: (ref) => {
      pushes.push(ref);
      // As the push handler would, a second later: start the release named after the digest.
      setTimeout(
        () => void sandbox.startExecution(RELEASE_WORKFLOW, { services: { 'order-gateway': `${REPO}@${NEW}` } }, `push-order-gateway-${NEW.slice(7, 47)}`),
        1_000,
      );
      return pushed(ref, NEW);
    },
  };
  Object.assign(sandbox, fake);
  const shift = (next: RevisionTraffic[]): void => {
    revisions = next;
    for (const listener of listeners) listener('order-gateway', traffic('order-gateway'));
  };
  return { sandbox, shift, pushes };
}

/** Writes state-table items a little after now (as the release workflow or the hook would while the release runs). */
function putLater(sandbox: Sandbox, afterMs: number, item: () => Record<string, unknown>): void {
  setTimeout(() => {
    void sandbox.clients.dynamodb.send(new PutItemCommand({ TableName: sandbox.config.stateTableName, Item: marshall(item()) }));
  }, afterMs);
}

const releaseName = (sandbox: Sandbox): string => sandbox.stepFunctions.listExecutionRecords(sandbox.stateMachines[RELEASE_WORKFLOW]).at(-1)?.name ?? '';

function accountItem(sandbox: Sandbox, status: ReleaseStatus, serviceStatus: ServiceReleaseStatus): Record<string, unknown> {
  const releaseId = releaseName(sandbox);
  const record: ReleaseRecord = {
    releaseId,
    executionArn: executionArnOf(sandbox, RELEASE_WORKFLOW, releaseId) ?? '',
    kind: 'release',
    status,
    requestedBy: 'alice',
    reason: 'test',
    waves: [['order-gateway']],
    wavesDone: 1,
    services: {
      'order-gateway': {
        service: 'order-gateway',
        image: `${REPO}@${NEW}`,
        digest: NEW,
        tag: '3.3.0',
        previousTaskDefinitionArn: taskDefinition(1),
        previousImage: `${REPO}@${OLD}`,
        taskDefinitionArn: taskDefinition(2),
        status: serviceStatus,
      },
    },
    fleetBefore: { 'order-gateway': { taskDefinitionArn: taskDefinition(1), image: `${REPO}@${OLD}` } },
    startedAt: new Date(sandbox.clock.now()).toISOString(),
  };
  return { pk: releaseKey(releaseId), ...record };
}

describe('following a release', () => {
  it('prints the release states and each traffic change, and ends with the account and the outcome', async () => {
    const { sandbox, shift } = await releaseSandbox('succeed');
    expect(progressiveServices(sandbox)).toEqual(['order-gateway']);
    setTimeout(() => shift([revision(1, OLD, 100), revision(2, NEW, 0, 100)]), 20_000);
    setTimeout(() => shift([revision(1, OLD, 95), revision(2, NEW, 5)]), 40_000);
    // Not a change: no line.
    setTimeout(() => shift([revision(1, OLD, 95), revision(2, NEW, 5)]), 50_000);
    setTimeout(() => shift([revision(1, OLD, 0), revision(2, NEW, 100)]), 60_000);
    putLater(sandbox, 90_000, () => accountItem(sandbox, 'SUCCEEDED', 'RELEASED'));
    const output = capture();
    const run = await runRelease(sandbox, { services: { 'order-gateway': `${REPO}@${NEW}` }, requestedBy: 'alice', reason: 'test' }, 'release', output);
    printReleaseRun(run, output, false);

    expect(run.releaseId).toMatch(/^release-\d{8}T\d{6}-[a-z2-9]{4}$/);
    expect(run.result.status).toBe('SUCCEEDED');
    expect(releaseExitCode(run)).toBe(EXIT.ok);
    const lines = output.text().split('\n');
    expect(lines.filter((l) => l.includes('order-gateway  production:'))).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d {2}order-gateway {2}production: 100% rev 1 \(sha256:ab12…\) · 0% rev 2 \(sha256:cd34…\) {2}test: 100% rev 2/),
      expect.stringMatching(/^\d\d:\d\d:\d\d {2}order-gateway {2}production: 95% rev 1 \(sha256:ab12…\) · 5% rev 2 \(sha256:cd34…\)$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d {2}order-gateway {2}production: 0% rev 1 \(sha256:ab12…\) · 100% rev 2 \(sha256:cd34…\)$/),
    ]);
    expect(output.text()).toMatch(/^\d\d:\d\d:\d\d {2}release {2}Validate release request$/m);
    expect(output.text()).toMatch(/^\d\d:\d\d:\d\d {2}release {2}Deploy wave$/m);
    expect(output.text()).toContain(`Release ${run.releaseId}: SUCCEEDED`);
    expect(output.text()).toMatch(/^order-gateway +RELEASED +3\.3\.0 +sha256:cd34… +order-gateway:1 +order-gateway:2$/m);
    expect(output.text()).toContain('✓ Release released order-gateway');
  });

  it('exits failed when the release FAILED, and reports the failure after the account', async () => {
    const { sandbox } = await releaseSandbox('fail');
    putLater(sandbox, 60_000, () => accountItem(sandbox, 'FAILED', 'FAILED'));
    const output = capture();
    const run = await runRelease(sandbox, { services: {} }, 'release', output, { quiet: true });
    printReleaseRun(run, output, false);
    expect(run.result.status).toBe('FAILED');
    expect(releaseExitCode(run)).toBe(EXIT.failed);
    // Quiet: no state lines, only the account and the outcome.
    expect(output.text()).not.toContain('Validate release request');
    expect(output.text()).toMatch(/^order-gateway +FAILED/m);
    expect(output.text()).toContain('✗ ReleaseFailed: order-gateway: judge FAIL at 5%');
  });

  it('stops waiting when the hook holds the release for an approver, and prints the approval id', async () => {
    const { sandbox } = await releaseSandbox('succeed');
    putLater(sandbox, 30_000, () => {
      const approval: ReleaseApproval = {
        kind: 'release',
        approvalId: releaseName(sandbox),
        requestedBy: 'alice',
        approvers: ['bob'],
        deadline: new Date(sandbox.clock.now() + 3600_000).toISOString(),
        status: 'pending',
        services: ['order-gateway'],
        deployExecutionId: `deploy-${releaseName(sandbox)}`,
        releaseId: releaseName(sandbox),
        requestedAt: new Date(sandbox.clock.now()).toISOString(),
      };
      return { pk: `approval#${approval.approvalId}`, ...approval };
    });
    const output = capture();
    const run = await runRelease(sandbox, { services: {} }, 'release', output, { quiet: true });
    printReleaseRun(run, output, false);
    expect(run.result.status).toBe('WAITING');
    expect(releaseExitCode(run)).toBe(EXIT.ok);
    expect(output.text()).toContain('waiting for a second person to approve production traffic (alice cannot)');
    expect(output.text()).toContain(`Approval id: ${run.releaseId}. A second person runs: assure approve ${run.releaseId} --as <name>`);
  });

  it('follows the release a push starts, or reports why none started', async () => {
    const { sandbox, pushes } = await releaseSandbox('succeed');
    const output = capture();
    const report = await pushAndFollow(sandbox, 'order-gateway:3.3.0', { behaviour: 'high-error-rate' }, output);
    expect(pushes).toEqual(['order-gateway:3.3.0']);
    expect(output.text()).toContain(`Pushed order-gateway:3.3.0 as ${NEW} (high-error-rate)`);
    expect(report.releases.map((r) => r.releaseId)).toEqual([`push-order-gateway-${NEW.slice(7, 47)}`]);
    expect(report.releases[0]?.result.status).toBe('SUCCEEDED');
    expect(output.text()).toMatch(/^\d\d:\d\d:\d\d {2}release {2}Deploy wave$/m);
    expect(pushExitCode(report)).toBe(EXIT.ok);

    // A refused push (as the push handler records it while trading is halted) starts nothing and exits failed.
    await writeAuditRecord(sandbox, {
      action: 'release.push-refused',
      subject: 'release/push',
      actor: 'ecr',
      source: 'eventbridge',
      executionId: 'push-handler',
      reason: 'trading is halted',
      phase: 'outcome',
      at: new Date(sandbox.clock.now()).toISOString(),
      status: 'failed',
    });
    const refusedPush: Pick<Sandbox, 'push'> = { push: (ref) => pushed(ref, OLD) };
    Object.assign(sandbox, refusedPush);
    const refused = await pushAndFollow(sandbox, 'order-gateway:3.3.1', {}, capture(), { quiet: true });
    expect(refused.releases).toEqual([]);
    expect(refused.notes).toEqual([{ action: 'release.push-refused', status: 'failed', reason: 'trading is halted' }]);
    expect(pushExitCode(refused)).toBe(EXIT.failed);
  });
});
