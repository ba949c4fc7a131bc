/**
 * A clock for unit tests: `sleep` returns at once (after a microtask turn) and moves time forward
 * by the amount asked, so a test of a five-minute backoff takes no time and sees every wait.
 */
import type { Clock } from "../../src/shared/clock.js";

export class FakeClock implements Clock {
  /** Every sleep asked for, in order, ms. */
  readonly sleeps: number[] = [];

  constructor(private t = 1_700_000_000_000) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.t += ms;
    await new Promise<void>((r) => setImmediate(r));
    signal?.throwIfAborted();
  }
}
