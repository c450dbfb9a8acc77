/**
 * The Condition element ("IAM JSON policy elements: Condition operators"):
 * operators in a block are ANDed, keys under one operator are ANDed, the values
 * of one key are ORed. A key absent from the request makes a positive operator
 * false and a negated one (StringNotEquals, ArnNotLike, ...) true; `...IfExists`
 * makes an absent key true; `Null` tests presence. `ForAnyValue:` and
 * `ForAllValues:` compare multivalued keys. An operator this evaluator does not
 * know never lets an Allow apply, and always lets a Deny apply.
 */
import { splitArn, wildcardPattern } from './wildcards';

/** Condition keys of the request (`aws:SourceArn`, `ecs:cluster`, ...); a multivalued key is an array. */
export type RequestContext = Readonly<Record<string, string | readonly string[] | undefined>>;
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, string | boolean | number | readonly (string | boolean | number)[]>>>>;
export type CompiledCondition = (context: RequestContext) => boolean;

type ValueTest = (actual: string, expected: string) => boolean;

const arnTest: ValueTest = (actual, expected) => {
  const a = splitArn(actual);
  const e = splitArn(expected);
  if (!a || !e) return false;
  return e.every((segment, i) => wildcardPattern(segment).test(a[i] as string));
};
const numeric =
  (test: (a: number, e: number) => boolean): ValueTest =>
  (actual, expected) => {
    const [a, e] = [Number(actual), Number(expected)];
    return !Number.isNaN(a) && !Number.isNaN(e) && test(a, e);
  };
const date =
  (test: (a: number, e: number) => boolean): ValueTest =>
  (actual, expected) => {
    const parse = (v: string): number => (/^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v));
    const [a, e] = [parse(actual), parse(expected)];
    return !Number.isNaN(a) && !Number.isNaN(e) && test(a, e);
  };

/** Positive tests; each has a negated `...Not...` form. */
const OPERATORS: Record<string, { test: ValueTest; negated?: string }> = {
  StringEquals: { test: (a, e) => a === e, negated: 'StringNotEquals' },
  StringEqualsIgnoreCase: { test: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: 'StringNotEqualsIgnoreCase' },
  StringLike: { test: (a, e) => wildcardPattern(e).test(a), negated: 'StringNotLike' },
  ArnEquals: { test: arnTest, negated: 'ArnNotEquals' },
  ArnLike: { test: arnTest, negated: 'ArnNotLike' },
  NumericEquals: { test: numeric((a, e) => a === e), negated: 'NumericNotEquals' },
  NumericLessThan: { test: numeric((a, e) => a < e) },
  NumericLessThanEquals: { test: numeric((a, e) => a <= e) },
  NumericGreaterThan: { test: numeric((a, e) => a > e) },
  NumericGreaterThanEquals: { test: numeric((a, e) => a >= e) },
  DateEquals: { test: date((a, e) => a === e), negated: 'DateNotEquals' },
  DateLessThan: { test: date((a, e) => a < e) },
  DateLessThanEquals: { test: date((a, e) => a <= e) },
  DateGreaterThan: { test: date((a, e) => a > e) },
  DateGreaterThanEquals: { test: date((a, e) => a >= e) },
  Bool: { test: (a, e) => a.toLowerCase() === e.toLowerCase() },
};

interface OperatorSpec {
  readonly test: ValueTest;
  readonly negated: boolean;
}

const SPECS = new Map<string, OperatorSpec>();
for (const [name, { test, negated }] of Object.entries(OPERATORS)) {
  SPECS.set(name, { test, negated: false });
  if (negated) SPECS.set(negated, { test, negated: true });
}

/** Context keys are case-insensitive; values are compared as the operator says. */
function lookup(context: RequestContext, key: string): readonly string[] | undefined {
  const direct = context[key];
  const value = direct !== undefined ? direct : Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? [value] : value;
}

function compileOperator(name: string, keys: Readonly<Record<string, unknown>>): CompiledCondition | undefined {
  let operator = name;
  let set: 'ForAnyValue' | 'ForAllValues' | undefined;
  const prefix = /^(ForAnyValue|ForAllValues):(.+)$/.exec(operator);
  if (prefix) [set, operator] = [prefix[1] as 'ForAnyValue' | 'ForAllValues', prefix[2] as string];
  if (operator === 'Null') {
    const entries = Object.entries(keys).map(([key, value]) => [key, String(value).toLowerCase() === 'true'] as const);
    // Null: true means "the key is absent".
    return (context) => entries.every(([key, absent]) => (lookup(context, key) === undefined) === absent);
  }
  const ifExists = operator.endsWith('IfExists');
  const spec = SPECS.get(ifExists ? operator.slice(0, -'IfExists'.length) : operator);
  if (!spec) return undefined;
  const entries = Object.entries(keys).map(([key, value]) => [key, (Array.isArray(value) ? value : [value]).map(String)] as const);
  return (context) =>
    entries.every(([key, expected]) => {
      const actual = lookup(context, key);
      if (actual === undefined || (set === undefined && actual.length === 0)) {
        if (ifExists) return true;
        if (set === 'ForAllValues') return true;
        return spec.negated;
      }
      const matchesOne = (value: string): boolean => expected.some((e) => spec.test(value, e));
      if (set === 'ForAllValues') return actual.every((v) => (spec.negated ? !matchesOne(v) : matchesOne(v)));
      if (set === 'ForAnyValue') return actual.some((v) => (spec.negated ? !matchesOne(v) : matchesOne(v)));
      // A single-valued key: its value matches one of the policy's values (negated: none of them).
      const any = actual.some(matchesOne);
      return spec.negated ? !any : any;
    });
}

export function compileConditionBlock(block: ConditionBlock | undefined, effect: 'Allow' | 'Deny'): CompiledCondition {
  if (!block) return () => true;
  const tests: CompiledCondition[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    const test = compileOperator(operator, keys);
    // Unknown operator: never grant through it; a Deny that names it still applies.
    if (!test) return () => effect === 'Deny';
    tests.push(test);
  }
  return (context) => tests.every((t) => t(context));
}
