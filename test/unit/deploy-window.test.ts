import { describe, expect, it } from 'vitest';
import { insideDeployWindow } from '../../functions/shared/domain/deploy-window';
import type { DeployWindow } from '../../lib/fleet/fleet-schema';

const londonMornings: DeployWindow = { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '05:00', end: '07:45', timeZone: 'Europe/London' };
const weekdayMornings: DeployWindow[] = [londonMornings];

describe('deploy windows', () => {
  it('allows any time when the fleet sets no windows', () => {
    expect(insideDeployWindow(undefined, new Date('2026-01-05T12:00:00Z'))).toBe(true);
  });

  it('reads the window in its own time zone, start inclusive and end exclusive', () => {
    // January: London is UTC.
    expect(insideDeployWindow(weekdayMornings, new Date('2026-01-05T05:00:00Z'))).toBe(true);
    expect(insideDeployWindow(weekdayMornings, new Date('2026-01-05T07:44:59Z'))).toBe(true);
    expect(insideDeployWindow(weekdayMornings, new Date('2026-01-05T07:45:00Z'))).toBe(false);
    // July: London is UTC+1, so 04:30 UTC is 05:30 local.
    expect(insideDeployWindow(weekdayMornings, new Date('2026-07-06T04:30:00Z'))).toBe(true);
    expect(insideDeployWindow(weekdayMornings, new Date('2026-07-06T06:50:00Z'))).toBe(false);
  });

  it('checks the local weekday', () => {
    // Saturday 06:00 in London.
    expect(insideDeployWindow(weekdayMornings, new Date('2026-01-10T06:00:00Z'))).toBe(false);
    // Monday 05:30 in Tokyo is Sunday 20:30 UTC.
    expect(insideDeployWindow([{ ...londonMornings, timeZone: 'Asia/Tokyo' }], new Date('2026-01-04T20:30:00Z'))).toBe(true);
  });
});
