/**
 * Step Functions (Standard workflows) on top of aws-local-stepfunctions: the same
 * ASL runs here as in AWS. What the interpreter leaves to its host, this class
 * does as AWS documents it: execution names and idempotent StartExecution,
 * service integrations by Resource ARN (Lambda invoke, `.waitForTaskToken`),
 * task tokens (`$$.Task.Token`) and SendTask*, StopExecution, execution
 * history, and `Step Functions Execution Status Change` events. Nested
 * executions (`states:startExecution`, `.sync`, `.sync:2`) run as
 * step-functions-nested.ts describes.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { SimulatedAwsError } from './aws-error';
import type { SeededRandom } from './deterministic';
import { LambdaFunctionError, outsideFunctionInvocations } from './simulated-lambda';
import { describeExecutionOutput, executionHistoryOutput, listExecutionsOutput } from './step-functions-api';
import { type NestedExecutionHost, runStartExecutionTask, START_EXECUTION_RESOURCE } from './step-functions-nested';
import type { SimulatedService } from './sdk-transport';
import {
  type AslState,
  executionFailure,
  INVALID_NAME,
  resumedDefinition,
  stateTimeoutSeconds,
  taskStates,
  withAwsTaskDefaults,
} from './step-functions-definitions';
import {
  assertPayloadLength,
  dataLimitCause,
  type ExecutionRecord,
  HISTORY_LIMIT_CAUSE,
  type HistoryEvent,
  HistoryTranslator,
  MAX_HISTORY_EVENTS,
  MAX_PAYLOAD_BYTES,
  observeSynchronously,
  payloadBytes,
  terminalError,
} from './step-functions-history';

export type { ExecutionRecord, ExecutionStatus, HistoryEvent } from './step-functions-history';

export interface StateMachineRecord {
  readonly name: string;
  readonly arn: string;
  readonly definition: StateMachineDefinition;
  readonly roleArn: string;
  readonly createdAt: number;
}

/** How Task states reach other services. */
export interface TaskIntegrations {
  /** `stateMachineArn`: whose role makes the call (the integration authorizes it). */
  invokeLambda(functionArn: string, payload: unknown, stateMachineArn?: string): Promise<unknown>;
  publishToTopic?(topicArn: string, message: string, subject?: string, stateMachineArn?: string): Promise<{ MessageId: string }>;
  /** Authorizes an SDK call the state machine's role makes for an integration (nested executions); throws the task's error when denied. */
  authorizeCall?(stateMachineArn: string, service: string, operation: string, input: Readonly<Record<string, unknown>>): void;
}

interface TokenEntry {
  readonly executionArn: string;
  stateName?: string;
  /** When the state waiting on this token times out (epoch ms); absent for no timeout. */
  timeoutAt?: number;
  /** The task's own invocation (which hands the token out) has returned. */
  handedOut?: boolean;
  closed: boolean;
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface RunningExecution {
  readonly abort: () => void;
  readonly done: Promise<void>;
  /** The raw input of each top-level state as last entered (to resume a paused execution there). */
  readonly stateInputs: Map<string, unknown>;
}

/**
 * An execution waiting on a task token at a top-level state, as persisted between
 * sandbox sessions: Step Functions keeps such executions for up to a year.
 */
export interface PausedExecution {
  readonly record: ExecutionRecord;
  readonly stateName: string;
  readonly stateInput: unknown;
  readonly taskToken: string;
  readonly timeoutAt?: number;
}

/** Where a restored execution picks up: the state it waits in, on its token. */
interface ResumePoint {
  readonly stateName: string;
  readonly token: TokenEntry;
}

export class SimulatedStepFunctions implements SimulatedService {
  private readonly stateMachines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, RunningExecution>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly historyListeners: ((execution: ExecutionRecord, event: HistoryEvent) => void)[] = [];
  /** Child executions a `.sync` task waits on, by parent: they stop when the parent does. */
  private readonly children = new Map<string, Set<string>>();
  private readonly nestedHost: NestedExecutionHost = {
    authorize: (stateMachineArn, service, operation, input) => this.integrations.authorizeCall?.(stateMachineArn, service, operation, input),
    startExecution: (stateMachineArn, input, name) => this.startExecution(stateMachineArn, input, name),
    whenClosed: (executionArn) => this.whenClosed(executionArn),
    adopt: (parentArn, childArn) => {
      const set = this.children.get(parentArn) ?? new Set<string>();
      set.add(childArn);
      this.children.set(parentArn, set);
    },
  };

  constructor(
    private readonly context: { readonly account: string; readonly region: string; readonly random: SeededRandom },
    private readonly integrations: TaskIntegrations,
    private readonly emitStatusChange: (execution: ExecutionRecord) => void = () => undefined,
  ) {}

  createStateMachine(name: string, definition: StateMachineDefinition, roleArn = `arn:aws:iam::${this.context.account}:role/sandbox`): string {
    const arn = `arn:aws:states:${this.context.region}:${this.context.account}:stateMachine:${name}`;
    // Validates the definition now, as CreateStateMachine does.
    new StateMachine(withAwsTaskDefaults(definition), { validationOptions: { checkArn: true, checkPaths: true } });
    this.stateMachines.set(arn, { name, arn, definition: withAwsTaskDefaults(definition), roleArn, createdAt: Date.now() });
    return arn;
  }

  /** Observes history events as executions run (the CLI prints progress from these). */
  onHistoryEvent(listener: (execution: ExecutionRecord, event: HistoryEvent) => void): () => void {
    this.historyListeners.push(listener);
    return () => {
      const index = this.historyListeners.indexOf(listener);
      if (index >= 0) this.historyListeners.splice(index, 1);
    };
  }

  execution(executionArn: string): ExecutionRecord | undefined {
    return this.executions.get(executionArn);
  }

  listExecutionRecords(stateMachineArn?: string): ExecutionRecord[] {
    return [...this.executions.values()].filter((e) => !stateMachineArn || e.stateMachineArn === stateMachineArn);
  }

  /** Resolves when the execution has closed. */
  async whenClosed(executionArn: string): Promise<ExecutionRecord> {
    await this.running.get(executionArn)?.done;
    const record = this.executions.get(executionArn);
    if (!record) throw new Error(`No execution ${executionArn}`);
    return record;
  }

  /** Closed executions kept from an earlier sandbox session (persisted history). */
  restoreExecutions(records: readonly ExecutionRecord[]): void {
    for (const record of records) this.executions.set(record.executionArn, record);
  }

  /** True while the execution waits on a task token that nothing has answered yet. */
  isWaitingOnToken(executionArn: string): boolean {
    if (this.executions.get(executionArn)?.status !== 'RUNNING') return false;
    for (const entry of this.tokens.values()) if (entry.executionArn === executionArn && !entry.closed && entry.handedOut) return true;
    return false;
  }

  /** Running executions that wait only on a task token at a top-level state: they can be persisted. */
  pausedExecutions(): PausedExecution[] {
    const paused: PausedExecution[] = [];
    for (const record of this.executions.values()) {
      if (record.status !== 'RUNNING') continue;
      const open = [...this.tokens.entries()].filter(([, t]) => t.executionArn === record.executionArn && !t.closed && t.handedOut === true);
      const [first] = open;
      if (open.length !== 1 || !first) continue;
      const [taskToken, entry] = first;
      const stateName = entry.stateName as string;
      const stateInputs = this.running.get(record.executionArn)?.stateInputs;
      const state = (this.stateMachines.get(record.stateMachineArn)?.definition as unknown as { States: Record<string, AslState> } | undefined)?.States[
        stateName
      ];
      if (!stateInputs?.has(stateName) || !state) continue;
      const stateInput = stateInputs.get(stateName);
      // The state's timeout runs from when it was entered, as the interpreter applies it (TimeoutSeconds, or TimeoutSecondsPath on the raw input).
      const enteredAt = record.history.findLast((e) => e.type.endsWith('StateEntered') && e.stateName === stateName)?.timestamp;
      const timeoutSeconds = stateTimeoutSeconds(state, stateInput);
      const timeoutAt = entry.timeoutAt ?? (enteredAt !== undefined && timeoutSeconds !== undefined ? enteredAt + timeoutSeconds * 1000 : undefined);
      paused.push({
        record: structuredClone(record),
        stateName,
        stateInput: structuredClone(stateInput),
        taskToken,
        ...(timeoutAt === undefined ? {} : { timeoutAt }),
      });
    }
    return paused;
  }

  /** Brings back executions paused in an earlier session, waiting on the same tokens with the time they had left. */
  restorePausedExecutions(paused: readonly PausedExecution[]): void {
    for (const p of paused) {
      const machine = this.stateMachines.get(p.record.stateMachineArn);
      if (!machine) continue;
      const record: ExecutionRecord = structuredClone(p.record);
      this.executions.set(record.executionArn, record);
      const token = this.newToken(p.taskToken, record.executionArn);
      token.stateName = p.stateName;
      token.handedOut = true;
      if (p.timeoutAt !== undefined) token.timeoutAt = p.timeoutAt;
      this.run(machine, record, p.stateInput, { stateName: p.stateName, token });
    }
  }

  private newToken(token: string, executionArn: string): TokenEntry {
    let resolve!: (value: unknown) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    const entry: TokenEntry = { executionArn, closed: false, promise, resolve, reject };
    this.tokens.set(token, entry);
    return entry;
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'StartExecution':
        return this.startExecution(String(input.stateMachineArn ?? ''), input.input as string | undefined, input.name as string | undefined);
      case 'DescribeExecution':
        return this.describeExecution(String(input.executionArn ?? ''));
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'StopExecution':
        return this.stopExecution(String(input.executionArn ?? ''), input.error as string | undefined, input.cause as string | undefined);
      case 'SendTaskSuccess':
        return this.sendTaskSuccess(String(input.taskToken ?? ''), String(input.output ?? ''));
      case 'SendTaskFailure':
        return this.sendTaskFailure(String(input.taskToken ?? ''), input.error as string | undefined, input.cause as string | undefined);
      case 'SendTaskHeartbeat':
        this.liveToken(String(input.taskToken ?? ''));
        return {};
      case 'GetExecutionHistory':
        return this.getExecutionHistory(input);
      default:
        throw new SimulatedAwsError('UnknownOperationException', `The sandbox does not implement Step Functions ${operation}`);
    }
  }

  startExecution(stateMachineArn: string, input = '{}', name?: string): { executionArn: string; startDate: Date } {
    const machine = this.stateMachines.get(stateMachineArn);
    if (!machine) throw new SimulatedAwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    const executionName = name ?? this.context.random.uuid();
    if (executionName.length === 0 || executionName.length > 80 || INVALID_NAME.test(executionName)) {
      throw new SimulatedAwsError('InvalidName', `Invalid Name: '${executionName}'`);
    }
    assertPayloadLength('input', input);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SimulatedAwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input.slice(0, 100)}'`);
    }
    const executionArn = `arn:aws:states:${this.context.region}:${this.context.account}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Same name, still running, same input: the same execution (idempotent). Anything else: refused.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw new SimulatedAwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name: executionName,
      status: 'RUNNING',
      input,
      startDate: Date.now(),
      history: [],
      transitions: 0,
    };
    this.executions.set(executionArn, record);
    // The execution runs on Step Functions' side, not inside the caller (a Lambda function's logs must not get its events).
    outsideFunctionInvocations(() => this.run(machine, record, parsedInput));
    return { executionArn, startDate: new Date(record.startDate) };
  }

  private run(machine: StateMachineRecord, record: ExecutionRecord, input: unknown, resumeAt?: ResumePoint): void {
    const definition = resumeAt
      ? resumedDefinition(machine.definition, {
          stateName: resumeAt.stateName,
          ...(resumeAt.token.timeoutAt === undefined ? {} : { timeoutAt: resumeAt.token.timeoutAt }),
        })
      : machine.definition;
    const stateMachine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const overrides: Record<string, (taskInput: unknown) => Promise<unknown>> = {};
    let pendingResume = resumeAt;
    const tasks = taskStates(definition);
    for (const [stateName, state] of tasks) {
      overrides[stateName] = (taskInput) => {
        // A restored execution re-enters its waiting state: it waits on the token it had, without invoking anything again.
        if (pendingResume?.stateName === stateName) {
          const { token } = pendingResume;
          pendingResume = undefined;
          return token.promise;
        }
        return this.runTaskWithinLimits(record, stateName, state, taskInput);
      };
    }
    const newToken = (token: string): void => {
      this.newToken(token, record.executionArn);
    };
    const random = this.context.random;
    const context = {
      Execution: { Id: record.executionArn, Name: record.name, RoleArn: machine.roleArn, StartTime: new Date(record.startDate).toISOString() },
      StateMachine: { Id: machine.arn, Name: machine.name },
      Task: {
        // Each read of $$.Task.Token is one task's token.
        get Token(): string {
          const token = `AQC${random.chars(120, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')}`;
          newToken(token);
          return token;
        },
      },
    };
    const stateInputs = new Map<string, unknown>(resumeAt ? [[resumeAt.stateName, input]] : []);
    const translator = new HistoryTranslator(new Map(tasks.map(([name, state]) => [name, state.Resource])), (type, stateName, detail) => {
      // Once closed (stopped, or failed on a limit), the interpreter's remaining events are not the execution's.
      if (record.status === 'RUNNING') this.appendHistory(record, type, stateName, detail);
    });
    let skipResumedEntry = resumeAt !== undefined;
    observeSynchronously(stateMachine, (event, nested) => {
      if (!nested && event.type === 'StateEntered' && event.state) stateInputs.set(event.state.name, event.state.input);
      // A restored execution's history goes on where it stopped: no second start, no second entry into the waiting state.
      if (resumeAt && event.type === 'ExecutionStarted') return;
      if (skipResumedEntry && event.type === 'StateEntered' && event.state?.name === resumeAt?.stateName) {
        skipResumedEntry = false;
        return;
      }
      if (event.type === 'StateEntered' || event.type === 'StateRetried') record.transitions += 1;
      // A failed or timed-out task's tokens close: a late SendTask* gets TaskTimedOut.
      if (event.type === 'StateExited' || event.type === 'StateFailed') {
        this.closeTokens((t) => t.executionArn === record.executionArn && t.stateName === event.state?.name);
      }
      translator.translate(event);
      // A state's output (the next state's input, or the execution's output) is held to the payload quota; checked
      // here, as the state exits, so that nothing runs on an oversized input.
      if (!nested && event.type === 'StateExited' && event.state && payloadBytes(event.state.output) > MAX_PAYLOAD_BYTES) {
        this.failExecution(record, 'States.DataLimitExceeded', dataLimitCause(event.state.name));
      }
    });
    const execution = stateMachine.run(input as never, {
      context: context as never,
      overrides: { taskResourceLocalHandlers: overrides as never },
      noThrowOnAbort: true,
    });
    const done = (async () => {
      try {
        const output = await execution.result;
        if (record.status === 'RUNNING') {
          record.status = 'SUCCEEDED';
          record.output = JSON.stringify(output ?? null);
        }
      } catch (error) {
        if (record.status === 'RUNNING') {
          const failure = executionFailure(error);
          record.status = failure.timedOut ? 'TIMED_OUT' : 'FAILED';
          record.error = failure.error;
          record.cause = failure.cause;
        }
      }
      record.stopDate ??= Date.now();
      this.closeTokens((t) => t.executionArn === record.executionArn);
      this.running.delete(record.executionArn);
      this.stopChildren(record);
      this.emitStatusChange(record);
    })();
    this.running.set(record.executionArn, { abort: execution.abort, done, stateInputs });
    if (!resumeAt) this.emitStatusChange(record);
  }

  /** A Task's input (after Parameters) and its result are held to the payload quota; past it the execution fails. */
  private async runTaskWithinLimits(record: ExecutionRecord, stateName: string, state: AslState, input: unknown): Promise<unknown> {
    const subject = state.Resource.replace(/^arn:aws:states:::/, '');
    if (payloadBytes(input) > MAX_PAYLOAD_BYTES) throw terminalError('States.DataLimitExceeded', dataLimitCause(stateName));
    const result = await this.runTask(record, stateName, state, input);
    if (payloadBytes(result) > MAX_PAYLOAD_BYTES) throw terminalError('States.DataLimitExceeded', dataLimitCause(subject));
    return result;
  }

  /** Ends a running execution as FAILED with a service-side error (a quota), as AWS does: no Catch applies. */
  private failExecution(record: ExecutionRecord, error: string, cause: string): void {
    if (record.status !== 'RUNNING') return;
    record.status = 'FAILED';
    record.error = error;
    record.cause = cause;
    record.stopDate = Date.now();
    this.appendHistory(record, 'ExecutionFailed', undefined, { error, cause });
    this.closeTokens((t) => t.executionArn === record.executionArn);
    // At once, so that no further state starts (the interpreter checks its abort signal between states).
    this.running.get(record.executionArn)?.abort();
  }

  private async runTask(record: ExecutionRecord, stateName: string, state: AslState, input: unknown): Promise<unknown> {
    const resource = state.Resource;
    if (resource === 'arn:aws:states:::lambda:invoke' || resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      const { FunctionName, Payload } = input as { FunctionName: string; Payload?: unknown };
      if (resource.endsWith('.waitForTaskToken')) {
        const token = this.claimToken(record.executionArn, stateName, Payload);
        await this.invokeLambda(FunctionName, Payload, record.stateMachineArn);
        token.handedOut = true;
        return token.promise;
      }
      return {
        ExecutedVersion: '$LATEST',
        Payload: await this.invokeLambda(FunctionName, Payload, record.stateMachineArn),
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: this.context.random.uuid() },
        StatusCode: 200,
      };
    }
    if (resource.startsWith('arn:aws:lambda:')) return this.invokeLambda(resource, input, record.stateMachineArn);
    if (START_EXECUTION_RESOURCE.test(resource)) return runStartExecutionTask(this.nestedHost, record, resource, input);
    if (resource === 'arn:aws:states:::sns:publish' && this.integrations.publishToTopic) {
      const { TopicArn, Message, Subject } = input as { TopicArn: string; Message: unknown; Subject?: string };
      return this.integrations.publishToTopic(TopicArn, typeof Message === 'string' ? Message : JSON.stringify(Message), Subject, record.stateMachineArn);
    }
    throw terminalError('States.Runtime', `The sandbox does not implement the ${resource} integration`);
  }

  private async invokeLambda(functionName: string, payload: unknown, stateMachineArn: string): Promise<unknown> {
    try {
      return await this.integrations.invokeLambda(functionName, payload, stateMachineArn);
    } catch (error) {
      if (error instanceof LambdaFunctionError) {
        // Unhandled failures (timeouts, out of memory) have no error type of the function's own: Lambda.Unknown.
        if (error.errorType === 'Sandbox.Timedout') {
          throw Object.assign(new Error(`The cause could not be determined because Lambda did not return an error type. Returned payload: ${error.message}`), {
            name: 'Lambda.Unknown',
          });
        }
        // Otherwise the function's errorType is the error and its error payload the cause.
        throw Object.assign(new Error(error.message), { name: error.errorType });
      }
      throw error;
    }
  }

  /** Finds the token this task's input carries (the one `$$.Task.Token` produced) and binds it to the state. */
  private claimToken(executionArn: string, stateName: string, payload: unknown): TokenEntry {
    const strings: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(payload);
    for (const candidate of strings) {
      const entry = this.tokens.get(candidate);
      if (entry && entry.executionArn === executionArn && !entry.closed && entry.stateName === undefined) {
        entry.stateName = stateName;
        return entry;
      }
    }
    throw terminalError('States.Runtime', `${stateName}: a .waitForTaskToken task must pass $$.Task.Token in its parameters`);
  }

  /** The state machine whose execution handed out a task token (IAM authorizes SendTask* against it). */
  tokenStateMachine(taskToken: string): string | undefined {
    const entry = this.tokens.get(taskToken);
    return entry ? this.executions.get(entry.executionArn)?.stateMachineArn : undefined;
  }

  private liveToken(taskToken: string): TokenEntry {
    const entry = this.tokens.get(taskToken);
    if (!entry) throw new SimulatedAwsError('InvalidToken', 'Invalid Token');
    if (entry.closed) throw new SimulatedAwsError('TaskTimedOut', 'Task Timed Out');
    return entry;
  }

  private sendTaskSuccess(taskToken: string, output: string): object {
    assertPayloadLength('output', output);
    const entry = this.liveToken(taskToken);
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch {
      throw new SimulatedAwsError('InvalidOutput', 'Invalid Output');
    }
    entry.closed = true;
    entry.resolve(value);
    return {};
  }

  private sendTaskFailure(taskToken: string, error?: string, cause?: string): object {
    const entry = this.liveToken(taskToken);
    entry.closed = true;
    entry.reject(Object.assign(new Error(cause ?? ''), { name: error ?? '' }));
    return {};
  }

  private closeTokens(predicate: (entry: TokenEntry) => boolean): void {
    for (const entry of this.tokens.values()) if (!entry.closed && predicate(entry)) entry.closed = true;
  }

  /** A parent that closed other than SUCCEEDED stops the children its `.sync` tasks still wait on, as Step Functions does. */
  private stopChildren(parent: ExecutionRecord): void {
    const children = this.children.get(parent.executionArn);
    this.children.delete(parent.executionArn);
    if (!children || parent.status === 'SUCCEEDED') return;
    for (const child of children) {
      if (this.executions.get(child)?.status !== 'RUNNING') continue;
      try {
        this.integrations.authorizeCall?.(parent.stateMachineArn, 'sfn', 'StopExecution', { executionArn: child });
      } catch {
        // Without states:StopExecution the child runs on, as in AWS.
        continue;
      }
      this.stopExecution(child, 'States.Aborted', `The parent execution ${parent.executionArn} ended ${parent.status}`);
    }
  }

  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: Date } {
    const record = this.executions.get(executionArn);
    if (!record) throw new SimulatedAwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.stopDate = Date.now();
      if (error !== undefined) record.error = error;
      if (cause !== undefined) record.cause = cause;
      this.appendHistory(record, 'ExecutionAborted', undefined, { error, cause });
      this.running.get(executionArn)?.abort();
    }
    return { stopDate: new Date(record.stopDate ?? Date.now()) };
  }

  private describeExecution(executionArn: string): object {
    const record = this.executions.get(executionArn);
    if (!record) throw new SimulatedAwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return describeExecutionOutput(record);
  }

  private listExecutions(input: Record<string, unknown>): object {
    const arn = String(input.stateMachineArn ?? '');
    if (!this.stateMachines.has(arn)) throw new SimulatedAwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return listExecutionsOutput(this.listExecutionRecords(arn), input);
  }

  private getExecutionHistory(input: Record<string, unknown>): object {
    const executionArn = String(input.executionArn ?? '');
    const record = this.executions.get(executionArn);
    if (!record) throw new SimulatedAwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return executionHistoryOutput(record, this.stateMachines.get(record.stateMachineArn)?.roleArn, input);
  }

  private appendHistory(record: ExecutionRecord, type: string, stateName?: string, detail?: Record<string, unknown>): void {
    // The last event an execution may have is the ExecutionFailed that the history limit itself causes.
    if (record.status === 'RUNNING' && record.history.length >= MAX_HISTORY_EVENTS - 1) {
      this.failExecution(record, 'States.Runtime', HISTORY_LIMIT_CAUSE);
      return;
    }
    const event: HistoryEvent = {
      id: record.history.length + 1,
      timestamp: Date.now(),
      type,
      ...(stateName === undefined ? {} : { stateName }),
      ...(detail === undefined ? {} : { detail }),
    };
    record.history.push(event);
    for (const listener of this.historyListeners) listener(record, event);
  }
}
