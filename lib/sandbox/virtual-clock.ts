/**
 * Virtual time for the sandbox. Timers and Date are faked (@sinonjs/fake-timers),
 * so a ten-minute soak runs in milliseconds. Time moves only when the sandbox has
 * nothing else to do: the driver first lets every pending promise and every
 * in-flight simulated API call finish (some run through real setImmediate hops),
 * then jumps to the next timer.
 */
import { install, type Clock } from '@sinonjs/fake-timers';

const realSetImmediate = globalThis.setImmediate;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

export type RunResult = 'done' | 'idle' | 'limit';

export class VirtualClock {
  private readonly clock: Clock;
  private inFlight = 0;

  private constructor(startAt: number) {
    this.clock = install({
      now: startAt,
      // setImmediate, nextTick and microtasks stay real: they carry work, not time.
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      shouldClearNativeTimers: false,
    });
  }

  static install(startAt: Date | number): VirtualClock {
    return new VirtualClock(typeof startAt === 'number' ? startAt : startAt.getTime());
  }

  now(): number {
    return this.clock.now;
  }

  uninstall(): void {
    this.clock.uninstall();
  }

  /** Marks real asynchronous work (a simulated API call) that must finish before time moves. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Lets every promise and tracked call settle without moving time. */
  async settle(): Promise<void> {
    do {
      await yieldToEventLoop();
      await yieldToEventLoop();
    } while (this.inFlight > 0);
  }

  /**
   * Runs virtual time until `done()` holds, nothing is scheduled any more, or
   * `maxVirtualMs` has passed.
   */
  async runUntil(done: () => boolean, maxVirtualMs = 24 * 3600_000): Promise<RunResult> {
    const deadline = this.clock.now + maxVirtualMs;
    for (;;) {
      await this.settle();
      if (done()) return 'done';
      if (this.clock.countTimers() === 0) return 'idle';
      const next = this.nextTimerAt();
      if (next === undefined || next > deadline) {
        // tick, not setSystemTime: setSystemTime shifts every pending timer by the jump, so scheduled work would arrive late.
        this.clock.tick(Math.max(0, deadline - this.clock.now));
        return 'limit';
      }
      this.clock.next();
    }
  }

  /** Advances virtual time by `ms`, running everything scheduled on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now + ms;
    await this.runUntil(() => false, ms);
    // Nothing is due before the target (runUntil ran it all): tick moves time without shifting pending timers.
    if (this.clock.now < target) this.clock.tick(target - this.clock.now);
    await this.settle();
  }

  private nextTimerAt(): number | undefined {
    // fake-timers keeps its timers in a min-heap on the clock; peek the earliest without firing it.
    const heap = (this.clock as unknown as { timerHeap?: { peek(): { callAt: number } | undefined } }).timerHeap;
    return heap?.peek()?.callAt;
  }
}

/** A promise that resolves after `ms` of (virtual) time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
