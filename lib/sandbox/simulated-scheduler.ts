/**
 * EventBridge Scheduler, for the schedules Assure creates: cron-based
 * schedules evaluated in their time zone on the virtual clock, each firing its
 * target's StartExecution with the schedule's input, as Scheduler's universal
 * target does (Scheduler names the execution itself).
 *
 * Cron expressions are AWS's six fields, `cron(minutes hours day-of-month month
 * day-of-week year)`: `*`, `?` (one of the two day fields must be `?`), values,
 * ranges, lists and `/` increments; months JAN-DEC or 1-12; days of the week
 * SUN-SAT or 1-7 (1 = Sunday). The `L`, `W` and `#` forms are refused here with a
 * named error: the fleet does not use them. Daylight saving time as the Scheduler
 * documents it: a time that does not exist (spring forward) is skipped, and a
 * time that happens twice (fall back) runs once. No npm cron library is used:
 * the common ones take five- or six-field Unix cron (seconds first), not AWS's
 * year field and `?`.
 */

export class CronExpressionError extends Error {
  override readonly name = 'CronExpressionError';
}

interface CronField {
  readonly values: ReadonlySet<number>;
  /** `*` or `?`: every value. */
  readonly any: boolean;
}

export interface AwsCron {
  readonly expression: string;
  readonly minutes: CronField;
  readonly hours: CronField;
  readonly dayOfMonth: CronField;
  readonly month: CronField;
  readonly dayOfWeek: CronField;
  readonly year: CronField;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseField(text: string, name: string, min: number, max: number, names: readonly string[] = [], nameBase = 1): CronField {
  if (text === '*' || text === '?') return { values: new Set(), any: true };
  const value = (token: string): number => {
    const index = names.indexOf(token.toUpperCase());
    if (index < 0 && /[LW#]/i.test(token))
      throw new CronExpressionError(`${name}: the L, W and # forms are not supported by the sandbox's Scheduler (${text})`);
    const n = index >= 0 ? index + nameBase : Number(token);
    if (!Number.isInteger(n) || n < min || n > max) throw new CronExpressionError(`${name}: ${token} is not between ${min} and ${max}`);
    return n;
  };
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronExpressionError(`${name}: ${part} has an invalid increment`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [from, to] = [value(a), value(b)];
      if (from > to) throw new CronExpressionError(`${name}: ${part} is an empty range`);
    } else {
      from = value(range);
      // `5/15` runs from 5 to the end of the field; a lone value is just itself.
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return { values, any: false };
}

/** Parses `cron(m h dom mon dow year)` as EventBridge Scheduler reads it. */
export function parseAwsCron(expression: string): AwsCron {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const fields = match?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6)
    throw new CronExpressionError(`${expression}: a Scheduler cron expression has six fields: cron(minutes hours day-of-month month day-of-week year)`);
  const [minutes = '', hours = '', dom = '', month = '', dow = '', year = ''] = fields;
  if ((dom === '?') === (dow === '?')) throw new CronExpressionError(`${expression}: exactly one of day-of-month and day-of-week must be ?`);
  return {
    expression,
    minutes: parseField(minutes, 'minutes', 0, 59),
    hours: parseField(hours, 'hours', 0, 23),
    dayOfMonth: parseField(dom, 'day-of-month', 1, 31),
    month: parseField(month, 'month', 1, 12, MONTHS),
    dayOfWeek: parseField(dow, 'day-of-week', 1, 7, WEEKDAYS),
    year: parseField(year, 'year', 1970, 2199),
  };
}

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** 1 = Sunday, as AWS cron counts. */
  readonly weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time in a time zone. */
export function wallClock(ms: number, timeZone: string): WallClock {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(String(parts.weekday).slice(0, 3).toUpperCase()) + 1,
  };
}

const has = (field: CronField, n: number): boolean => field.any || field.values.has(n);
const sameMinute = (a: WallClock, b: WallClock): boolean =>
  a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;

const MINUTE = 60_000;
/** How far ahead a schedule is looked for before it counts as never firing again. */
const HORIZON_MS = 5 * 366 * 24 * 3600_000;

/** The first minute strictly after `afterMs` at which the schedule fires in `timeZone`; undefined when none within five years. */
export function nextCronTime(cron: AwsCron, timeZone: string, afterMs: number): number | undefined {
  const end = afterMs + HORIZON_MS;
  let t = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  while (t <= end) {
    const local = wallClock(t, timeZone);
    if (!has(cron.year, local.year) || !has(cron.month, local.month) || !has(cron.dayOfMonth, local.day) || !has(cron.dayOfWeek, local.weekday)) {
      // Not this day: on to an hour before local midnight (a DST change that day cannot make us skip a matching minute).
      t += Math.max(1, (24 - local.hour) * 60 - local.minute - 60) * MINUTE;
      continue;
    }
    if (!has(cron.hours, local.hour)) {
      t += (60 - local.minute) * MINUTE;
      continue;
    }
    if (has(cron.minutes, local.minute)) {
      // Fall back: the second occurrence of a wall-clock time does not run again.
      const repeated = [30, 60].some((m) => sameMinute(wallClock(t - m * MINUTE, timeZone), local));
      if (!repeated) return t;
    }
    t += MINUTE;
  }
  return undefined;
}

export interface ScheduleDefinition {
  readonly name: string;
  /** `cron(...)` in Scheduler's syntax. */
  readonly scheduleExpression: string;
  /** IANA zone the expression is evaluated in (ScheduleExpressionTimezone). */
  readonly timeZone: string;
  /** The state machine whose StartExecution the schedule's universal target calls. */
  readonly targetArn: string;
  readonly input: string;
}

export interface ScheduleFiring {
  readonly name: string;
  readonly at: number;
  /** Absent when the target refused the call (e.g. the schedule's role may not start the execution). */
  readonly executionArn?: string;
  readonly error?: string;
}

/** Starts the target's execution as the schedule (`scheduleName`) would: with its role. */
export type ScheduleTargetInvoker = (stateMachineArn: string, input: string, scheduleName: string) => { executionArn: string };

export class SimulatedScheduler {
  private readonly schedules = new Map<string, { definition: ScheduleDefinition; cron: AwsCron; timer?: ReturnType<typeof setTimeout> }>();
  private running = false;
  /** Every time a schedule fired, oldest first. */
  readonly firings: ScheduleFiring[] = [];

  constructor(private readonly startExecution: ScheduleTargetInvoker) {}

  createSchedule(definition: ScheduleDefinition): void {
    if (this.schedules.has(definition.name)) throw new CronExpressionError(`Schedule ${definition.name} already exists`);
    wallClock(0, definition.timeZone);
    this.schedules.set(definition.name, { definition, cron: parseAwsCron(definition.scheduleExpression) });
    if (this.running) this.arm(definition.name);
  }

  list(): ScheduleDefinition[] {
    return [...this.schedules.values()].map((s) => s.definition);
  }

  /** When the schedule next fires after `afterMs` (default now). */
  nextFireTime(name: string, afterMs = Date.now()): number | undefined {
    const schedule = this.schedules.get(name);
    return schedule ? nextCronTime(schedule.cron, schedule.definition.timeZone, afterMs) : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const name of this.schedules.keys()) this.arm(name);
  }

  stop(): void {
    this.running = false;
    for (const schedule of this.schedules.values()) clearTimeout(schedule.timer);
  }

  private arm(name: string): void {
    const schedule = this.schedules.get(name);
    if (!schedule) return;
    const now = Date.now();
    const at = nextCronTime(schedule.cron, schedule.definition.timeZone, now);
    if (at === undefined) return;
    schedule.timer = setTimeout(() => {
      if (!this.running) return;
      try {
        const { executionArn } = this.startExecution(schedule.definition.targetArn, schedule.definition.input, name);
        this.firings.push({ name, at: Date.now(), executionArn });
      } catch (error) {
        // Scheduler's retries and dead-letter queue are not modelled: the firing is recorded as failed.
        this.firings.push({ name, at: Date.now(), error: (error as Error).message });
      }
      this.arm(name);
    }, at - now);
  }
}
