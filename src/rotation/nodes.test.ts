import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { NodeProviderError } from "../providers/node-provider.js";
import { isTenkaiError } from "../shared/errors.js";
import { withProviderRetry } from "./nodes.js";

const throttled = () => new NodeProviderError("THROTTLED", "Rate exceeded", "general-green");

describe("provider retry", () => {
  it("retries THROTTLED and UNAVAILABLE with the provider backoff, through the clock, then returns", async () => {
    const clock = new FakeClock();
    const faults = [throttled(), new NodeProviderError("UNAVAILABLE", "503", "general-green"), throttled()];
    let calls = 0;
    const v = await withProviderRetry(
      "creating node group general-green",
      async () => {
        calls++;
        const f = faults.shift();
        if (f) throw f;
        return "created";
      },
      { clock, deadline: clock.now() + 60_000, random: () => 0 },
    );
    assert.equal(v, "created");
    assert.equal(calls, 4);
    assert.deepEqual(clock.sleeps, [125, 250, 500], "250 ms doubling, half of it fixed");
  });

  it("does not retry what backing off cannot fix, and says what to do", async () => {
    const clock = new FakeClock();
    await assert.rejects(
      withProviderRetry(
        "creating node group general-green",
        async () => {
          throw new NodeProviderError(
            "ALREADY_EXISTS_DIFFERENT",
            "exists with another spec",
            "general-green",
          );
        },
        { clock, deadline: clock.now() + 60_000 },
      ),
      (err: unknown) => {
        assert.ok(isTenkaiError(err, "PROVIDER_ALREADY_EXISTS_DIFFERENT"), String(err));
        assert.match(err.message, /^creating node group general-green: exists with another spec/);
        assert.match(err.fix ?? "", /--rollback/);
        return true;
      },
    );
    assert.deepEqual(clock.sleeps, []);
  });

  it("gives up at the deadline with PROVIDER_THROTTLED", async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withProviderRetry(
        "describing node group general-green",
        async () => {
          calls++;
          throw throttled();
        },
        { clock, deadline: clock.now() + 30_000, random: () => 0.5 },
      ),
      (err: unknown) => isTenkaiError(err, "PROVIDER_THROTTLED") && /wait a minute/.test(err.fix ?? ""),
    );
    assert.ok(calls > 3 && calls < 15, `${calls} calls in 30 s of backoff`);
    assert.ok(
      clock.sleeps.every((s) => s <= 10_000),
      "capped at 10 s",
    );
  });

  it("passes other errors through untouched", async () => {
    const boom = new Error("bug");
    await assert.rejects(
      withProviderRetry(
        "x",
        async () => {
          throw boom;
        },
        { clock: new FakeClock(), deadline: 0 },
      ),
      boom,
    );
  });
});
