import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { estimateMonthlyCost } from "./cost.js";

const EXAMPLE = new URL("../../examples/platform.yaml", import.meta.url).pathname;
const NOW = new Date("2026-11-28T00:00:00Z");

describe("monthly cost estimate", async () => {
  const platform = await loadPlatform(EXAMPLE, { now: NOW });

  it("prices each part of the example from the dated table (ap-northeast-1)", () => {
    const c = estimateMonthlyCost(platform, { now: NOW });
    const line = (item: string) => c.lines.find((l) => l.item === item);
    assert.equal(c.pricesAsOf, "2026-11-01");
    assert.equal(line("EKS control plane")?.monthlyLow, 73); // $0.10/h x 730 h
    // 3 to 12 x m6i.large at $0.124/h
    assert.deepEqual([line("EC2 general")?.monthlyLow, line("EC2 general")?.monthlyHigh], [271.56, 1086.24]);
    assert.equal(line("NAT gateways")?.monthlyLow, 135.78); // 3 x $0.062 x 730
    assert.equal(line("Application Load Balancer")?.monthlyLow, 23.58); // ($0.0243 + $0.008) x 730 = 23.579
    // Aurora writer + reader, each 0.5..8 ACU at $0.15
    assert.deepEqual(
      [line("Aurora Serverless v2")?.monthlyLow, line("Aurora Serverless v2")?.monthlyHigh],
      [109.5, 1752],
    );
    // invoice-batch: every 30 min = 1440 runs x 10 min = 240 h of 1 vCPU + 3 GB (2 Gi + 256 Mi rounded up)
    assert.equal(line("Fargate")?.monthlyLow, Math.round(240 * (0.05056 + 3 * 0.00553) * 100) / 100);
    assert.equal(c.totalLow, Math.round(c.lines.reduce((s, l) => s + l.monthlyLow, 0) * 100) / 100);
    assert.ok(c.totalHigh > c.totalLow);
  });

  it("charges extended support only when the cluster opts into it past standard support", () => {
    const old = structuredClone(platform);
    old.spec.cluster.version = "1.32";
    assert.equal(estimateMonthlyCost(old, { now: NOW }).lines[0]?.monthlyLow, 73);
    old.spec.cluster.supportType = "EXTENDED";
    assert.equal(estimateMonthlyCost(old, { now: NOW }).lines[0]?.monthlyLow, 438); // $0.60/h
  });

  it("names the fix when a region has no prices", () => {
    const far = structuredClone(platform);
    far.spec.aws.region = "af-south-1";
    assert.throws(
      () => estimateMonthlyCost(far),
      (e: unknown) => isTenkaiError(e, "COST_NO_PRICES") && /--no-cost/.test(e.fix ?? ""),
    );
  });
});
