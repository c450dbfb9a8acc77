/**
 * The control commands: rollback, halt, resume and approve, and the sandbox's
 * signal commands (set an alarm's state, emit any event) with a report of what
 * Assure did about the signal: routing decisions, executions, pages.
 */
import { readFileSync } from 'node:fs';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import * as z from 'zod';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import { failureMessage } from '../../functions/shared/runtime/failure';
import type { Sandbox } from '../sandbox/sandbox';
import type { AwsEvent } from '../sandbox/simulated-eventbridge';
import type { PublishedMessage } from '../sandbox/simulated-sns';
import { EXIT, type ExitCode } from './exit-codes';
import { type Output, clockTime, printPages } from './output';
import { followExecution } from './sandbox-session';
import { finishExecution, type WorkflowResult, runWorkflow } from './workflow-run';

export interface RollbackOptions {
  readonly service: string;
  readonly reason: string;
  readonly requestedBy: string;
  readonly targetRevision?: number;
}

export function runRollback(sandbox: Sandbox, options: RollbackOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = {
    service: options.service,
    reason: options.reason,
    source: 'cli',
    requestedBy: options.requestedBy,
    ...(options.targetRevision === undefined ? {} : { targetRevision: options.targetRevision }),
  };
  return runWorkflow(sandbox, { workflow: 'rollback', input, namePrefix: `rollback-${options.service}`, label: `rollback ${options.service}` }, output, { quiet });
}

export interface HaltOptions {
  readonly reason: string;
  readonly actor: string;
  readonly services?: readonly string[];
}

export function runHalt(sandbox: Sandbox, options: HaltOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const input = { reason: options.reason, actor: options.actor, source: 'cli', ...(options.services?.length ? { services: [...options.services] } : {}) };
  return runWorkflow(sandbox, { workflow: 'halt', input, namePrefix: 'halt', label: 'halt' }, output, { quiet });
}

export interface ResumeOptions {
  readonly reason: string;
  readonly requestedBy: string;
}

/** Starts a resume and runs it until it waits for approval (or ends, when refused before that). */
export async function startResume(sandbox: Sandbox, options: ResumeOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const result = await runWorkflow(
    sandbox,
    { workflow: 'resume', input: { requestedBy: options.requestedBy, reason: options.reason }, namePrefix: 'resume', label: 'resume' },
    output,
    { quiet, untilWaiting: true },
  );
  return result.status === 'WAITING' ? { ...result, message: `waiting for a second person to approve (${options.requestedBy} cannot)` } : result;
}

export interface ApprovalOptions {
  readonly approvalId: string;
  readonly approver: string;
  readonly reject: boolean;
  readonly comment?: string;
}

/** Why an approval was not accepted (the decision function's ApprovalRefusedError). */
export class ApprovalRefused extends Error {
  override readonly name = 'ApprovalRefused';
}

/**
 * An approver's decision, through the resume workflow's decision function (as
 * `aws lambda invoke` would call it); then the resume runs on to its end.
 */
export async function decideApproval(sandbox: Sandbox, options: ApprovalOptions, output: Output, { quiet = false } = {}): Promise<WorkflowResult> {
  const payload = {
    approvalId: options.approvalId,
    approver: options.approver,
    decision: options.reject ? 'reject' : 'approve',
    ...(options.comment ? { comment: options.comment } : {}),
  };
  const executionArn = `${sandbox.stateMachines.resume?.replace(':stateMachine:', ':execution:') ?? ''}:${options.approvalId}`;
  const unfollow = quiet ? undefined : followExecution(sandbox, options.approvalId, 'resume', output);
  try {
    try {
      await sandbox.invokeFunction('resume', 'DecideResumeApproval', payload);
    } catch (error) {
      throw new ApprovalRefused(failureMessage({ Error: (error as Error).name, Cause: (error as Error).message }));
    }
    return await finishExecution(sandbox, executionArn);
  } finally {
    unfollow?.();
  }
}

/** What Assure did about a signal: its routing decisions, the executions it started, the pages it sent. */
export interface SignalReport {
  readonly decisions: readonly { readonly at: string; readonly alarm: string; readonly decision: string; readonly why: string }[];
  readonly executions: readonly { readonly workflow: string; readonly name: string; readonly result: WorkflowResult }[];
  readonly pages: readonly PublishedMessage[];
}

/**
 * Delivers a signal, then runs the sandbox until every execution it started
 * has ended (or waits on a person), and reports what happened.
 */
export async function observeSignal(sandbox: Sandbox, signal: () => Promise<void>, output: Output, { quiet = false } = {}): Promise<SignalReport> {
  const since = sandbox.clock.now();
  const pagesBefore = sandbox.sns.messages.length;
  const known = new Set(sandbox.stepFunctions.listExecutionRecords().map((e) => e.executionArn));
  const unfollow = quiet
    ? undefined
    : sandbox.stepFunctions.onHistoryEvent((execution, event) => {
        if (known.has(execution.executionArn) || !event.type.endsWith('StateEntered') || !event.stateName) return;
        output.line(`${clockTime(event.timestamp)}  ${workflowOf(execution.stateMachineArn)}  ${event.stateName}`);
      });
  try {
    return await observeUntilQuiet(sandbox, signal, since, pagesBefore, known);
  } finally {
    unfollow?.();
  }
}

async function observeUntilQuiet(sandbox: Sandbox, signal: () => Promise<void>, since: number, pagesBefore: number, known: ReadonlySet<string>): Promise<SignalReport> {
  await signal();
  // Event delivery and the router's invocation take about a second; then every execution they started runs out.
  await sandbox.clock.advance(5_000);
  const started = sandbox.stepFunctions.listExecutionRecords().filter((e) => !known.has(e.executionArn));
  const executions = [];
  for (const execution of started) {
    executions.push({ workflow: workflowOf(execution.stateMachineArn), name: execution.name, result: await finishExecution(sandbox, execution.executionArn, { untilWaiting: true }) });
  }
  const trail = await readAuditTrail(sandbox, { limit: 200 });
  const decisions = trail
    .filter((r) => r.action === 'alarm.route' && Date.parse(r.at) >= since)
    .reverse()
    .map((r) => ({ at: r.at, alarm: String(r.after?.alarm ?? '?'), decision: String(r.after?.decision ?? '?'), why: r.reason ?? '' }));
  return { decisions, executions, pages: sandbox.sns.messages.slice(pagesBefore) };
}

export function printSignalReport(report: SignalReport, output: Output, json: boolean): void {
  if (json) {
    output.line(JSON.stringify(report, null, 2));
    return;
  }
  if (report.decisions.length === 0) output.line('No alarm routing: no rule matched, or the event was not for Assure.');
  for (const d of report.decisions) output.line(`Routed ${d.alarm}: ${d.decision} — ${d.why}`);
  for (const e of report.executions) {
    const mark = e.result.status === 'SUCCEEDED' ? '✓' : e.result.status === 'WAITING' ? '…' : '✗';
    const [first, ...rest] = e.result.message.split('\n');
    output.line(`${mark} ${e.workflow} ${e.name}: ${e.result.status}: ${first ?? ''}`);
    for (const line of rest) if (line.trim()) output.line(`    ${line}`);
  }
  printPages(report.pages, output);
}

/** failed when an execution the signal started ended other than SUCCEEDED (or waits on a person). */
export function signalExitCode(report: SignalReport): ExitCode {
  return report.executions.some((e) => e.result.status !== 'SUCCEEDED' && e.result.status !== 'WAITING') ? EXIT.failed : EXIT.ok;
}

const workflowOf = (stateMachineArn: string): string => stateMachineArn.split(':').pop()?.replace(/^assure-[a-z0-9-]+?-(?=[a-z]+$)/, '') ?? stateMachineArn;

export const ALARM_STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const;

/** Sets an alarm's state as `aws cloudwatch set-alarm-state` does; the sandbox's CloudWatch emits the state change. */
export async function setAlarmState(sandbox: Sandbox, alarmName: string, state: (typeof ALARM_STATES)[number], reason: string): Promise<void> {
  await sandbox.complete(sandbox.clients.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: state, StateReason: reason })));
}

/** An event file: a complete envelope, or one whose id, time, account and region are filled in as the emitting service would. */
const eventFileSchema = z.object({
  version: z.literal('0').default('0'),
  id: z.string().min(1).optional(),
  'detail-type': z.string().min(1, 'is required'),
  source: z.string().min(1, 'is required'),
  account: z.string().optional(),
  time: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).default([]),
  detail: z.record(z.string(), z.unknown()),
  'replay-name': z.string().optional(),
});

export class EventFileError extends Error {
  override readonly name = 'EventFileError';
}

export function readEventFile(sandbox: Sandbox, file: string): AwsEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EventFileError(`${file}: ${(error as Error).message}`);
  }
  const parsed = eventFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EventFileError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'} ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  return {
    version: '0',
    id: e.id ?? sandbox.random.uuid(),
    'detail-type': e['detail-type'],
    source: e.source,
    account: e.account ?? sandbox.context.account,
    time: e.time ?? new Date(sandbox.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: e.region ?? sandbox.context.region,
    resources: e.resources,
    detail: e.detail,
    ...(e['replay-name'] ? { 'replay-name': e['replay-name'] } : {}),
  };
}
