/**
 * EventBridge event patterns: documented examples, each with the page it comes
 * from, matched and validated by the sandbox as EventBridge does.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedAwsError } from '../../lib/sandbox/aws-error';
import { SeededRandom } from '../../lib/sandbox/deterministic';
import { matchesEventPattern, validateEventPattern } from '../../lib/sandbox/event-pattern';
import { SimulatedEventBridge } from '../../lib/sandbox/simulated-eventbridge';

const CONTENT_FILTERING = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html';
const OPERATORS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html';
const EVENT_PATTERNS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html';
const NULL_VALUES = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html';
const EVENT_RULER = 'https://github.com/aws/event-ruler/blob/main/README.md';
const RULE_COMPILER = 'https://github.com/aws/event-ruler/blob/main/src/main/software/amazon/event/ruler/JsonRuleCompiler.java';

/** The sample event of the event-ruler README ("Ruler by Example"). */
const RULER_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.33', 'instance-id': 'i-000000aaaaaa00000', state: 'running' },
};

interface Case {
  readonly name: string;
  readonly source: string;
  readonly pattern: Record<string, unknown>;
  readonly matches: readonly unknown[];
  readonly misses: readonly unknown[];
}

const d = (detail: Record<string, unknown>): Record<string, unknown> => ({ source: 'aws.ec2', detail });

const CASES: readonly Case[] = [
  {
    name: 'simple matching: fields AND, listed values OR, an event array intersects',
    source: EVENT_RULER,
    pattern: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    },
    matches: [RULER_EVENT, { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, state: 'initializing' } }],
    misses: [
      { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, state: 'stopped' } },
      { ...RULER_EVENT, resources: ['arn:other'] },
    ],
  },
  {
    name: 'And: Location is "New York" and Day is "Monday"',
    source: OPERATORS,
    pattern: { Location: ['New York'], Day: ['Monday'] },
    matches: [{ Location: 'New York', Day: 'Monday' }],
    misses: [{ Location: 'New York', Day: 'Tuesday' }, { Location: 'New York' }],
  },
  {
    name: 'prefix on time',
    source: CONTENT_FILTERING,
    pattern: { time: [{ prefix: '2017-10-02' }] },
    matches: [{ time: '2017-10-02T18:43:48Z' }],
    misses: [{ time: '2017-10-03T18:43:48Z' }],
  },
  {
    name: 'prefix works on string values only',
    source: EVENT_RULER,
    pattern: { detail: { code: [{ prefix: '12' }] } },
    matches: [d({ code: '123' })],
    misses: [d({ code: 123 })],
  },
  {
    name: 'prefix with equals-ignore-case',
    source: CONTENT_FILTERING,
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    matches: [d({ service: 'EventBridge' }), d({ service: 'EVENTBRIDGE' }), d({ service: 'eventb' })],
    misses: [d({ service: 'SNS' })],
  },
  {
    name: 'Begins with: Region is in the US',
    source: OPERATORS,
    pattern: { Region: [{ prefix: 'us-' }] },
    matches: [{ Region: 'us-east-1' }],
    misses: [{ Region: 'eu-west-2' }],
  },
  {
    name: 'suffix on FileName',
    source: CONTENT_FILTERING,
    pattern: { FileName: [{ suffix: '.png' }] },
    matches: [{ FileName: 'image.png' }],
    misses: [{ FileName: 'image.PNG' }, { FileName: 'image.jpg' }],
  },
  {
    name: 'suffix with equals-ignore-case',
    source: CONTENT_FILTERING,
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    matches: [d({ FileName: 'image.png' }), d({ FileName: 'image.PNG' })],
    misses: [d({ FileName: 'image.gif' })],
  },
  {
    name: 'suffix on source',
    source: EVENT_RULER,
    pattern: { source: [{ suffix: 'ec2' }] },
    matches: [RULER_EVENT],
    misses: [{ source: 'aws.ecs' }],
  },
  {
    name: 'equals-ignore-case',
    source: EVENT_RULER,
    pattern: { source: [{ 'equals-ignore-case': 'EC2' }] },
    matches: [{ source: 'ec2' }, { source: 'Ec2' }],
    misses: [RULER_EVENT],
  },
  {
    name: 'wildcard',
    source: EVENT_RULER,
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    matches: [{ source: 'SimpleService' }, { source: 'SimpleQueueService' }],
    misses: [{ source: 'SimpleServices' }, { source: 'simpleQueueService' }],
  },
  {
    name: 'wildcard: a backslash escapes the asterisk',
    source: EVENT_RULER,
    pattern: { name: [{ wildcard: 'a\\*b' }] },
    matches: [{ name: 'a*b' }],
    misses: [{ name: 'axxb' }],
  },
  {
    name: 'anything-but a string, and a number',
    source: CONTENT_FILTERING,
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }], 'x-limit': [{ 'anything-but': 123 }] } },
    matches: [d({ state: 'running', 'x-limit': 124 })],
    misses: [d({ state: 'initializing', 'x-limit': 124 }), d({ state: 'running', 'x-limit': 123 }), d({ 'x-limit': 124 })],
  },
  {
    name: 'anything-but a list of strings',
    source: CONTENT_FILTERING,
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    matches: [d({ state: 'running' })],
    misses: [d({ state: 'stopped' }), d({ state: 'overloaded' })],
  },
  {
    name: 'anything-but a list of numbers',
    source: CONTENT_FILTERING,
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    matches: [d({ 'x-limit': 301.8 })],
    misses: [d({ 'x-limit': 200 })],
  },
  {
    name: 'anything-but prefix',
    source: CONTENT_FILTERING,
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    matches: [d({ state: 'running' })],
    misses: [d({ state: 'initializing' })],
  },
  {
    name: 'Anything-but (begins with): Region is not in the US',
    source: OPERATORS,
    pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    matches: [{ Region: 'eu-west-2' }],
    misses: [{ Region: 'us-east-1' }],
  },
  {
    name: 'Anything-but (ends with): FileName does not end with .png',
    source: OPERATORS,
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    matches: [{ FileName: 'notes.txt' }],
    misses: [{ FileName: 'image.png' }],
  },
  {
    name: 'Anything-but (ignore case): state is not "initializing" in any casing',
    source: OPERATORS,
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    matches: [{ state: 'running' }],
    misses: [{ state: 'initializing' }, { state: 'INITIALIZING' }],
  },
  {
    name: 'Anything-but using a wildcard: FilePath does not include /lib/',
    source: OPERATORS,
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    matches: [{ FilePath: '/usr/bin/env' }],
    misses: [{ FilePath: '/usr/lib/libc.so' }],
  },
  {
    name: 'numeric ranges and equality (3.018e2 is 301.8)',
    source: CONTENT_FILTERING,
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    matches: [RULER_EVENT],
    misses: [
      { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'c-count': 0 } },
      { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'd-count': 10 } },
      { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'x-limit': 301.9 } },
    ],
  },
  {
    name: 'numeric matching works on JSON numbers only',
    source: CONTENT_FILTERING,
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0] }] } },
    matches: [d({ 'c-count': 1 })],
    misses: [d({ 'c-count': '1' })],
  },
  {
    name: 'IP address matching (IPv4)',
    source: CONTENT_FILTERING,
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    matches: [d({ sourceIPAddress: '10.0.0.0' }), d({ sourceIPAddress: '10.0.0.255' })],
    misses: [d({ sourceIPAddress: '10.0.1.0' }), d({ sourceIPAddress: 'not-an-ip' })],
  },
  {
    name: 'IP address matching also works with IPv6',
    source: EVENT_RULER,
    pattern: { detail: { 'source-ip': [{ cidr: '2001:db8::/32' }] } },
    matches: [d({ 'source-ip': '2001:db8::1' }), d({ 'source-ip': '2001:0DB8:ffff:0:0:0:0:1' })],
    misses: [d({ 'source-ip': '2001:db9::1' }), d({ 'source-ip': '10.0.0.1' })],
  },
  {
    name: 'exists: true matches only an event that has the leaf',
    source: CONTENT_FILTERING,
    pattern: { detail: { state: [{ exists: true }] } },
    matches: [{ source: 'aws.ec2', detail: { 'instance-id': 'i-abcd1111', state: 'pending' } }],
    misses: [{ 'detail-type': 'EC2 Instance State-change Notification', detail: { 'c-count': { c1: 100 } } }],
  },
  {
    name: 'exists: false matches when the field is absent, or not a leaf',
    source: EVENT_RULER,
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    matches: [d({ state: ['initializing', 'running'] }), d({ state: ['initializing', 'running'], 'c-count': { c1: 100 } })],
    misses: [d({ 'c-count': 5 })],
  },
  {
    name: 'exists: false matches when a parent of the field is absent',
    source: EVENT_RULER,
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    matches: [{ source: 'aws.ec2' }, { source: 'aws.ec2', detail: 'text' }],
    misses: [],
  },
  {
    name: 'the complex example combines prefix, anything-but, numeric and cidr',
    source: EVENT_RULER,
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    matches: [RULER_EVENT],
    misses: [{ ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'source-ip': '11.0.0.1' } }],
  },
  {
    name: '$or: source && (metricName || namespace)',
    source: EVENT_RULER,
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    matches: [
      { source: 'aws.cloudwatch', metricName: 'ReadLatency' },
      { source: 'aws.cloudwatch', namespace: 'AWS/ES' },
    ],
    misses: [
      { source: 'aws.cloudwatch', metricName: 'Other' },
      { source: 'aws.ec2', namespace: 'AWS/ES' },
    ],
  },
  {
    name: '$or nested with an And and another $or',
    source: EVENT_RULER,
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        { scope: ['Service'] },
      ],
    },
    matches: [
      { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 },
      { source: 'aws.cloudwatch', scope: 'Service' },
    ],
    misses: [{ source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 }],
  },
  {
    name: 'null and empty-string values match as values',
    source: NULL_VALUES,
    pattern: { detail: { UserID: [null], LastName: [''] } },
    matches: [d({ UserID: null, LastName: '' })],
    misses: [d({ LastName: '' }), d({ UserID: null, LastName: 'Doe' })],
  },
];

describe('EventBridge event pattern matching, documented examples', () => {
  it.each(CASES)('$name ($source)', ({ pattern, matches, misses }) => {
    expect(() => validateEventPattern(pattern)).not.toThrow();
    for (const event of matches) expect(matchesEventPattern(pattern, event), JSON.stringify(event)).toBe(true);
    for (const event of misses) expect(matchesEventPattern(pattern, event), JSON.stringify(event)).toBe(false);
  });
});

interface Refusal {
  readonly name: string;
  readonly source: string;
  readonly pattern: unknown;
  readonly reason: RegExp;
}

const REFUSALS: readonly Refusal[] = [
  { name: 'a pattern that is not an object', source: RULE_COMPILER, pattern: ['aws.ecs'], reason: /Filter is not an object/ },
  { name: 'a leaf value that is not an array', source: EVENT_PATTERNS, pattern: { source: 'aws.ecs' }, reason: /"source" must be an object or an array/ },
  { name: 'an empty array', source: RULE_COMPILER, pattern: { source: [] }, reason: /Empty arrays are not allowed/ },
  { name: 'an empty object', source: RULE_COMPILER, pattern: { detail: {} }, reason: /Empty objects are not allowed/ },
  {
    name: 'a nested array as a match value',
    source: RULE_COMPILER,
    pattern: { source: [['aws.ecs']] },
    reason: /Match value must be String, number, true, false, or null/,
  },
  { name: 'an unknown operator', source: RULE_COMPILER, pattern: { source: [{ startsWith: 'aws.' }] }, reason: /Unrecognized match type startsWith/ },
  { name: 'two operators in one match expression', source: RULE_COMPILER, pattern: { source: [{ prefix: 'a', suffix: 'b' }] }, reason: /Only one key allowed/ },
  {
    name: 'a numeric prefix (prefix matches strings only)',
    source: RULE_COMPILER,
    pattern: { code: [{ prefix: 12 }] },
    reason: /prefix match pattern must be a string/,
  },
  { name: 'a numeric suffix', source: RULE_COMPILER, pattern: { code: [{ suffix: 12 }] }, reason: /suffix match pattern must be a string/ },
  { name: 'equals-ignore-case with a number', source: RULE_COMPILER, pattern: { code: [{ 'equals-ignore-case': 1 }] }, reason: /must be a string/ },
  { name: 'numeric that is not an array', source: RULE_COMPILER, pattern: { n: [{ numeric: '>' }] }, reason: /Value of numeric must be an array/ },
  { name: 'numeric with a non-number bound', source: RULE_COMPILER, pattern: { n: [{ numeric: ['>', '5'] }] }, reason: /Value of > must be numeric/ },
  {
    name: 'numeric with an unknown operator',
    source: RULE_COMPILER,
    pattern: { n: [{ numeric: ['!=', 5] }] },
    reason: /Unrecognized numeric range operator: !=/,
  },
  {
    name: 'numeric range with an upper bound first',
    source: RULE_COMPILER,
    pattern: { n: [{ numeric: ['<', 5, '>', 1] }] },
    reason: /Too many elements in numeric expression/,
  },
  {
    name: 'numeric range with a bad second operator',
    source: RULE_COMPILER,
    pattern: { n: [{ numeric: ['>', 1, '=', 5] }] },
    reason: /Bad numeric range operator: =/,
  },
  { name: 'numeric range with too many terms', source: RULE_COMPILER, pattern: { n: [{ numeric: ['>', 1, '<', 5, '<', 6] }] }, reason: /Too many terms/ },
  {
    name: 'anything-but with both strings and numbers ("The list must contain either all strings, or all numbers")',
    source: CONTENT_FILTERING,
    pattern: { state: [{ 'anything-but': ['stopped', 100] }] },
    reason: /either all values are number or string, mixed type is not supported/,
  },
  {
    name: 'anything-but with a boolean',
    source: RULE_COMPILER,
    pattern: { state: [{ 'anything-but': true }] },
    reason: /must be an array or single string\/number value/,
  },
  {
    name: 'anything-but with an unsupported nested operator',
    source: RULE_COMPILER,
    pattern: { n: [{ 'anything-but': { numeric: ['>', 1] } }] },
    reason: /Unsupported anything-but pattern: numeric/,
  },
  {
    name: 'anything-but with an empty prefix',
    source: RULE_COMPILER,
    pattern: { s: [{ 'anything-but': { prefix: '' } }] },
    reason: /Null prefix\/suffix not allowed/,
  },
  {
    name: 'exists with "yes" (exists takes a boolean)',
    source: RULE_COMPILER,
    pattern: { s: [{ exists: 'yes' }] },
    reason: /exists match pattern must be either true or false/,
  },
  { name: 'a CIDR that is not one', source: CONTENT_FILTERING, pattern: { ip: [{ cidr: '10.0.0.0/33' }] }, reason: /Invalid CIDR/ },
  { name: 'a CIDR whose address is out of range', source: CONTENT_FILTERING, pattern: { ip: [{ cidr: '10.0.0.300/24' }] }, reason: /Invalid CIDR/ },
  { name: 'consecutive wildcard characters', source: EVENT_RULER, pattern: { s: [{ wildcard: 'a**b' }] }, reason: /Consecutive wildcard characters/ },
  { name: 'a backslash escaping anything but * or \\', source: EVENT_RULER, pattern: { s: [{ wildcard: 'a\\b' }] }, reason: /Invalid escape character/ },
  { name: '$or with a single object', source: EVENT_RULER, pattern: { $or: [{ source: ['a'] }] }, reason: /at least 2 Objects in \$or/ },
  {
    name: 'an operator name as a field inside $or',
    source: EVENT_RULER,
    pattern: { $or: [{ numeric: [123] }, { prefix: ['abc'] }] },
    reason: /reserved fieldName/,
  },
];

describe('PutRule refuses invalid patterns with InvalidEventPatternException', () => {
  it.each(REFUSALS)('$name ($source)', ({ pattern, reason }) => {
    let error: unknown;
    try {
      validateEventPattern(pattern);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SimulatedAwsError);
    expect((error as SimulatedAwsError).code).toBe('InvalidEventPatternException');
    expect((error as SimulatedAwsError).message).toMatch(/^Event pattern is not valid\. Reason: /);
    expect((error as SimulatedAwsError).message).toMatch(reason);
  });

  it('PutRule on the simulated bus refuses the rule and keeps no trace of it (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html)', () => {
    const bus = new SimulatedEventBridge({ account: '111122223333', region: 'eu-west-2', random: new SeededRandom(1) }, async () => undefined);
    expect(() => bus.putRule('bad', { detail: { ip: [{ cidr: 'nope' }] } }, [])).toThrow(SimulatedAwsError);
    expect(bus.listRules()).toEqual([]);
    expect(() => bus.putRule('good', { source: ['aws.ecs'], detail: { ip: [{ cidr: '2001:db8::/32' }] } }, [])).not.toThrow();
  });

  it("`$or` given an object, not an array, is an ordinary field name, as event-ruler keeps it for old rules (README: 'backward compatibility')", () => {
    const pattern = { source: ['aws.cloudwatch'], $or: { metricType: ['MetricType'] } };
    expect(() => validateEventPattern(pattern)).not.toThrow();
    expect(matchesEventPattern(pattern, { source: 'aws.cloudwatch', $or: { metricType: 'MetricType' } })).toBe(true);
    expect(matchesEventPattern(pattern, { source: 'aws.cloudwatch', metricType: 'MetricType' })).toBe(false);
  });
});
