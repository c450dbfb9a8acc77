import { readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type AslStateMachine,
  expandRetryPolicies,
  forEachState,
  invokesLambda,
  lambdaTasksWithoutRetriers,
  placeholders,
  readAsl,
  readAslSource,
  STATE_MACHINES_DIRECTORY,
  substitute,
} from '../../lib/workflows/asl';
import { RETRY_POLICY_KEY, STANDARD_RETRIERS } from '../../lib/workflows/retry-policy';

const ASL_FILES = readdirSync(STATE_MACHINES_DIRECTORY)
  .filter((f) => f.endsWith('.asl.json'))
  .sort();

const STANDARD = { [RETRY_POLICY_KEY]: 'standard' };
const HEALTH_GATE_RETRIER = { ErrorEquals: ['HealthGateFailedError'], IntervalSeconds: 15, BackoffRate: 1, MaxAttempts: 1 };
const PAGE_RETRIER = { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 4 };

function lambdaTask(retry: unknown[] | undefined, resource = 'arn:aws:states:::lambda:invoke'): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: resource,
    Parameters: { FunctionName: '${StepFunctionArn}', 'Payload.$': '$' },
    ...(retry ? { Retry: retry } : {}),
    End: true,
  };
}

function machine(states: Record<string, unknown>): AslStateMachine {
  return { StartAt: Object.keys(states)[0], States: states } as AslStateMachine;
}

/** Lambda tasks at the top level, in a Parallel branch, in a Map ItemProcessor and in a legacy Map Iterator. */
function nested(retry: unknown[] | undefined): AslStateMachine {
  return machine({
    Top: { ...lambdaTask(retry), End: undefined, Next: 'Fan out' },
    'Fan out': { Type: 'Parallel', Branches: [machine({ 'In branch': lambdaTask(retry) })], Next: 'Each item' },
    'Each item': { Type: 'Map', ItemProcessor: machine({ 'In map': lambdaTask(retry) }), Next: 'Each legacy item' },
    'Each legacy item': { Type: 'Map', Iterator: machine({ 'In iterator': lambdaTask(retry) }), End: true },
  });
}

const expand = (definition: AslStateMachine): AslStateMachine => JSON.parse(expandRetryPolicies(JSON.stringify(definition), 'test')) as AslStateMachine;

describe('the ASL files', () => {
  it.each(ASL_FILES)('%s: every Lambda task, nested ones included, retries with the standard retriers', (file) => {
    const definition = JSON.parse(readAsl(file)) as AslStateMachine;
    let lambdaTasks = 0;
    forEachState(definition, (state) => {
      if (invokesLambda(state)) lambdaTasks++;
    });
    expect(lambdaTasks).toBeGreaterThan(0);
    expect(lambdaTasksWithoutRetriers(definition, STANDARD_RETRIERS)).toEqual([]);
  });

  it.each(ASL_FILES)('%s: the expanded definition holds no policy marker', (file) => {
    expect(readAsl(file)).not.toContain(RETRY_POLICY_KEY);
  });

  it.each(ASL_FILES)('%s: names the standard retriers instead of spelling them out', (file) => {
    // A pasted copy would drift from the policy unnoticed; the source must use the marker.
    const source = JSON.parse(readAslSource(file)) as AslStateMachine;
    const spelledOut: string[] = [];
    forEachState(source, (state, path) => {
      if (state.Retry?.some((entry) => STANDARD_RETRIERS.some((r) => isDeepStrictEqual(entry, r)))) spelledOut.push(path);
    });
    expect(spelledOut).toEqual([]);
    expect(readAslSource(file)).toContain(`"${RETRY_POLICY_KEY}": "standard"`);
  });

  it.each(ASL_FILES)('%s: expansion keeps every placeholder, and substitution fills them', (file) => {
    const expanded = readAsl(file);
    const names = placeholders(expanded);
    expect(names).toEqual(placeholders(readAslSource(file)));
    expect(placeholders(substitute(expanded, Object.fromEntries(names.map((n) => [n, `value-of-${n}`]))))).toEqual([]);
  });
});

describe('expanding retry policies', () => {
  it('replaces the marker with the standard retriers, in Parallel branches and Map states too', () => {
    expect(expand(nested([STANDARD]))).toEqual(nested([...STANDARD_RETRIERS]));
  });

  it('keeps explicit retriers before and after the marker in their order', () => {
    const expanded = expand(machine({ Step: lambdaTask([PAGE_RETRIER, STANDARD, HEALTH_GATE_RETRIER]) }));
    expect(expanded.States.Step?.Retry).toEqual([PAGE_RETRIER, ...STANDARD_RETRIERS, HEALTH_GATE_RETRIER]);
  });

  it('leaves a definition without markers as it was', () => {
    const definition = machine({ Step: lambdaTask([PAGE_RETRIER]), Page: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } });
    expect(expand(definition)).toEqual(definition);
  });

  it('refuses an unknown policy, including names found on every object', () => {
    expect(() => expand(machine({ Step: lambdaTask([{ [RETRY_POLICY_KEY]: 'aggressive' }]) }))).toThrow(/test: Step: unknown retry policy "aggressive"/);
    expect(() => expand(machine({ Step: lambdaTask([{ [RETRY_POLICY_KEY]: 'constructor' }]) }))).toThrow(/unknown retry policy "constructor"/);
  });

  it('refuses a marker that carries other fields, which expansion would drop', () => {
    expect(() => expand(machine({ Step: lambdaTask([{ ...STANDARD, MaxAttempts: 2 }]) }))).toThrow(/names a policy and holds nothing else/);
  });

  it('refuses a marker anywhere but a Retry entry, so none reaches Step Functions', () => {
    const inCatch = machine({ Step: { ...lambdaTask(undefined), Catch: [{ ErrorEquals: ['States.ALL'], ...STANDARD, Next: 'Step' }] } });
    expect(() => expand(inCatch)).toThrow(/allowed only as an entry of a state's Retry list, found at \$\.States\.Step\.Catch\[0\]/);
    const asWholeRetry = machine({ Step: { ...lambdaTask(undefined), Retry: STANDARD } });
    expect(() => expand(asWholeRetry)).toThrow(/found at \$\.States\.Step\.Retry/);
  });
});

describe('the standard retriers check', () => {
  it('passes when every Lambda task has them, wherever other retriers sit', () => {
    const definition = expand(
      machine({ Before: { ...lambdaTask([PAGE_RETRIER, STANDARD]), End: undefined, Next: 'After' }, After: lambdaTask([STANDARD, HEALTH_GATE_RETRIER]) }),
    );
    expect(lambdaTasksWithoutRetriers(definition, STANDARD_RETRIERS)).toEqual([]);
  });

  it('names each Lambda task without them, nested ones included', () => {
    expect(lambdaTasksWithoutRetriers(nested(undefined), STANDARD_RETRIERS)).toEqual([
      'Top',
      'Fan out / In branch',
      'Each item / In map',
      'Each legacy item / In iterator',
    ]);
    expect(lambdaTasksWithoutRetriers(nested([HEALTH_GATE_RETRIER]), STANDARD_RETRIERS)).toHaveLength(4);
  });

  it('fails when one task of many loses them', () => {
    const definition = expand(nested([STANDARD]));
    const inMap = definition.States['Each item']?.ItemProcessor?.States['In map'];
    if (inMap) delete inMap.Retry;
    expect(lambdaTasksWithoutRetriers(definition, STANDARD_RETRIERS)).toEqual(['Each item / In map']);
  });

  it('fails on a retrier that differs from the standard one in any field', () => {
    const weakened = [{ ...STANDARD_RETRIERS[0], MaxAttempts: 2 }];
    expect(lambdaTasksWithoutRetriers(machine({ Step: lambdaTask(weakened) }), STANDARD_RETRIERS)).toEqual(['Step']);
    const fewerErrors = [{ ...STANDARD_RETRIERS[0], ErrorEquals: ['AwsTransientError'] }];
    expect(lambdaTasksWithoutRetriers(machine({ Step: lambdaTask(fewerErrors) }), STANDARD_RETRIERS)).toEqual(['Step']);
  });

  it('counts callback and direct-ARN Lambda tasks, and ignores other tasks', () => {
    const definition = machine({
      Callback: { ...lambdaTask(undefined, 'arn:aws:states:::lambda:invoke.waitForTaskToken'), End: undefined, Next: 'Direct' },
      Direct: { ...lambdaTask(undefined, '${StepFunctionArn}'), End: undefined, Next: 'Page' },
      Page: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Retry: [PAGE_RETRIER], End: true },
    });
    expect(lambdaTasksWithoutRetriers(definition, STANDARD_RETRIERS)).toEqual(['Callback', 'Direct']);
  });
});
