import { describe, expect, it } from 'vitest';
import { matchesEventPattern, validateEventPattern } from '../../lib/sandbox/event-pattern';

const event = {
  source: 'aws.ecs',
  'detail-type': 'ECS Deployment State Change',
  resources: ['arn:aws:ecs:eu-west-2:111122223333:service/trading-prod/order-gateway'],
  detail: {
    eventName: 'SERVICE_DEPLOYMENT_FAILED',
    failedTasks: 3,
    tags: ['a', 'b'],
    state: { value: 'ALARM' },
    items: [
      { name: 'x', size: 1 },
      { name: 'y', size: 2 },
    ],
    nothing: null,
  },
};

describe('EventBridge pattern matching', () => {
  it('ANDs fields and ORs the values listed for one field', () => {
    expect(matchesEventPattern({ source: ['aws.ecs'], 'detail-type': ['ECS Deployment State Change', 'ECS Service Action'] }, event)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.ecs'], 'detail-type': ['ECS Service Action'] }, event)).toBe(false);
  });

  it('matches an event array when it intersects the pattern values, and arrays of objects element-wise', () => {
    expect(matchesEventPattern({ detail: { tags: ['z', 'b'] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { tags: ['z'] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { items: { name: ['y'] } } }, event)).toBe(true);
  });

  it('matches nested objects and compares strings exactly, numbers by value, null as null', () => {
    expect(matchesEventPattern({ detail: { state: { value: ['ALARM'] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { state: { value: ['alarm'] } } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { failedTasks: [3] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { nothing: [null] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, event)).toBe(false);
  });

  it('supports the documented comparison operators', () => {
    const d = (pattern: unknown): boolean => matchesEventPattern({ detail: pattern as Record<string, unknown> }, event);
    expect(d({ eventName: [{ prefix: 'SERVICE_DEPLOYMENT' }] })).toBe(true);
    expect(d({ eventName: [{ suffix: '_FAILED' }] })).toBe(true);
    expect(d({ eventName: [{ 'equals-ignore-case': 'service_deployment_failed' }] })).toBe(true);
    expect(d({ eventName: [{ prefix: { 'equals-ignore-case': 'service_' } }] })).toBe(true);
    expect(d({ eventName: [{ wildcard: 'SERVICE_*_FAILED' }] })).toBe(true);
    expect(d({ eventName: [{ wildcard: 'TASK_*' }] })).toBe(false);
    expect(d({ eventName: [{ 'anything-but': ['SERVICE_DEPLOYMENT_COMPLETED'] }] })).toBe(true);
    expect(d({ eventName: [{ 'anything-but': { prefix: 'SERVICE_' } }] })).toBe(false);
    expect(d({ failedTasks: [{ numeric: ['>', 2, '<=', 3] }] })).toBe(true);
    expect(d({ failedTasks: [{ numeric: ['<', 3] }] })).toBe(false);
    expect(d({ failedTasks: [{ exists: true }] })).toBe(true);
    expect(d({ missing: [{ exists: false }] })).toBe(true);
    // exists works on leaf values only: an object field is not a leaf.
    expect(d({ state: [{ exists: false }] })).toBe(true);
    expect(matchesEventPattern({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.37' })).toBe(true);
    expect(matchesEventPattern({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.37' })).toBe(false);
  });

  it('supports $or', () => {
    expect(matchesEventPattern({ source: ['aws.ecs'], $or: [{ 'detail-type': ['nope'] }, { detail: { failedTasks: [3] } }] }, event)).toBe(true);
    expect(matchesEventPattern({ $or: [{ source: ['a'] }, { source: ['b'] }] }, event)).toBe(false);
  });

  it('refuses patterns EventBridge refuses', () => {
    expect(() => validateEventPattern({ source: 'aws.ecs' })).toThrow(/"source" must be an object or an array/);
    expect(() => validateEventPattern({ source: [] })).toThrow(/Empty arrays are not allowed/);
    expect(() => validateEventPattern({ source: [{ startsWith: 'aws' }] })).toThrow(/Unrecognized match type startsWith/);
    expect(() => validateEventPattern({ source: [{ prefix: 'aws.' }] })).not.toThrow();
  });
});
