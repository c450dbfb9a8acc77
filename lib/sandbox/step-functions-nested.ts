/**
 * The Step Functions service integration with itself, as AWS documents it
 * ("Start a new AWS Step Functions state machine from a running execution"):
 *
 * - `arn:aws:states:::states:startExecution` returns `{ExecutionArn, StartDate}`;
 * - `.sync` and `.sync:2` wait for the child to close and return its
 *   DescribeExecution response (PascalCase keys); `.sync:2` gives `Input` and
 *   `Output` as JSON, `.sync` as strings;
 * - a child that does not succeed fails the task with `States.TaskFailed`,
 *   whose cause is that same description (with the child's `Error` and `Cause`);
 * - stopping the parent stops the child.
 *
 * The state machine's role needs `states:StartExecution` on the child, and for
 * the `.sync` patterns `states:DescribeExecution`/`states:StopExecution` on its
 * executions and `events:PutTargets`/`PutRule`/`DescribeRule` on the managed
 * rule `StepFunctionsGetEventsForStepFunctionsExecutionRule`.
 */
import type { ExecutionRecord } from './step-functions-history';
import { terminalError } from './step-functions-history';

export const START_EXECUTION_RESOURCE = /^arn:aws:states:::states:startExecution(\.sync(:2)?)?$/;

/** The rule Step Functions manages to hear its child executions' status changes. */
export const MANAGED_EXECUTION_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

/** What the integration needs of the Step Functions service it runs in. */
export interface NestedExecutionHost {
  /** Authorizes one call the state machine's role makes; throws the task's error when denied. */
  authorize(stateMachineArn: string, service: 'sfn' | 'eventbridge', operation: string, input: Readonly<Record<string, unknown>>): void;
  startExecution(stateMachineArn: string, input: string, name?: string): { executionArn: string; startDate: Date };
  whenClosed(executionArn: string): Promise<ExecutionRecord>;
  /** Links a child to the parent execution that started it (stopped with it). */
  adopt(parentArn: string, childArn: string): void;
}

const parsed = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/** DescribeExecution as the integration returns it: PascalCase, dates in epoch milliseconds. */
export function describedForIntegration(child: ExecutionRecord, json: boolean): Record<string, unknown> {
  return {
    ExecutionArn: child.executionArn,
    StateMachineArn: child.stateMachineArn,
    Name: child.name,
    Status: child.status,
    StartDate: child.startDate,
    ...(child.stopDate === undefined ? {} : { StopDate: child.stopDate }),
    Input: json ? parsed(child.input) : child.input,
    InputDetails: { Included: true },
    ...(child.output === undefined ? {} : { Output: json ? parsed(child.output) : child.output, OutputDetails: { Included: true } }),
    ...(child.error === undefined ? {} : { Error: child.error }),
    ...(child.cause === undefined ? {} : { Cause: child.cause }),
  };
}

export async function runStartExecutionTask(host: NestedExecutionHost, parent: ExecutionRecord, resource: string, taskInput: unknown): Promise<unknown> {
  const pattern = START_EXECUTION_RESOURCE.exec(resource);
  if (!pattern) throw terminalError('States.Runtime', `The sandbox does not implement the ${resource} integration`);
  const sync = pattern[1] !== undefined;
  const json = pattern[2] !== undefined;
  const { StateMachineArn, Input, Name } = (taskInput ?? {}) as { StateMachineArn?: unknown; Input?: unknown; Name?: unknown };
  if (typeof StateMachineArn !== 'string') throw terminalError('States.Runtime', 'The startExecution integration needs a StateMachineArn parameter');
  const parentMachine = parent.stateMachineArn;
  host.authorize(parentMachine, 'sfn', 'StartExecution', { stateMachineArn: StateMachineArn });
  if (sync) {
    // Step Functions puts (and describes) its managed rule before it starts a child it waits for.
    host.authorize(parentMachine, 'eventbridge', 'DescribeRule', { Name: MANAGED_EXECUTION_RULE });
    host.authorize(parentMachine, 'eventbridge', 'PutRule', { Name: MANAGED_EXECUTION_RULE });
    host.authorize(parentMachine, 'eventbridge', 'PutTargets', { Rule: MANAGED_EXECUTION_RULE });
  }
  const input = Input === undefined ? '{}' : typeof Input === 'string' ? Input : JSON.stringify(Input);
  let started: { executionArn: string; startDate: Date };
  try {
    started = host.startExecution(StateMachineArn, input, typeof Name === 'string' ? Name : undefined);
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string };
    throw Object.assign(new Error(e.message ?? String(error)), { name: `StepFunctions.${e.code ?? e.name ?? 'SdkClientException'}` });
  }
  if (!sync) return { ExecutionArn: started.executionArn, StartDate: started.startDate.getTime() };
  host.adopt(parent.executionArn, started.executionArn);
  const child = await host.whenClosed(started.executionArn);
  host.authorize(parentMachine, 'sfn', 'DescribeExecution', { executionArn: child.executionArn });
  const described = describedForIntegration(child, json);
  if (child.status === 'SUCCEEDED') return described;
  throw Object.assign(new Error(JSON.stringify(described)), { name: 'States.TaskFailed' });
}
