import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { backoffDelay, retry } from "./retry.js";

describe("backoff", () => {
  it("doubles from the base to the cap, half fixed and half jitter", () => {
    const b = { baseMs: 200, capMs: 5_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay({ ...b, random: () => 0 }, a)),
      [100, 200, 400, 800, 1_600, 2_500, 2_500],
    );
    assert.deepEqual(
      [1, 2, 6].map((a) => backoffDelay({ ...b, random: () => 0.999999 }, a)),
      [200, 400, 5_000],
    );
  });
});

describe("retry", () => {
  const transient = Object.assign(new Error("throttled"), { transient: true });
  const retryable = (e: unknown) => (e as { transient?: boolean }).transient === true;

  it("retries what may go away until it succeeds, sleeping only through the clock", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const seen: number[] = [];
    const v = await retry(
      async () => {
        if (++calls < 4) throw transient;
        return "ok";
      },
      { baseMs: 100, capMs: 1_000, random: () => 0.5, clock, retryable, onRetry: (_e, a) => seen.push(a) },
    );
    assert.equal(v, "ok");
    assert.equal(calls, 4);
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(clock.sleeps, [75, 150, 300]);
  });

  it("throws at once an error that will not go away", async () => {
    const clock = new FakeClock();
    const fatal = new Error("forbidden");
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { baseMs: 100, capMs: 1_000, clock, retryable },
      ),
      fatal,
    );
    assert.equal(calls, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it("stops after the attempts given, and after the deadline", async () => {
    let calls = 0;
    const failing = async () => {
      calls++;
      throw transient;
    };
    await assert.rejects(
      retry(failing, { baseMs: 10, capMs: 10, attempts: 5, clock: new FakeClock(), retryable }),
    );
    assert.equal(calls, 5);
    calls = 0;
    const clock = new FakeClock();
    await assert.rejects(
      retry(failing, {
        baseMs: 1_000,
        capMs: 1_000,
        random: () => 0,
        deadline: clock.now() + 2_400,
        clock,
        retryable,
      }),
    );
    // Sleeps of 500 ms each: retried at +500, +1000, +1500, +2000, +2500 (past the deadline: thrown).
    assert.equal(calls, 6);
  });

  it("stops when aborted", async () => {
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          if (++calls === 2) ac.abort(new Error("stopped"));
          throw transient;
        },
        { baseMs: 10, capMs: 10, clock: new FakeClock(), retryable, signal: ac.signal },
      ),
      /stopped/,
    );
    assert.equal(calls, 2);
  });
});
