/**
 * Signals delivered to the sandbox (an alarm's state set, any event emitted)
 * and a report of what Assure did about them: routing decisions, executions,
 * pages. Used by `assure sandbox alarm|emit` and the demo.
 */
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { readAuditTrail } from '../../functions/shared/domain/audit';
import type { Sandbox } from '../sandbox/sandbox';
import type { PublishedMessage } from '../sandbox/simulated-sns';
import { EXIT, type ExitCode } from './exit-codes';
import { type Output, clockTime, printPages } from './output';
import { finishExecution, type WorkflowResult } from './workflow-run';

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

async function observeUntilQuiet(
  sandbox: Sandbox,
  signal: () => Promise<void>,
  since: number,
  pagesBefore: number,
  known: ReadonlySet<string>,
): Promise<SignalReport> {
  await signal();
  // Event delivery and the router's invocation take about a second; then every execution they started runs out.
  await sandbox.clock.advance(5_000);
  const started = sandbox.stepFunctions.listExecutionRecords().filter((e) => !known.has(e.executionArn));
  const executions = [];
  for (const execution of started) {
    executions.push({
      workflow: workflowOf(execution.stateMachineArn),
      name: execution.name,
      result: await finishExecution(sandbox, execution.executionArn, { untilWaiting: true }),
    });
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

const workflowOf = (stateMachineArn: string): string =>
  stateMachineArn
    .split(':')
    .pop()
    ?.replace(/^assure-[a-z0-9-]+?-(?=[a-z]+$)/, '') ?? stateMachineArn;

export const ALARM_STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const;

/** Sets an alarm's state as `aws cloudwatch set-alarm-state` does; the sandbox's CloudWatch emits the state change. */
export async function setAlarmState(sandbox: Sandbox, alarmName: string, state: (typeof ALARM_STATES)[number], reason: string): Promise<void> {
  await sandbox.complete(sandbox.clients.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: state, StateReason: reason })));
}
