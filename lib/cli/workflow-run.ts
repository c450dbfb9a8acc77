/**
 * Running a workflow from the CLI: start it under a readable execution name,
 * print its states as they are entered, and report how it ended (or that it is
 * waiting, for a resume that needs approval).
 */
import type { Sandbox } from '../sandbox/sandbox';
import type { ExecutionStatus } from '../sandbox/simulated-step-functions';
import type { WorkflowName } from '../naming';
import { type Output, duration } from './output';
import { describeCause, followExecution } from './sandbox-session';

export interface WorkflowRequest {
  readonly workflow: WorkflowName;
  readonly input: Record<string, unknown>;
  /** Prefix of the execution name (a timestamp is appended). */
  readonly namePrefix: string;
  /** Shown before each state line. */
  readonly label: string;
}

export interface WorkflowResult {
  readonly executionArn: string;
  /** WAITING: the execution waits on a task token (a resume awaiting approval). */
  readonly status: ExecutionStatus | 'WAITING';
  readonly message: string;
  /** The execution's output when it succeeded. */
  readonly output?: Readonly<Record<string, unknown>>;
  readonly error?: string;
  readonly transitions: number;
  readonly virtualMs: number;
}

/** `<prefix>-<UTC timestamp>-<4 random>`: readable, sortable, and unique even for two requests in one second. */
export function executionName(sandbox: Sandbox, prefix: string): string {
  const stamp = new Date(sandbox.clock.now()).toISOString().replace(/[-:]/g, '').slice(0, 15);
  const suffix = sandbox.random.chars(4, 'abcdefghijkmnpqrstuvwxyz23456789');
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 58)}-${stamp}-${suffix}`;
}

/** Starts the workflow and runs it until it ends, or (with `untilWaiting`) until it waits for a person. */
export async function runWorkflow(
  sandbox: Sandbox,
  request: WorkflowRequest,
  output: Output,
  { quiet = false, untilWaiting = false } = {},
): Promise<WorkflowResult> {
  const name = executionName(sandbox, request.namePrefix);
  const unfollow = quiet ? undefined : followExecution(sandbox, name, request.label, output);
  try {
    const executionArn = await sandbox.startExecution(request.workflow, request.input, name);
    return await finishExecution(sandbox, executionArn, { untilWaiting });
  } finally {
    unfollow?.();
  }
}

/**
 * True while the execution waits for a person: a resume waiting on its approval
 * token. (Deploys and rollbacks also wait on tokens, but for ECS and CloudWatch,
 * which answer as virtual time runs.)
 */
export function waitsForPeople(sandbox: Sandbox, executionArn: string): boolean {
  const record = sandbox.stepFunctions.execution(executionArn);
  return record?.stateMachineArn === sandbox.stateMachines.resume && sandbox.stepFunctions.isWaitingOnToken(executionArn);
}

/** Runs virtual time until every execution has ended or waits for a person. */
export async function runUntilSettled(sandbox: Sandbox, maxVirtualMs = 12 * 3600_000): Promise<void> {
  const settled = (): boolean => sandbox.stepFunctions.listExecutionRecords().every((e) => e.status !== 'RUNNING' || waitsForPeople(sandbox, e.executionArn));
  if ((await sandbox.clock.runUntil(settled, maxVirtualMs)) !== 'done')
    throw new Error(`Executions still running after ${maxVirtualMs / 3600_000} virtual hours`);
}

/** Runs an execution already started (or resumed from a saved session) to its end, or (with `untilWaiting`) until it waits for a person. */
export async function finishExecution(sandbox: Sandbox, executionArn: string, { untilWaiting = false } = {}): Promise<WorkflowResult> {
  const record = sandbox.stepFunctions.execution(executionArn);
  if (!record) throw new Error(`No execution ${executionArn}`);
  await sandbox.clock.runUntil(() => record.status !== 'RUNNING' || (untilWaiting && waitsForPeople(sandbox, executionArn)), 12 * 3600_000);
  if (record.status === 'RUNNING' && !waitsForPeople(sandbox, executionArn)) {
    throw new Error(`${executionArn} did not finish within 12 virtual hours`);
  }
  const virtualMs = (record.stopDate ?? sandbox.clock.now()) - record.startDate;
  if (record.status === 'RUNNING') {
    return { executionArn, status: 'WAITING', message: 'waiting for a task token', transitions: record.transitions, virtualMs };
  }
  const result = record.status === 'SUCCEEDED' ? (JSON.parse(record.output ?? '{}') as Record<string, unknown>) : undefined;
  return {
    executionArn,
    status: record.status,
    message: result ? String(result.message ?? 'done') : `${record.error ?? record.status}: ${describeCause(record.cause ?? '')}`,
    ...(result ? { output: result } : {}),
    ...(record.error ? { error: record.error } : {}),
    transitions: record.transitions,
    virtualMs,
  };
}

export function printWorkflowResult(result: WorkflowResult, output: Output, json: boolean): void {
  if (json) {
    output.line(JSON.stringify(result, null, 2));
    return;
  }
  const mark = result.status === 'SUCCEEDED' ? '✓' : result.status === 'WAITING' ? '…' : '✗';
  const [first, ...rest] = result.message.split('\n');
  output.line(`${mark} ${first ?? ''}`);
  for (const line of rest) if (line.trim()) output.line(`  ${line}`);
  output.line(
    `  ${result.status} after ${duration(result.virtualMs)} of virtual time, ${result.transitions} state transitions (${result.executionArn.split(':').pop() ?? ''})`,
  );
}
