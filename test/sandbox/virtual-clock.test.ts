/**
 * Virtual time (lib/sandbox/virtual-clock.ts): moving time forward runs what
 * is due on the way and leaves what is scheduled later where it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/sandbox/virtual-clock';

let clock: VirtualClock | undefined;

afterEach(() => {
  clock?.uninstall();
  clock = undefined;
});

describe('VirtualClock', () => {
  it('advancing past no due timer does not postpone the timers still pending', async () => {
    clock = VirtualClock.install(0);
    const firedAt: number[] = [];
    setTimeout(() => firedAt.push(Date.now()), 500);
    await clock.advance(10);
    setTimeout(() => firedAt.push(Date.now()), 500);
    await clock.advance(1_000);

    expect(firedAt).toEqual([500, 510]);
    expect(clock.now()).toBe(1_010);
  });

  it('runUntil stops at its limit without moving the next timer', async () => {
    clock = VirtualClock.install(1_000);
    const firedAt: number[] = [];
    setTimeout(() => firedAt.push(Date.now()), 5_000);

    expect(await clock.runUntil(() => false, 2_000)).toBe('limit');
    expect(clock.now()).toBe(3_000);
    expect(await clock.runUntil(() => firedAt.length > 0)).toBe('done');
    expect(firedAt).toEqual([6_000]);
  });
});
