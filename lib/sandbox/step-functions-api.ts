/**
 * Step Functions' read APIs over execution records, shaped as the SDK returns
 * them: DescribeExecution, ListExecutions (most recent first, paginated) and
 * GetExecutionHistory (paginated, optionally in reverse).
 */
import { paginate } from './page-tokens';
import { type ExecutionRecord, type ExecutionStatus, historyEventOutput } from './step-functions-history';

export function describeExecutionOutput(record: ExecutionRecord): object {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: new Date(record.startDate),
    ...(record.stopDate === undefined ? {} : { stopDate: new Date(record.stopDate) }),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
  };
}

/** `records`: the state machine's executions. */
export function listExecutionsOutput(records: readonly ExecutionRecord[], input: Record<string, unknown>): object {
  const arn = String(input.stateMachineArn ?? '');
  const statusFilter = input.statusFilter as ExecutionStatus | undefined;
  // "Results are sorted by time, with the most recent execution first."
  const matching = records
    .filter((e) => !statusFilter || e.status === statusFilter)
    .sort((a, b) => b.startDate - a.startDate || a.executionArn.localeCompare(b.executionArn));
  const { page, nextToken } = paginate(matching, (e) => e.executionArn, `${arn}|${statusFilter ?? ''}`, input);
  const executions = page.map((e) => ({
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: new Date(e.startDate),
    ...(e.stopDate === undefined ? {} : { stopDate: new Date(e.stopDate) }),
  }));
  return { executions, ...(nextToken === undefined ? {} : { nextToken }) };
}

/** `roleArn`: the state machine's role, which the ExecutionStarted event names. */
export function executionHistoryOutput(record: ExecutionRecord, roleArn: string | undefined, input: Record<string, unknown>): object {
  const events = record.history.map((event, i) => {
    const output = historyEventOutput(event, record.history[i - 1]);
    // The execution's own input and output live on its record, not on each event.
    const untruncated = { truncated: false };
    if (event.type === 'ExecutionStarted') return { ...output, executionStartedEventDetails: { input: record.input, inputDetails: untruncated, roleArn } };
    if (event.type === 'ExecutionSucceeded') return { ...output, executionSucceededEventDetails: { output: record.output, outputDetails: untruncated } };
    return output;
  });
  if (input.reverseOrder === true) events.reverse();
  const { page, nextToken } = paginate(events, (e) => String(e.id), `${record.executionArn}|${String(input.reverseOrder === true)}`, input);
  return { events: page, ...(nextToken === undefined ? {} : { nextToken }) };
}
