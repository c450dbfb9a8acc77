/**
 * Running and following releases from the CLI: the release execution's states,
 * each service's deploy (or rollback) execution, ECS's deployment events and
 * every change of a progressive service's traffic weights, then the release's
 * account from its record.
 */
import { readReleaseApproval } from '../../functions/shared/domain/release-approval';
import { readRelease, type ReleaseRecord } from '../../functions/shared/domain/release';
import { InvalidReleaseRequestError } from '../../functions/shared/runtime/errors';
import type { Sandbox } from '../sandbox/sandbox';
import type { ExecutionRecord } from '../sandbox/simulated-step-functions';
import { EXIT, type ExitCode } from './exit-codes';
import { clockTime, type Output } from './output';
import { RELEASE_WORKFLOW } from './release-contract';
import { trafficLine } from './release-view';
import { describeCause } from './sandbox-session';
import { executionName, finishExecution, type WorkflowResult } from './workflow-run';

/** A release as the CLI saw it: how the execution ended (or that it waits for an approver) and its record. */
export interface ReleaseRun {
  readonly releaseId: string;
  readonly result: WorkflowResult;
  readonly record?: ReleaseRecord;
}

/** The services whose traffic the CLI prints: those ECS deploys progressively between two target groups. */
export function progressiveServices(sandbox: Sandbox): string[] {
  return Object.values(sandbox.fleet.services)
    .filter((s) => s.strategy.type !== 'rolling' && s.trafficShift !== undefined)
    .map((s) => s.id);
}

/**
 * Prints the traffic line of each service whose weights changed since the
 * last line printed for it (the lines at the start are remembered, not printed).
 * Returns the unsubscribe.
 */
export function watchTraffic(
  sandbox: Pick<Sandbox, 'traffic' | 'onTrafficChange'>,
  services: readonly string[],
  now: () => number,
  output: Output,
): () => void {
  const last = new Map(services.map((service) => [service, trafficLine(service, sandbox.traffic(service))]));
  return sandbox.onTrafficChange((service, traffic) => {
    if (!last.has(service)) return;
    const line = trafficLine(service, traffic);
    if (line === last.get(service)) return;
    last.set(service, line);
    output.line(`${clockTime(now())}  ${line}`);
  });
}

/** What a followed execution is called on its lines: `release`, the deployed service, or `rollback <service>`. */
function labelOf(sandbox: Sandbox, execution: ExecutionRecord): string | undefined {
  const machines = sandbox.stateMachines;
  if (execution.stateMachineArn === machines[RELEASE_WORKFLOW]) return 'release';
  const service = (): string => {
    const input = JSON.parse(execution.input) as { service?: unknown };
    return typeof input.service === 'string' ? input.service : execution.name;
  };
  if (execution.stateMachineArn === machines.deploy) return service();
  if (execution.stateMachineArn === machines.rollback) return `rollback ${service()}`;
  return undefined;
}

/**
 * Prints, with virtual times, the states of the release executions, deploys and
 * rollbacks started from `since` on (or of the execution named `executionName`),
 * the tasks they saw fail, ECS's deployment events for the fleet's services,
 * and every change of a progressive service's traffic weights. Returns the stop.
 */
export function followReleaseActivity(sandbox: Sandbox, output: Output, options: { readonly since: number; readonly executionName?: string }): () => void {
  const followed = (execution: ExecutionRecord): boolean => execution.startDate >= options.since || execution.name === options.executionName;
  const stopHistory = sandbox.stepFunctions.onHistoryEvent((execution, event) => {
    if (!followed(execution)) return;
    const label = labelOf(sandbox, execution);
    if (label === undefined) return;
    if (event.type.endsWith('StateEntered') && event.stateName) {
      output.line(`${clockTime(event.timestamp)}  ${label}  ${event.stateName}`);
    } else if (/^(Task|LambdaFunction)(Failed|TimedOut)$/.test(event.type) && event.detail) {
      const cause = describeCause(String(event.detail.cause ?? ''));
      const error = String(event.detail.error ?? '');
      output.line(`${clockTime(event.timestamp)}  ${label}    ↳ ${error}${cause && cause !== error ? `: ${cause}` : ''}`);
    }
  });
  const byEcsName = new Map(Object.values(sandbox.fleet.services).map((s) => [s.ecsServiceName, s.id]));
  const stopEvents = sandbox.eventBridge.onEvent((event) => {
    if (event['detail-type'] !== 'ECS Deployment State Change') return;
    const service = byEcsName.get(event.resources[0]?.split('/').pop() ?? '');
    if (!service) return;
    output.line(
      `${clockTime(Date.parse(event.time))}  ${service}    ECS ${String(event.detail.eventName)} ${String(event.detail.deploymentId)}: ${String(event.detail.reason)}`,
    );
  });
  const stopTraffic = watchTraffic(sandbox, progressiveServices(sandbox), () => sandbox.clock.now(), output);
  return () => {
    stopHistory();
    stopEvents();
    stopTraffic();
  };
}

/** Virtual time run between two looks at whether the release waits for an approver. */
const APPROVAL_POLL_MS = 15_000;
/** How long a release may run: a push outside the deploy windows first waits up to the fleet's limit for the next one. */
const maxReleaseMs = (sandbox: Sandbox): number => (sandbox.fleet.release.maxWindowWaitHours + 12) * 3600_000;

/**
 * Runs a release execution to its end, or until it waits for a release
 * approval (`approval#<release id>` pending: the hook holds production traffic),
 * and reads its record.
 */
export async function finishRelease(sandbox: Sandbox, executionArn: string): Promise<ReleaseRun> {
  const execution = sandbox.stepFunctions.execution(executionArn);
  if (!execution) throw new Error(`No execution ${executionArn}`);
  const releaseId = execution.name;
  const deadline = sandbox.clock.now() + maxReleaseMs(sandbox);
  while (execution.status === 'RUNNING') {
    const outcome = await sandbox.clock.runUntil(() => execution.status !== 'RUNNING', APPROVAL_POLL_MS);
    if (execution.status !== 'RUNNING') break;
    const approval = await readReleaseApproval(sandbox, releaseId);
    if (approval?.status === 'pending') {
      const result: WorkflowResult = {
        executionArn,
        status: 'WAITING',
        message: `waiting for a second person to approve production traffic (${approval.requestedBy} cannot)`,
        transitions: execution.transitions,
        virtualMs: sandbox.clock.now() - execution.startDate,
      };
      const record = await readRelease(sandbox, releaseId);
      return { releaseId, result, ...(record ? { record } : {}) };
    }
    if (outcome === 'idle' || sandbox.clock.now() >= deadline)
      throw new Error(`${executionArn} did not finish within ${maxReleaseMs(sandbox) / 3600_000} virtual hours`);
  }
  const result = await finishExecution(sandbox, executionArn);
  const record = await readRelease(sandbox, releaseId);
  return { releaseId, result, ...(record ? { record } : {}) };
}

/** Starts the release workflow under a readable name and follows it to its end (or to an approval wait). */
export async function runRelease(
  sandbox: Sandbox,
  input: Record<string, unknown>,
  namePrefix: string,
  output: Output,
  { quiet = false } = {},
): Promise<ReleaseRun> {
  const name = executionName(sandbox, namePrefix);
  const unfollow = quiet ? undefined : followReleaseActivity(sandbox, output, { since: sandbox.clock.now(), executionName: name });
  try {
    const executionArn = await sandbox.startExecution(RELEASE_WORKFLOW, input, name);
    return await finishRelease(sandbox, executionArn);
  } finally {
    unfollow?.();
  }
}

/** ok when the release succeeded or waits for its approver; invalid when the workflow refused its input; failed otherwise. */
export function releaseExitCode(run: ReleaseRun): ExitCode {
  if (run.result.status === 'SUCCEEDED' || run.result.status === 'WAITING') return EXIT.ok;
  // The error class's name is the Step Functions error name the workflow ends with.
  return run.result.error === InvalidReleaseRequestError.name ? EXIT.invalid : EXIT.failed;
}
