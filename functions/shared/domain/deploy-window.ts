import type { DeployWindow } from '../../../lib/fleet/fleet-schema';

const weekdays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** One formatter per time zone: building one is far dearer than using it. */
const formats = new Map<string, Intl.DateTimeFormat>();

/** The weekday and HH:MM of `at` in a time zone. */
function localClock(at: Date, timeZone: string): { day: string; time: string } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = get('weekday').toUpperCase().slice(0, 3);
  return { day: weekdays.find((d) => d === weekday) ?? weekday, time: `${get('hour')}:${get('minute')}` };
}

/** True when there are no windows, or `at` falls inside one (start inclusive, end exclusive). */
export function insideDeployWindow(windows: readonly DeployWindow[] | undefined, at: Date): boolean {
  if (!windows || windows.length === 0) return true;
  return windows.some((window) => {
    const { day, time } = localClock(at, window.timeZone);
    return window.days.includes(day as DeployWindow['days'][number]) && time >= window.start && time < window.end;
  });
}

export function describeWindows(windows: readonly DeployWindow[]): string {
  return windows.map((w) => `${w.days.join(',')} ${w.start}-${w.end} ${w.timeZone}`).join('; ');
}

/**
 * When the next deploy window opens after `at` (at a whole minute, as windows
 * start), or undefined when none opens within `withinMs`. `at` itself when it
 * is inside a window already.
 */
export function nextWindowStart(windows: readonly DeployWindow[] | undefined, at: Date, withinMs: number): Date | undefined {
  if (insideDeployWindow(windows, at)) return at;
  const minute = 60_000;
  const first = Math.ceil(at.getTime() / minute) * minute;
  for (let t = first; t <= at.getTime() + withinMs; t += minute) {
    const candidate = new Date(t);
    if (insideDeployWindow(windows, candidate)) return candidate;
  }
  return undefined;
}
