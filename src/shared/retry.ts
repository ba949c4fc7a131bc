/**
 * The one backoff of tenkai: exponential with a cap and "equal jitter" (half fixed, half random),
 * so many callers refused at once do not retry in step, and none retries at once
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Eviction retries,
 * provider retries and apply retries all use it, each with its own base and cap.
 */
import type { Clock } from "./clock.js";

export interface Backoff {
  /** Delay of the first retry's ceiling, ms. */
  readonly baseMs: number;
  /** Largest ceiling, ms. */
  readonly capMs: number;
  /** Source of jitter in [0, 1). Default Math.random; tests pass a fixed one. */
  readonly random?: () => number;
}

/** The delay before retry number `attempt` (1 for the first retry), ms. */
export function backoffDelay(b: Backoff, attempt: number): number {
  const ceiling = Math.min(b.capMs, b.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20));
  return Math.round(ceiling / 2 + ((b.random ?? Math.random)() * ceiling) / 2);
}

export interface RetryOptions extends Backoff {
  readonly clock: Clock;
  /** Whether the error may go away on its own (throttling, a server error). */
  readonly retryable: (err: unknown) => boolean;
  /** Most attempts in all (the first included). Default unbounded: then `deadline` bounds it. */
  readonly attempts?: number;
  /** Clock time after which the last error is thrown. Default none. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  /** Told before each wait (for a progress event). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `call` until it succeeds, or its error is not retryable, or attempts or time run out. */
export async function retry<T>(call: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    try {
      return await call();
    } catch (err) {
      if (!o.retryable(err)) throw err;
      if (o.attempts !== undefined && attempt >= o.attempts) throw err;
      if (o.deadline !== undefined && o.clock.now() > o.deadline) throw err;
      const delayMs = backoffDelay(o, attempt);
      o.onRetry?.(err, attempt, delayMs);
      await o.clock.sleep(delayMs, o.signal);
    }
  }
}
