/**
 * The drain without a cluster: a fake clock, the in-memory cluster of test/support and injected
 * faults. What the user would check: which pods were evicted, in what order against which budget,
 * what events said, and which error code a failure carries. The integration tests
 * (test/integration/rotation-*.test.ts) run the same engine against the local control plane.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { FakeClock } from "../../test/support/fake-clock.js";
import { apiError, FakeRotationCluster } from "../../test/support/fake-rotation-cluster.js";
import { isTenkaiError } from "../shared/errors.js";
import { emitter } from "../shared/events.js";
import { Drainer, type DrainRun } from "./drain.js";
import { decidePod, type FilterOptions } from "./filters.js";
import { Surger } from "./surge.js";
import type { RotationEvent } from "./types.js";

interface Harness {
  readonly clock: FakeClock;
  readonly cluster: FakeRotationCluster;
  readonly events: RotationEvent[];
  readonly drainer: Drainer;
  /** Every decision asked for: `scan uid`. */
  readonly decisions: string[];
  run(o?: Partial<DrainRun>): Promise<string[]>;
}

function harness(setup: (c: FakeRotationCluster) => void, o: { random?: () => number } = {}): Harness {
  const clock = new FakeClock();
  const cluster = new FakeRotationCluster(clock);
  setup(cluster);
  const events: RotationEvent[] = [];
  const emit = emitter<RotationEvent>((e) => events.push(e), clock);
  const view = cluster.view();
  const clients = cluster.clients();
  const leaving = new Set<string>();
  const decisions: string[] = [];
  let drainer: Drainer;
  const decide = (pod: V1Pod, f: FilterOptions) => {
    decisions.push(`${drainer.scans} ${pod.metadata?.uid}`);
    return decidePod(pod, f);
  };
  const surger = new Surger({ clients, view, group: "general", leaving: (n) => leaving.has(n), emit });
  drainer = new Drainer({ clients, view, surger, clock, emit, decide, random: o.random ?? (() => 0.5) });
  return {
    clock,
    cluster,
    events,
    drainer,
    decisions,
    async run(over = {}) {
      const nodes = over.nodes ?? ["blue-0", "blue-1"];
      for (const n of nodes) leaving.add(n);
      const drained: string[] = [];
      await drainer.run({
        nodes,
        done: new Set(),
        maxDraining: 10,
        maxConcurrentEvictions: 64,
        maxPodsMoving: 64,
        timeoutMs: 60_000,
        stallAfterMs: 1_000,
        forceUnreplicated: false,
        deleteEmptyDirData: false,
        noSurge: false,
        onNodeDrained: async (n) => {
          drained.push(n);
        },
        ...over,
      });
      return drained;
    },
  };
}

const codes = <C extends RotationEvent["code"]>(events: readonly RotationEvent[], code: C) =>
  events.filter((e): e is Extract<RotationEvent, { code: C }> => e.code === code);

describe("drain", () => {
  it("evicts every workload pod once, leaves DaemonSet pods, reports each node drained", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 4, nodes: ["blue-0", "blue-1"], minAvailable: 3 });
      c.addDeployment("api", { replicas: 2, nodes: ["blue-0", "blue-1"], minAvailable: 1 });
      c.addPod("fluent-bit-0", {
        node: "blue-0",
        app: "fluent-bit",
        owner: { kind: "DaemonSet", name: "fluent-bit" },
      });
    });
    const drained = await h.run();
    assert.deepEqual(drained.sort(), ["blue-0", "blue-1"]);
    assert.deepEqual(h.cluster.evicted.sort(), [
      "shop/api-0",
      "shop/api-1",
      "shop/web-0",
      "shop/web-1",
      "shop/web-2",
      "shop/web-3",
    ]);
    assert.ok(!h.cluster.evictionRequests.includes("shop/fluent-bit-0"), "DaemonSet pods are never evicted");
    assert.equal(codes(h.events, "rotation.node.drained").length, 2);
    assert.equal(codes(h.events, "rotation.node.draining").length, 2);
    assert.ok(
      h.events.every((e) => e.time === new Date(Date.parse(e.time)).toISOString()),
      "every event has a time",
    );
  });

  it("decides each pod once per scan, and the same decision guards the eviction", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 6, nodes: ["blue-0", "blue-1", "blue-2"], minAvailable: 5 });
    });
    await h.run({ nodes: ["blue-0", "blue-1", "blue-2"] });
    assert.equal(new Set(h.decisions).size, h.decisions.length, "no pod decided twice in one scan");
    assert.ok(
      h.drainer.scans >= 6,
      `one eviction at a time under minAvailable 5 of 6 (${h.drainer.scans} scans)`,
    );
  });

  it("never sends an eviction its budget does not allow, even while the disruption controller lags", async () => {
    const h = harness((c) => {
      c.controllerLag = 5;
      c.addDeployment("web", { replicas: 6, nodes: ["blue-0", "blue-1"], minAvailable: 4 });
    });
    await h.run();
    assert.equal(h.cluster.evicted.length, 6);
    const refused = h.cluster.evictionRequests.length - h.cluster.evicted.length;
    assert.equal(refused, 0, "no eviction was refused with 429: the drain counts its own in flight");
    assert.equal(codes(h.events, "rotation.pod.retry").length, 0);
  });

  it("sends one eviction per budget at a time until its status write is seen, budgets side by side (the apiserver sleeps 500 ms per status conflict)", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 6, nodes: ["blue-0", "blue-1"], minAvailable: 1 });
      c.addDeployment("api", { replicas: 6, nodes: ["blue-0", "blue-1"], minAvailable: 1 });
      c.addDeployment("docs", { replicas: 6, nodes: ["blue-0", "blue-1"], minAvailable: 1 });
    });
    await h.run();
    assert.equal(h.cluster.evicted.length, 18);
    for (const b of ["shop/web", "shop/api", "shop/docs"])
      assert.equal(
        h.cluster.mostRequestingPerBudget.get(b),
        1,
        `${b}: at most one eviction request at a time`,
      );
    assert.ok(h.cluster.mostRequesting >= 3, `budgets side by side (${h.cluster.mostRequesting} at once)`);
    const evicted = codes(h.events, "rotation.pod.evicted");
    assert.ok(
      evicted.every((e) => e.data.ms >= 0),
      "each eviction says how long its answer took",
    );
  });

  it("spreads evictions across budgets: a slow budget does not hold back the others", async () => {
    const h = harness((c) => {
      c.controllerLag = 3;
      c.addDeployment("slow", { replicas: 3, nodes: ["blue-0"], minAvailable: 2 });
      c.addDeployment("fast", { replicas: 3, nodes: ["blue-0"], minAvailable: 0 });
    });
    await h.run({ nodes: ["blue-0"] });
    const firstSlow = h.cluster.evicted.findIndex((k) => k.startsWith("shop/slow"));
    const fastBefore = h.cluster.evicted.slice(0, 3).filter((k) => k.startsWith("shop/fast")).length;
    assert.ok(firstSlow >= 0);
    assert.equal(fastBefore >= 2, true, `the fast budget's pods went early: ${h.cluster.evicted.join(", ")}`);
  });

  it("serves the budget with the most rounds left first, and keeps the pods on their way within the window", async () => {
    const h = harness((c) => {
      c.controllerLag = 2;
      // "wide" lets all six go in one round; "narrow" one at a time: six rounds.
      c.addDeployment("wide", { replicas: 6, nodes: ["blue-0"], minAvailable: 0 });
      c.addDeployment("narrow", { replicas: 6, nodes: ["blue-0"], minAvailable: 5 });
    });
    await h.run({ nodes: ["blue-0"], maxPodsMoving: 2 });
    assert.equal(h.cluster.evicted.length, 12);
    assert.ok(
      h.cluster.evicted[0]?.startsWith("shop/narrow"),
      `the narrow budget's first pod goes first: ${h.cluster.evicted.join(", ")}`,
    );
    const firstWide = h.cluster.evicted.findIndex((k) => k.startsWith("shop/wide"));
    assert.ok(firstWide <= 2, `the wide budget fills the window beside it: ${h.cluster.evicted.join(", ")}`);
  });

  it("retries a 429 with the jittered backoff, through the clock, and then evicts", async () => {
    const h = harness(
      (c) => {
        c.addDeployment("web", { replicas: 2, nodes: ["blue-0"], minAvailable: 0 });
        c.evictionFault = (pod, attempt) =>
          pod === "shop/web-0" && attempt <= 2 ? apiError(429, "throttled") : undefined;
      },
      { random: () => 0 },
    );
    await h.run({ nodes: ["blue-0"] });
    const retries = codes(h.events, "rotation.pod.retry").map((e) => e.data);
    assert.deepEqual(
      retries.map((r) => [r.pod, r.status, r.attempt, r.delayMs]),
      [
        ["shop/web-0", 429, 1, 100],
        ["shop/web-0", 429, 2, 200],
      ],
    );
    assert.ok(h.cluster.evicted.includes("shop/web-0"));
  });

  it("stops with POD_MULTIPLE_BUDGETS when the API answers 500 for a pod under two budgets", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 2, nodes: ["blue-0"], minAvailable: 0 });
      c.addBudget("web-too", "web", 0);
    });
    await assert.rejects(h.run({ nodes: ["blue-0"] }), (err: unknown) => {
      assert.ok(isTenkaiError(err, "POD_MULTIPLE_BUDGETS"), String(err));
      assert.deepEqual([...((err.details?.budgets as string[] | undefined) ?? [])].sort(), [
        "shop/web",
        "shop/web-too",
      ]);
      return true;
    });
    assert.deepEqual(h.cluster.evicted, []);
  });

  it("gives up on a pod after repeated server errors with ROTATION_EVICTION_FAILED, naming it", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 1, nodes: ["blue-0"], minAvailable: 0 });
      c.evictionFault = () => apiError(503, "etcd is unhappy");
    });
    await assert.rejects(h.run({ nodes: ["blue-0"] }), (err: unknown) => {
      assert.ok(isTenkaiError(err, "ROTATION_EVICTION_FAILED"), String(err));
      assert.match(err.message, /shop\/web-0: HTTP 503: etcd is unhappy/);
      return true;
    });
    assert.equal(h.cluster.evictionRequests.length, 7, "the first try and six retries");
  });

  it("treats a pod that is gone (404) as moved", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 1, nodes: ["blue-0"], minAvailable: 0 });
      c.evictionFault = (_pod, attempt) => {
        if (attempt > 1) return undefined;
        // The pod vanished between the scan and the request.
        for (const [uid, p] of c.pods) if (p.metadata?.name === "web-0") c.pods.delete(uid);
        return apiError(404, `pods "web-0" not found`);
      };
    });
    await h.run({ nodes: ["blue-0"] });
    assert.deepEqual(
      codes(h.events, "rotation.pod.gone").map((e) => e.data.pod),
      ["shop/web-0"],
    );
  });

  it("reports a stall naming the pod and the budget, once per budget per period, then times out", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 2, nodes: ["blue-0"], minAvailable: 2 });
    });
    await assert.rejects(
      h.run({ nodes: ["blue-0"], stallAfterMs: 100, timeoutMs: 1_000 }),
      (err: unknown) => {
        assert.ok(isTenkaiError(err, "ROTATION_TIMEOUT"), String(err));
        assert.match(err.message, /blocked by shop\/web/);
        return true;
      },
    );
    const stalls = codes(h.events, "rotation.stalled");
    assert.ok(
      stalls.length >= 2 && stalls.length <= 12,
      `${stalls.length} stall reports in 1 s at one per 100 ms`,
    );
    const s = stalls[0];
    assert.ok(s?.code === "rotation.stalled");
    assert.equal(s.level, "warn");
    assert.equal(s.data.budget, "shop/web");
    assert.deepEqual([s.data.healthy, s.data.desired, s.data.allowed], [2, 2, 0]);
    assert.deepEqual(h.cluster.evictionRequests, [], "nothing was sent against a budget that allows nothing");
  });

  it("refuses a pod no controller re-creates that arrived after the plan (POD_UNREPLICATED)", async () => {
    const h = harness((c) => {
      c.addPod("stray", { node: "blue-0", app: "stray", owner: null });
    });
    await assert.rejects(h.run({ nodes: ["blue-0"] }), (err: unknown) =>
      isTenkaiError(err, "POD_UNREPLICATED"),
    );
    assert.deepEqual(h.cluster.evictionRequests, []);
  });

  it("surges a single-replica Deployment: the replacement is Ready before the old pod is evicted", async () => {
    const h = harness((c) => {
      c.addDeployment("solo", { replicas: 1, nodes: ["blue-0"] });
    });
    await h.run({ nodes: ["blue-0"] });
    assert.deepEqual(h.cluster.patches, ["shop/solo replicas=2", "shop/solo replicas=1"]);
    const order = h.events
      .map((e) => e.code)
      .filter((c) => c.startsWith("rotation.surge") || c === "rotation.pod.evicted");
    assert.deepEqual(order, [
      "rotation.surge.started",
      "rotation.surge.ready",
      "rotation.pod.evicted",
      "rotation.surge.restored",
    ]);
  });

  it("reports every fault point evicted:N exactly once, even when a surge restore is slow", async () => {
    const h = harness((c) => {
      c.addDeployment("solo", { replicas: 1, nodes: ["blue-0"] });
      c.addDeployment("web", { replicas: 8, nodes: ["blue-0", "blue-1"], minAvailable: 7 });
      // Scaling solo back takes a while: other evictions are answered meanwhile.
      c.patchDelay = async (key) => {
        if (key === "shop/solo" && c.patches.length > 0)
          for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
      };
    });
    const points: string[] = [];
    await h.run({ checkpoint: (p) => points.push(p) });
    const evictedPoints = points.filter((p) => p.startsWith("evicted:"));
    assert.deepEqual(
      evictedPoints.map((p) => Number(p.slice("evicted:".length))).sort((a, b) => a - b),
      Array.from({ length: 9 }, (_, i) => i + 1),
    );
  });

  it("stops at a checkpoint that throws, with the evictions so far counted (fault point evicted:N)", async () => {
    const h = harness((c) => {
      c.addDeployment("web", { replicas: 8, nodes: ["blue-0", "blue-1"], minAvailable: 0 });
    });
    const crash = new Error("killed");
    await assert.rejects(
      h.run({
        checkpoint: (p) => {
          if (p === "evicted:6") throw crash;
        },
      }),
      crash,
    );
    assert.ok(h.cluster.evicted.length >= 6);
  });
});
