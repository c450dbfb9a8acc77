/** How a page counts the pages a flapping alarm held back. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heldBackNote } from '../../functions/shared/domain/paging';
import { fleetWith } from '../support/sandbox';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2025-07-05T09:40:00.000Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('heldBackNote', () => {
  it('counts the held-back pages since the last page, by its time today', () => {
    expect(heldBackNote(3, '2025-07-05T09:14:59.123Z')).toBe('(3 more times since 09:14 UTC)');
    expect(heldBackNote(1, '2025-07-05T09:14:00.000Z')).toBe('(1 more time since 09:14 UTC)');
  });

  it('names the day when the last page was not today', () => {
    expect(heldBackNote(2, '2025-07-04T23:50:00.000Z')).toBe('(2 more times since 2025-07-04 23:50 UTC)');
  });
});

describe('fleet paging.flapWindowMinutes', () => {
  it('defaults to 15 minutes; 0 turns the window off', () => {
    expect(fleetWith().paging).toEqual({ emails: ['trading-oncall@example.com'], flapWindowMinutes: 15 });
    expect(fleetWith((raw) => Object.assign(raw.paging as object, { flapWindowMinutes: 0 })).paging.flapWindowMinutes).toBe(0);
  });

  it.each([-1, 1.5, 1441, '15'])('refuses %o, naming the field', (flapWindowMinutes) => {
    expect(() => fleetWith((raw) => Object.assign(raw.paging as object, { flapWindowMinutes }))).toThrow(/paging\.flapWindowMinutes/);
  });
});
