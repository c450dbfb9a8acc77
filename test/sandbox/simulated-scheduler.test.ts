/** The sandbox's EventBridge Scheduler cron evaluation: AWS's six fields, time zones, and daylight saving time as Scheduler documents it. */
import { describe, expect, it } from 'vitest';
import { CronExpressionError, nextCronTime, parseAwsCron } from '../../lib/sandbox/simulated-scheduler';

const next = (expression: string, timeZone: string, after: string): string | undefined => {
  const t = nextCronTime(parseAwsCron(expression), timeZone, Date.parse(after));
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe('AWS cron expressions', () => {
  it('weekdays at 07:45 London time: GMT in winter, BST in summer', () => {
    expect(next('cron(45 7 ? * MON-FRI *)', 'Europe/London', '2026-01-05T05:20:00Z')).toBe('2026-01-05T07:45:00.000Z');
    // Friday 27 March 2026 after the open: the next open is Monday 30 March, after the clocks went forward on the Sunday.
    expect(next('cron(45 7 ? * MON-FRI *)', 'Europe/London', '2026-03-27T08:00:00Z')).toBe('2026-03-30T06:45:00.000Z');
    // Saturday: skips the weekend.
    expect(next('cron(45 7 ? * MON-FRI *)', 'Europe/London', '2026-01-10T12:00:00Z')).toBe('2026-01-12T07:45:00.000Z');
  });

  it('a time that does not exist (spring forward) is skipped; one that happens twice (fall back) runs once', () => {
    // 29 March 2026 01:30 London does not exist: the next run is the day after.
    expect(next('cron(30 1 * * ? *)', 'Europe/London', '2026-03-29T00:00:00Z')).toBe('2026-03-30T00:30:00.000Z');
    // 25 October 2026 01:30 London happens at 00:30 and at 01:30 UTC: only the first runs.
    expect(next('cron(30 1 * * ? *)', 'Europe/London', '2026-10-25T00:00:00Z')).toBe('2026-10-25T00:30:00.000Z');
    expect(next('cron(30 1 * * ? *)', 'Europe/London', '2026-10-25T00:31:00Z')).toBe('2026-10-26T01:30:00.000Z');
  });

  it('lists, ranges, increments, names, day-of-month and year', () => {
    expect(next('cron(0/15 9-17 * * ? *)', 'UTC', '2026-01-05T09:07:00Z')).toBe('2026-01-05T09:15:00.000Z');
    expect(next('cron(0 12 1 JAN,JUL ? 2027)', 'UTC', '2026-03-01T00:00:00Z')).toBe('2027-01-01T12:00:00.000Z');
    expect(next('cron(0 9 ? * 1 *)', 'UTC', '2026-01-05T00:00:00Z')).toBe('2026-01-11T09:00:00.000Z');
    expect(next('cron(0 0 1 1 ? 2020)', 'UTC', '2026-01-01T00:00:00Z')).toBeUndefined();
  });

  it('refuses what Scheduler refuses, and the forms the sandbox does not model, by name', () => {
    expect(() => parseAwsCron('cron(45 7 * * MON-FRI *)')).toThrow(CronExpressionError);
    expect(() => parseAwsCron('cron(45 7 ? * MON-FRI)')).toThrow('six fields');
    expect(() => parseAwsCron('cron(61 7 ? * MON-FRI *)')).toThrow('minutes: 61 is not between 0 and 59');
    expect(() => parseAwsCron('cron(0 9 L * ? *)')).toThrow('not supported');
  });
});
