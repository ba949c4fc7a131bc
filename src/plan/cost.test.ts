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
  it("adds public IPv4 addresses, log ingestion at the stated volumes, KMS keys and secrets", () => {
    const c = estimateMonthlyCost(platform, { now: NOW, kmsKeys: 4, secrets: 3 });
    const line = (item: string) => c.lines.find((l) => l.item === item);
    // 3 NAT gateways + an internet-facing ALB in 3 AZs = 6 addresses x $0.005/h x 730 h
    assert.equal(line("Public IPv4 addresses")?.monthlyLow, 21.9);
    assert.match(line("Public IPv4 addresses")?.detail ?? "", /3 NAT \+ 3 ALB/);
    // 10 GB control-plane + 5 GB flow logs at $0.76/GB, volumes stated in the line
    assert.equal(line("CloudWatch Logs ingestion")?.monthlyLow, 11.4);
    assert.match(line("CloudWatch Logs ingestion")?.detail ?? "", /10 GB.*5 GB.*assumed/);
    assert.equal(line("KMS keys")?.monthlyLow, 4);
    assert.equal(line("Secrets Manager")?.monthlyLow, 1.2);
    const more = estimateMonthlyCost(platform, {
      now: NOW,
      controlPlaneLogGbPerMonth: 100,
      flowLogGbPerMonth: 0,
    });
    assert.equal(more.lines.find((l) => l.item === "CloudWatch Logs ingestion")?.monthlyLow, 76);
  });
});
