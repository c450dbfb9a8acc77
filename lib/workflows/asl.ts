/**
 * ASL files and their `${...}` placeholders. CDK passes the substitutions to
 * Step Functions (definitionSubstitutions); the sandbox applies the same ones.
 *
 * Shared retriers: in a state's Retry list, the entry
 *
 *   "Retry": [{ "RetryPolicy": "standard" }]
 *
 * stands for the retriers of that name in retry-policy.ts, spliced in its
 * place. Explicit retriers may sit before or after it and keep their order
 * (Step Functions tries retriers in order, the first match wins):
 *
 *   "Retry": [{ "RetryPolicy": "standard" }, { "ErrorEquals": ["HealthGateFailedError"], ... }]
 *
 * The entry is not ASL, so readAsl expands it on load, for CDK and the sandbox
 * alike, and refuses a file whose entry it cannot expand: the marker never
 * reaches Step Functions.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { RETRY_POLICIES, RETRY_POLICY_KEY, type Retrier } from './retry-policy';

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

export const STATE_MACHINES_DIRECTORY = fileURLToPath(new URL('../../state-machines/', import.meta.url));

/** The parts of an ASL definition this module walks; everything else passes through untouched. */
export interface AslStateMachine {
  States: Record<string, AslState>;
  [key: string]: unknown;
}

export interface AslState {
  Type: string;
  Resource?: string;
  Retry?: unknown[];
  Branches?: AslStateMachine[];
  ItemProcessor?: AslStateMachine;
  /** The pre-ItemProcessor spelling of a Map state's inner machine. */
  Iterator?: AslStateMachine;
  [key: string]: unknown;
}

export function aslPath(file: string): string {
  return `${STATE_MACHINES_DIRECTORY}${file}`;
}

/** The file as written, retry policies unexpanded: not valid ASL. */
export function readAslSource(file: string): string {
  return readFileSync(aslPath(file), 'utf8');
}

const loadedAsl = new Map<string, string>();

/** The file as Step Functions gets it: retry policies expanded, `${...}` placeholders left for substitute. */
export function readAsl(file: string): string {
  // The ASL files do not change while Assure runs: every sandbox a command or test opens reuses the first load.
  let asl = loadedAsl.get(file);
  if (asl === undefined) {
    asl = expandRetryPolicies(readAslSource(file), file);
    loadedAsl.set(file, asl);
  }
  return asl;
}

/**
 * Replaces each `{ "RetryPolicy": name }` Retry entry with that policy's
 * retriers; `source` names the definition in errors.
 */
export function expandRetryPolicies(asl: string, source = 'ASL'): string {
  const definition = JSON.parse(asl) as AslStateMachine;
  forEachState(definition, (state, path) => {
    if (Array.isArray(state.Retry)) state.Retry = state.Retry.flatMap((entry) => expandRetryEntry(entry, `${source}: ${path}`));
  });
  const stray = markerPaths(definition, '$');
  if (stray.length > 0) throw new Error(`${source}: "${RETRY_POLICY_KEY}" is allowed only as an entry of a state's Retry list, found at ${stray.join(', ')}`);
  // Compact: the definition now sits in the template (not an S3 asset), where indentation only adds bytes.
  return JSON.stringify(definition);
}

function expandRetryEntry(entry: unknown, where: string): unknown[] {
  if (!isRecord(entry) || !(RETRY_POLICY_KEY in entry)) return [entry];
  if (Object.keys(entry).length !== 1) throw new Error(`${where}: a "${RETRY_POLICY_KEY}" entry names a policy and holds nothing else`);
  const name = entry[RETRY_POLICY_KEY];
  // hasOwn: a name such as "constructor" must not resolve through the prototype.
  if (typeof name !== 'string' || !Object.hasOwn(RETRY_POLICIES, name)) {
    throw new Error(`${where}: unknown retry policy ${JSON.stringify(name)} (known: ${Object.keys(RETRY_POLICIES).join(', ')})`);
  }
  return [...(RETRY_POLICIES[name] as readonly Retrier[])];
}

/** JSON paths of every object that still holds the marker key. */
function markerPaths(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => markerPaths(item, `${path}[${i}]`));
  if (!isRecord(value)) return [];
  return [...(RETRY_POLICY_KEY in value ? [path] : []), ...Object.entries(value).flatMap(([key, item]) => markerPaths(item, `${path}.${key}`))];
}

/**
 * Visits every state, including those inside Parallel branches and Map item
 * processors; `path` names a nested state by its enclosing states, joined by " / ".
 */
export function forEachState(definition: AslStateMachine, visit: (state: AslState, path: string) => void, prefix = ''): void {
  for (const [name, state] of Object.entries(definition.States)) {
    const path = `${prefix}${name}`;
    visit(state, path);
    for (const branch of state.Branches ?? []) forEachState(branch, visit, `${path} / `);
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) forEachState(inner, visit, `${path} / `);
  }
}

/** A Task state that calls a Lambda function: through the lambda:invoke integration (any pattern) or by function ARN. */
export function invokesLambda(state: AslState): boolean {
  if (state.Type !== 'Task' || state.Resource === undefined) return false;
  return (
    state.Resource.startsWith('arn:aws:states:::lambda:invoke') ||
    state.Resource.startsWith('arn:aws:lambda:') ||
    /^\$\{[A-Za-z0-9_]+FunctionArn\}$/.test(state.Resource)
  );
}

/**
 * Paths of the Lambda Task states whose Retry list does not hold `retriers`
 * as one unbroken run, in order (other retriers may come before or after).
 */
export function lambdaTasksWithoutRetriers(definition: AslStateMachine, retriers: readonly Retrier[]): string[] {
  const missing: string[] = [];
  forEachState(definition, (state, path) => {
    if (invokesLambda(state) && !containsRun(state.Retry ?? [], retriers)) missing.push(path);
  });
  return missing;
}

function containsRun(list: readonly unknown[], run: readonly unknown[]): boolean {
  for (let start = 0; start + run.length <= list.length; start++) {
    if (run.every((item, i) => isDeepStrictEqual(list[start + i], item))) return true;
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function placeholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/** Substitutes every placeholder; a missing substitution is an error, as in CloudFormation. */
export function substitute(asl: string, substitutions: Readonly<Record<string, string>>): string {
  return asl.replace(PLACEHOLDER, (_match, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`No substitution for \${${name}}`);
    return value;
  });
}
