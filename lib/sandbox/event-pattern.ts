/**
 * EventBridge event-pattern matching, as documented: fields AND together; a leaf
 * array ORs its values; an event array matches when it intersects the pattern;
 * arrays of objects are matched element-wise; comparison operators (prefix,
 * suffix, equals-ignore-case, wildcard, anything-but, numeric, cidr, exists) work
 * on leaf values; `$or` ORs sub-patterns. Strings match exactly, without folding.
 */
import { SimulatedAwsError } from './aws-error';

export type EventPattern = { readonly [field: string]: unknown };

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'cidr', 'exists']);

/** Throws InvalidEventPatternException for a pattern EventBridge would refuse. */
export function validateEventPattern(pattern: unknown, path = ''): void {
  if (!isPlainObject(pattern)) throw invalid(`${path || 'pattern'} must be a JSON object`);
  for (const [field, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${field}` : field;
    if (field === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw invalid(`${here} must be an array of at least two patterns`);
      value.forEach((sub, i) => validateEventPattern(sub, `${here}[${i}]`));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw invalid(`${here} must not be an empty array`);
      for (const matcher of value) {
        if (isPlainObject(matcher)) {
          const keys = Object.keys(matcher);
          if (keys.length !== 1 || !OPERATORS.has(keys[0] as string)) throw invalid(`${here} has an unknown operator ${JSON.stringify(matcher)}`);
        } else if (Array.isArray(matcher)) {
          throw invalid(`${here} must not nest arrays`);
        }
      }
    } else if (isPlainObject(value)) {
      validateEventPattern(value, here);
    } else {
      throw invalid(`${here} must be an array or an object`);
    }
  }
}

function invalid(message: string): SimulatedAwsError {
  return new SimulatedAwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${message}`);
}

export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  if (!isPlainObject(event)) return false;
  return Object.entries(pattern).every(([field, expected]) => {
    if (field === '$or') return (expected as EventPattern[]).some((sub) => matchesEventPattern(sub, event));
    const actual = event[field];
    if (Array.isArray(expected)) return matchesLeaf(expected as Json[], actual);
    // Nested object pattern: the event must have an object (or objects in an array) there.
    if (Array.isArray(actual)) return actual.some((element) => matchesEventPattern(expected as EventPattern, element));
    return matchesEventPattern(expected as EventPattern, actual);
  });
}

function matchesLeaf(matchers: readonly Json[], actual: unknown): boolean {
  // Exists works on leaf values only: an object is not a leaf.
  const isLeaf = actual !== undefined && !isPlainObject(actual);
  return matchers.some((matcher) => {
    if (isPlainObject(matcher) && 'exists' in matcher) return matcher.exists === isLeaf;
    if (!isLeaf) return false;
    const values = Array.isArray(actual) ? actual : [actual];
    return values.some((value) => matchesValue(matcher, value));
  });
}

function matchesValue(matcher: Json, value: unknown): boolean {
  if (!isPlainObject(matcher)) return matcher === value;
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
      return typeof value === 'string' && typeof operand === 'string' && ipv4InCidr(value, operand);
    default:
      return false;
  }
}

function stringTest(operand: Json, value: string, test: (value: string, operand: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  if (isPlainObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  return false;
}

function anythingButExcludes(operand: Json, value: unknown): boolean {
  if (Array.isArray(operand)) return operand.includes(value as Json);
  if (isPlainObject(operand)) return matchesValue(operand, value);
  return operand === value;
}

function numericMatches(conditions: readonly Json[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1] as number;
    const ok =
      op === '=' ? value === bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '>' ? value > bound : op === '>=' ? value >= bound : false;
    if (!ok) return false;
  }
  return true;
}

function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      source += (pattern[i + 1] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i += 1;
    } else if (c === '*') {
      source += '.*';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function ipv4InCidr(ip: string, cidr: string): boolean {
  const toNumber = (address: string): number | undefined => {
    const parts = address.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return parts.reduce((n, p) => n * 256 + p, 0);
  };
  const [base, bitsText] = cidr.split('/');
  const address = toNumber(ip);
  const network = toNumber(base ?? '');
  const bits = Number(bitsText);
  if (address === undefined || network === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(network / size);
}
