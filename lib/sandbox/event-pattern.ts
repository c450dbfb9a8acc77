/**
 * EventBridge event patterns, as the user guide and aws/event-ruler (the
 * matcher EventBridge uses) document them. Validation refuses what PutRule
 * refuses (InvalidEventPatternException, with event-ruler's reasons); matching:
 * fields AND together, a leaf array ORs its values, an event array matches when
 * any element does (objects in arrays element-wise), `$or` ORs sub-patterns, and
 * a field under an absent or non-object parent is absent. Strings match exactly.
 */
import { SimulatedAwsError } from './aws-error';
import { ipInCidr, parseCidr, sameIp } from './ip-address';

export type EventPattern = { readonly [field: string]: unknown };

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Match-expression names; event-ruler also refuses them as field names inside `$or`. */
const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'cidr', 'exists']);

const invalid = (reason: string): SimulatedAwsError => new SimulatedAwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);

/** Throws InvalidEventPatternException for a pattern PutRule would refuse. */
export function validateEventPattern(pattern: unknown): void {
  if (!isPlainObject(pattern)) throw invalid('Filter is not an object');
  validateObject(pattern, false);
}

function validateObject(pattern: Record<string, unknown>, insideOr: boolean): void {
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw invalid('Empty objects are not allowed');
  for (const [field, value] of entries) {
    if (field === '$or' && Array.isArray(value)) {
      if (value.some((sub) => !isPlainObject(sub))) throw invalid('Only JSON object is allowed in array of $or relationship.');
      if (value.length < 2) throw invalid('There must have at least 2 Objects in $or relationship.');
      for (const sub of value as Record<string, unknown>[]) validateObject(sub, true);
      continue;
    }
    if (insideOr && OPERATORS.has(field)) throw invalid(`${field} is Ruler reserved fieldName which cannot be used inside $or.`);
    if (Array.isArray(value)) validateValues(value);
    else if (isPlainObject(value)) validateObject(value, insideOr);
    else throw invalid(`"${field}" must be an object or an array`);
  }
}

function validateValues(values: readonly unknown[]): void {
  if (values.length === 0) throw invalid('Empty arrays are not allowed');
  for (const value of values) {
    if (isPlainObject(value)) validateMatchExpression(value);
    else if (Array.isArray(value)) throw invalid('Match value must be String, number, true, false, or null');
  }
}

function validateMatchExpression(expression: Record<string, unknown>): void {
  const keys = Object.keys(expression);
  if (keys.length === 0) throw invalid('Match expression name not found');
  if (keys.length > 1) throw invalid('Only one key allowed in match expression');
  const operator = keys[0] as string;
  const operand = expression[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (!isString(operand) && !isIgnoreCaseString(operand)) throw invalid(`${operator} match pattern must be a string`);
      return;
    case 'equals-ignore-case':
      if (!isString(operand)) throw invalid('equals-ignore-case match pattern must be a string');
      return;
    case 'wildcard':
      if (!isString(operand)) throw invalid('wildcard match pattern must be a string');
      validateWildcard(operand);
      return;
    case 'anything-but':
      validateAnythingBut(operand);
      return;
    case 'numeric':
      validateNumeric(operand);
      return;
    case 'cidr':
      if (!isString(operand)) throw invalid('prefix match pattern must be a string');
      if (!parseCidr(operand)) throw invalid(`Invalid CIDR: ${operand}`);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw invalid('exists match pattern must be either true or false.');
      return;
    default:
      throw invalid(`Unrecognized match type ${operator}`);
  }
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isIgnoreCaseString = (value: unknown): boolean =>
  isPlainObject(value) && Object.keys(value).length === 1 && typeof value['equals-ignore-case'] === 'string';

function validateAnythingBut(operand: unknown): void {
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) throw invalid(keys.length === 0 ? 'Anything-But expression name not found' : 'Only one key allowed in match expression');
    const [inner] = keys as [string];
    const value = operand[inner];
    const strings = (v: unknown): boolean => isString(v) || (Array.isArray(v) && v.length > 0 && v.every(isString));
    if (inner === 'prefix' || inner === 'suffix') {
      if (!strings(value)) throw invalid('prefix/suffix match pattern must be a string');
      if (value === '') throw invalid('Null prefix/suffix not allowed');
    } else if (inner === 'equals-ignore-case') {
      if (!strings(value)) throw invalid('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.');
    } else if (inner === 'wildcard') {
      if (!strings(value)) throw invalid('wildcard match pattern must be a string');
      for (const w of [value].flat() as string[]) validateWildcard(w);
    } else {
      throw invalid(`Unsupported anything-but pattern: ${inner}`);
    }
    return;
  }
  if (Array.isArray(operand)) {
    if (operand.some((v) => !isString(v) && typeof v !== 'number')) throw invalid('Inside anything but list, start|null|boolean is not supported.');
    const hasString = operand.some(isString);
    const hasNumber = operand.some((v) => typeof v === 'number');
    if (hasString === hasNumber) throw invalid('Inside anything but list, either all values are number or string, mixed type is not supported');
    return;
  }
  if (!isString(operand) && typeof operand !== 'number') throw invalid('Value of anything-but must be an array or single string/number value.');
}

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

function validateNumeric(operand: unknown): void {
  if (!Array.isArray(operand)) throw invalid('Value of numeric must be an array.');
  const [op, value, op2, value2, ...rest] = operand as unknown[];
  if (!isString(op)) throw invalid(`Invalid member in numeric match: ${JSON.stringify(op ?? null)}`);
  if (op !== '=' && !LOWER_BOUNDS.has(op) && !UPPER_BOUNDS.has(op)) throw invalid(`Unrecognized numeric range operator: ${op}`);
  if (typeof value !== 'number') throw invalid(`Value of ${op} must be numeric`);
  if (operand.length === 2) return;
  if (!LOWER_BOUNDS.has(op)) throw invalid('Too many elements in numeric expression');
  if (!isString(op2)) throw invalid(`Bad value in numeric range: ${JSON.stringify(op2 ?? null)}`);
  if (!UPPER_BOUNDS.has(op2)) throw invalid(`Bad numeric range operator: ${op2}`);
  if (typeof value2 !== 'number') throw invalid(`Value of ${op2} must be numeric`);
  if (rest.length > 0) throw invalid('Too many terms in numeric range expression');
  if (value >= value2) throw invalid('Bottom must be less than top');
}

/** event-ruler: no consecutive `*`; a backslash escapes only `*` or a backslash. */
function validateWildcard(pattern: string): void {
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw invalid(`Invalid escape character at pos ${i}`);
      i += 1;
    } else if (c === '*' && pattern[i + 1] === '*') {
      throw invalid(`Consecutive wildcard characters at pos ${i + 1}`);
    }
  }
}

export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    if (field === '$or' && Array.isArray(expected)) return (expected as EventPattern[]).some((sub) => matchesEventPattern(sub, event));
    // A field under an absent or non-object parent is absent.
    const actual = isPlainObject(event) ? event[field] : undefined;
    if (Array.isArray(expected)) return matchesLeaf(expected as Json[], actual);
    // Nested object pattern: matched against an object, or any object element of an array (element-wise).
    if (Array.isArray(actual) && actual.length > 0) return actual.some((element) => matchesEventPattern(expected as EventPattern, element));
    return matchesEventPattern(expected as EventPattern, actual);
  });
}

function matchesLeaf(matchers: readonly Json[], actual: unknown): boolean {
  // Exists works on leaf values only: an object is not a leaf, nor is an array holding no leaf.
  const values = (Array.isArray(actual) ? actual : actual === undefined ? [] : [actual]).filter((v) => !isPlainObject(v) && !Array.isArray(v));
  return matchers.some((matcher) => {
    if (isPlainObject(matcher) && 'exists' in matcher) return matcher.exists === values.length > 0;
    return values.some((value) => matchesValue(matcher, value));
  });
}

function matchesValue(matcher: Json, value: unknown): boolean {
  if (!isPlainObject(matcher)) {
    // event-ruler compiles a string that is an IP address into an address match (so 2001:db8::1 equals 2001:DB8:0:0:0:0:0:1).
    if (typeof matcher === 'string' && typeof value === 'string' && matcher !== value) return sameIp(matcher, value);
    return matcher === value;
  }
  const [operator, operand] = Object.entries(matcher)[0] as [string, Json];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && stringTest(operand, value, (v, p) => v.startsWith(p));
    case 'suffix':
      return typeof value === 'string' && stringTest(operand, value, (v, s) => v.endsWith(s));
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && typeof operand === 'string' && wildcardRegExp(operand).test(value);
    case 'anything-but':
      return !anythingButExcludes(operand, value);
    case 'numeric':
      return typeof value === 'number' && numericMatches(operand as Json[], value);
    case 'cidr':
      return typeof value === 'string' && typeof operand === 'string' && ipInCidr(value, operand);
    default:
      return false;
  }
}

function stringTest(operand: Json, value: string, test: (value: string, operand: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  if (isPlainObject(operand) && typeof operand['equals-ignore-case'] === 'string')
    return test(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  return false;
}

function anythingButExcludes(operand: Json, value: unknown): boolean {
  if (Array.isArray(operand)) return operand.includes(value as Json);
  if (isPlainObject(operand)) {
    // anything-but {prefix|suffix|equals-ignore-case|wildcard}: one value or a list of them.
    const [inner, listed] = Object.entries(operand)[0] as [string, Json];
    return [listed].flat().some((one) => matchesValue({ [inner]: one }, value));
  }
  return operand === value;
}

function numericMatches(conditions: readonly Json[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1] as number;
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : false;
    if (!ok) return false;
  }
  return true;
}

function wildcardRegExp(pattern: string): RegExp {
  const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      source += escape(pattern[i + 1] as string);
      i += 1;
    } else {
      source += c === '*' ? '.*' : escape(c);
    }
  }
  return new RegExp(`^${source}$`, 's');
}
