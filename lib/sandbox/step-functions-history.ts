/**
 * Step Functions execution history as the service records it: the interpreter's
 * own events (StateEntered, StateRetried, ...) become the SDK's
 * `HistoryEventType`s (TaskStateEntered, TaskScheduled, TaskStarted,
 * TaskSucceeded, TaskFailed, TaskTimedOut, MapIterationStarted, ...). There is
 * no retried or caught event in AWS: a retry shows as another TaskScheduled, a
 * catch as the next state entered. Also the documented limits around it:
 * 256 KiB payloads (States.DataLimitExceeded) and 25,000 events per execution.
 */

import type { StateMachine } from 'aws-local-stepfunctions';
import { SimulatedAwsError } from './aws-error';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  readonly id: number;
  readonly timestamp: number;
  /** A `HistoryEventType` of the SDK. */
  readonly type: string;
  readonly stateName?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly input: string;
  output?: string;
  error?: string;
  cause?: string;
  readonly startDate: number;
  stopDate?: number;
  readonly history: HistoryEvent[];
  /** State transitions, as billed: every state entered and every retry. */
  transitions: number;
}

/** An event of aws-local-stepfunctions' event log. */
export interface InterpreterEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type: string; readonly input?: unknown; readonly output?: unknown };
  readonly parentState?: { readonly name: string; readonly type: string };
  readonly index?: number;
  readonly Error?: string;
  readonly Cause?: unknown;
}

/** "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string" (service quotas). */
export const MAX_PAYLOAD_BYTES = 262_144;
/** "Maximum execution history size: 25,000 events in a single execution history" (service quotas). */
export const MAX_HISTORY_EVENTS = 25_000;

export const payloadBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null) ?? 'null', 'utf8');

/**
 * An error that ends the execution: the interpreter honours `isRetryable` and
 * `isCatchable`, and AWS documents States.Runtime and States.DataLimitExceeded
 * as neither retried nor caught (a Retry or Catch on States.ALL does not apply).
 */
export function terminalError(name: 'States.Runtime' | 'States.DataLimitExceeded', message: string): Error {
  return Object.assign(new Error(message), { name, isRetryable: false, isCatchable: false });
}

export const dataLimitCause = (subject: string): string =>
  `The state/task '${subject}' returned a result with a size exceeding the maximum number of bytes service limit.`;

export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`;

type Append = (type: string, stateName?: string, detail?: Record<string, unknown>) => void;

/** How a Task's resource shows in history: Lambda function ARNs as LambdaFunction*, integrations as Task*. */
function taskKind(resource: string): { prefix: 'LambdaFunction' | 'Task'; detail: Record<string, string> } {
  if (resource.startsWith('arn:aws:lambda:')) return { prefix: 'LambdaFunction', detail: { resource } };
  // arn:aws:states:::lambda:invoke.waitForTaskToken → resourceType lambda, resource invoke.waitForTaskToken
  const [resourceType = resource, ...rest] = resource.replace(/^arn:aws:states:::/, '').split(':');
  return { prefix: 'Task', detail: { resourceType, resource: rest.join(':') } };
}

/** Translates the interpreter's events of one execution into AWS history events. */
export class HistoryTranslator {
  /** States (per Map iteration) whose last attempt failed: their exit after a Catch is no success. */
  private readonly failed = new Set<string>();

  constructor(
    /** The Resource of every Task state, by name (Task names are unique in the sandbox). */
    private readonly resources: ReadonlyMap<string, string>,
    private readonly append: Append,
  ) {}

  translate(event: InterpreterEvent): void {
    const name = event.state?.name;
    const type = event.state?.type ?? '';
    const key = `${name ?? ''}#${event.index ?? ''}`;
    const resource = name === undefined ? undefined : this.resources.get(name);
    const task = type === 'Task' && resource !== undefined ? taskKind(resource) : undefined;
    switch (event.type) {
      case 'ExecutionStarted':
        return this.append('ExecutionStarted');
      case 'StateEntered':
        this.failed.delete(key);
        this.append(`${type}StateEntered`, name);
        if (task) this.schedule(task, name);
        if (type === 'Map' || type === 'Parallel') this.append(`${type}StateStarted`, name);
        return;
      case 'StateRetried':
        this.failed.delete(key);
        if (task) this.schedule(task, name);
        return;
      case 'StateFailed': {
        this.failed.add(key);
        const detail = { error: event.Error, cause: causeText(event.Cause) };
        if (task) {
          const timedOut = event.Error === 'States.Timeout' || event.Error === 'States.HeartbeatTimeout';
          this.append(`${task.prefix}${timedOut ? 'TimedOut' : 'Failed'}`, name, { ...task.detail, ...detail });
        } else if (type === 'Map' || type === 'Parallel') {
          this.append(`${type}StateFailed`, name, detail);
        }
        // Pass, Choice, Wait, Succeed and Fail have no failed event: the execution's ExecutionFailed says it.
        return;
      }
      case 'StateExited':
        if (!this.failed.has(key)) {
          if (task) this.append(`${task.prefix}Succeeded`, name, task.detail);
          if (type === 'Map' || type === 'Parallel') this.append(`${type}StateSucceeded`, name);
        }
        this.failed.delete(key);
        this.append(`${type}StateExited`, name);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        return this.append(event.type, event.parentState?.name, { index: event.index });
      case 'ExecutionSucceeded':
        return this.append('ExecutionSucceeded');
      case 'ExecutionFailed':
        return this.append('ExecutionFailed', undefined, { error: event.Error, cause: causeText(event.Cause) });
      case 'ExecutionTimeout':
        return this.append('ExecutionTimedOut', undefined, { error: 'States.Timeout' });
      default:
        // StateCaught, ParallelBranch*, ExecutionAborted (StopExecution records its own): no AWS event.
        return;
    }
  }

  private schedule(task: ReturnType<typeof taskKind>, name: string | undefined): void {
    this.append(`${task.prefix}Scheduled`, name, task.detail);
    this.append(`${task.prefix}Started`, name, task.detail);
  }
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause ?? '');
}

/** The API's view of one history event: `<type>EventDetails` as GetExecutionHistory returns them. */
export function historyEventOutput(event: HistoryEvent, previous: HistoryEvent | undefined): Record<string, unknown> {
  const detailsKey = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
  const d = event.detail ?? {};
  const pick = (...keys: string[]): Record<string, unknown> => Object.fromEntries(keys.filter((k) => d[k] !== undefined).map((k) => [k, d[k]]));
  let details: Record<string, unknown> | undefined;
  if (event.type.endsWith('StateEntered') || event.type.endsWith('StateExited')) {
    details = { name: event.stateName };
    const key = event.type.endsWith('StateEntered') ? 'stateEnteredEventDetails' : 'stateExitedEventDetails';
    return { id: event.id, previousEventId: previous?.id ?? 0, timestamp: new Date(event.timestamp), type: event.type, [key]: details };
  }
  if (event.type.startsWith('MapIteration')) details = { name: event.stateName, ...pick('index') };
  else if (
    /^(Task|LambdaFunction)(Failed|TimedOut)$/.test(event.type) ||
    /^(Execution|MapState|ParallelState)Failed$/.test(event.type) ||
    event.type === 'ExecutionTimedOut'
  )
    details = pick('resourceType', 'resource', 'error', 'cause');
  else if (/^(Task|LambdaFunction)/.test(event.type)) details = pick('resourceType', 'resource');
  else if (event.type === 'ExecutionAborted') details = pick('error', 'cause');
  return {
    id: event.id,
    previousEventId: previous?.id ?? 0,
    timestamp: new Date(event.timestamp),
    type: event.type,
    ...(details && Object.keys(details).length > 0 ? { [detailsKey]: details } : {}),
  };
}

/** A request member past its documented length: the API refuses it before anything runs. */
export function assertPayloadLength(member: 'input' | 'output', value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new SimulatedAwsError(
      'ValidationException',
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`,
    );
  }
}

interface EventLoggerInternals {
  isLoggerClosed: boolean;
  dispatch(event: InterpreterEvent): void;
  forwardNestedMapEvent(...args: unknown[]): void;
  forwardNestedParallelEvent(...args: unknown[]): void;
}

/**
 * Calls `observer` with each interpreter event as it is dispatched. The public
 * event log is an async iterator that runs behind the execution, but a quota
 * must stop the execution before its next state runs, and history listeners
 * should see an event at the moment it happens. Events of Map iterations and
 * Parallel branches arrive forwarded from their own loggers (`nested`).
 * This reaches into the interpreter's private `execute` (its version is pinned,
 * with a patch of ours).
 */
export function observeSynchronously(machine: StateMachine, observer: (event: InterpreterEvent, nested: boolean) => void): void {
  type Execute = (input: unknown, options: { eventLogger: EventLoggerInternals }, cleanup: () => void) => Promise<unknown>;
  const internals = machine as unknown as { execute: Execute };
  const execute = internals.execute.bind(machine);
  internals.execute = (input, options, cleanup) => {
    const logger = options.eventLogger;
    const dispatch = logger.dispatch.bind(logger);
    let forwarding = 0;
    for (const method of ['forwardNestedMapEvent', 'forwardNestedParallelEvent'] as const) {
      const forward = logger[method].bind(logger);
      logger[method] = (...args: unknown[]): void => {
        forwarding += 1;
        try {
          forward(...args);
        } finally {
          forwarding -= 1;
        }
      };
    }
    logger.dispatch = (event: InterpreterEvent): void => {
      if (!logger.isLoggerClosed) observer(event, forwarding > 0);
      dispatch(event);
    };
    return execute(input, options, cleanup);
  };
}
