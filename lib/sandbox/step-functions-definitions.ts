/**
 * What the Step Functions simulation reads from a definition: its Task states,
 * AWS's Task defaults the interpreter lacks, the definition a restored
 * execution resumes with, and execution names and failures as AWS states them.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** Where a restored execution picks up: the state it waits in, and when that wait times out. */
export interface ResumeTarget {
  readonly stateName: string;
  readonly timeoutAt?: number;
}

/** AWS's longest Task timeout when none is given is 99999999 s; timers here cap at ~24.8 days. */
const MAX_TIMER_SECONDS = 2_147_483;

// Execution names: no whitespace, no `<>{}[]?*"#%\^|~`$&,;:/`, no control characters.
// eslint-disable-next-line no-control-regex -- control characters are exactly what the rule forbids
export const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

export function executionFailure(error: unknown): { error: string; cause: string; timedOut: boolean } {
  const e = error as { name?: string; message?: string; cause?: unknown };
  if (e.name === 'ExecutionTimeoutError') return { error: 'States.Timeout', cause: 'The execution timed out', timedOut: true };
  // The interpreter wraps the state's error: ExecutionError(cause = the original error).
  const inner = (e.cause ?? error) as { name?: string; message?: string };
  return { error: inner.name ?? 'States.Runtime', cause: inner.message ?? String(inner), timedOut: false };
}

export type AslState = { Type: string; Resource: string; TimeoutSeconds?: number; TimeoutSecondsPath?: string } & Record<string, unknown>;

/** Every Task state, including those in Parallel branches and Map iterators. */
export function taskStates(definition: StateMachineDefinition): [string, AslState][] {
  const found: [string, AslState][] = [];
  const visit = (states: Record<string, AslState>): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        if (found.some(([n]) => n === name)) throw new Error(`Task state name ${name} is used twice; the sandbox needs unique Task names`);
        found.push([name, state]);
      }
      for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? []) visit(branch.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, AslState> } | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit((definition as unknown as { States: Record<string, AslState> }).States);
  return found;
}

/** AWS gives a Task without TimeoutSeconds no practical timeout; the interpreter's spec default is 60 s. */
export function withAwsTaskDefaults(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(definition) as unknown as { States: Record<string, AslState> };
  for (const [, state] of taskStates(copy as unknown as StateMachineDefinition)) {
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = MAX_TIMER_SECONDS;
  }
  return copy as unknown as StateMachineDefinition;
}

/** The definition a restored execution runs: it starts at its waiting state, which keeps only the time it had left. */
export function resumedDefinition(definition: StateMachineDefinition, resumeAt: ResumeTarget): StateMachineDefinition {
  const copy = structuredClone(definition) as unknown as { StartAt: string; States: Record<string, AslState> };
  copy.StartAt = resumeAt.stateName;
  const state = copy.States[resumeAt.stateName];
  if (state && resumeAt.timeoutAt !== undefined) {
    delete state.TimeoutSecondsPath;
    state.TimeoutSeconds = Math.max(1, Math.ceil((resumeAt.timeoutAt - Date.now()) / 1000));
  }
  return copy as unknown as StateMachineDefinition;
}

export function stateTimeoutSeconds(state: AslState, rawInput: unknown): number | undefined {
  if (typeof state.TimeoutSeconds === 'number') return state.TimeoutSeconds;
  if (typeof state.TimeoutSecondsPath !== 'string') return undefined;
  const value = state.TimeoutSecondsPath.replace(/^\$\.?/, '')
    .split('.')
    .filter((key) => key !== '')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), rawInput);
  return typeof value === 'number' ? value : undefined;
}
