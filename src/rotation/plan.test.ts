import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  V1Deployment,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
} from "@kubernetes/client-node";
import type { NodeGroupSlotSpec } from "../providers/node-provider.js";
import { BudgetTracker } from "./budgets.js";
import { decidePod } from "./filters.js";
import { decide, desiredHealthy, type PlanInput } from "./plan.js";

function pod(
  name: string,
  opts: {
    node?: string;
    app?: string;
    owner?: { kind: string; name: string } | null;
    emptyDir?: boolean;
    mirror?: boolean;
    cpu?: string;
  } = {},
): V1Pod {
  const owner =
    opts.owner === undefined ? { kind: "ReplicaSet", name: `${opts.app ?? "web"}-rs` } : opts.owner;
  return {
    metadata: {
      name,
      namespace: "shop",
      uid: `uid-${name}`,
      labels: { app: opts.app ?? "web" },
      ...(opts.mirror ? { annotations: { "kubernetes.io/config.mirror": "x" } } : {}),
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: "o", controller: true },
            ],
          }
        : {}),
    },
    spec: {
      nodeName: opts.node ?? "general-blue-0",
      containers: [
        { name: "c", image: "i", resources: { requests: { cpu: opts.cpu ?? "100m", memory: "128Mi" } } },
      ],
      ...(opts.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

function pdb(
  name: string,
  app: string,
  spec: { minAvailable?: number | string; maxUnavailable?: number | string },
  status: { expected: number; healthy: number; desired: number; allowed: number },
): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace: "shop", generation: 1 },
    spec: { selector: { matchLabels: { app } }, ...spec } as V1PodDisruptionBudget["spec"],
    status: {
      observedGeneration: 1,
      expectedPods: status.expected,
      currentHealthy: status.healthy,
      desiredHealthy: status.desired,
      disruptionsAllowed: status.allowed,
    },
  };
}

function deployment(app: string, replicas: number): { rs: V1ReplicaSet; dep: V1Deployment } {
  return {
    rs: {
      metadata: {
        name: `${app}-rs`,
        namespace: "shop",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: app, uid: "d", controller: true },
        ],
      },
    },
    dep: {
      metadata: { name: app, namespace: "shop" },
      spec: { replicas, selector: { matchLabels: { app } }, template: {} },
    },
  };
}

const node = (name: string, zone: string): V1Node => ({
  metadata: { name, labels: { "topology.kubernetes.io/zone": zone } },
});
const green: NodeGroupSlotSpec = {
  group: "general",
  slot: "green",
  nodegroupName: "general-green",
  instanceTypes: ["m6i.large"],
  desired: 2,
  min: 1,
  max: 4,
  zones: ["ap-northeast-1a", "ap-northeast-1c"],
  kubernetesVersion: "1.35",
  labels: {},
  taints: [],
  capacityType: "ON_DEMAND",
};

function input(over: Partial<PlanInput>): PlanInput {
  const web = deployment("web", 3);
  return {
    group: "general",
    from: "blue",
    to: "green",
    blueNodes: [node("general-blue-0", "ap-northeast-1a"), node("general-blue-1", "ap-northeast-1c")],
    bluePods: [],
    pdbs: [],
    replicaSets: [web.rs],
    deployments: [web.dep],
    greenSpec: green,
    greenFree: { cpuMilli: 3000, memoryBytes: 8 * 2 ** 30, pods: 50 },
    forceUnreplicated: false,
    deleteEmptyDirData: false,
    noSurge: false,
    ...over,
  };
}

describe("pod filters (kubectl drain's verdicts)", () => {
  const opts = { forceUnreplicated: false, deleteEmptyDirData: false };
  it("skips DaemonSet and mirror pods, refuses unreplicated and emptyDir pods unless told", () => {
    assert.equal(
      decidePod(pod("ds", { owner: { kind: "DaemonSet", name: "fluent-bit" } }), opts).reason,
      "daemonset",
    );
    assert.equal(decidePod(pod("m", { owner: null, mirror: true }), opts).verdict, "skip");
    assert.equal(decidePod(pod("bare", { owner: null }), opts).verdict, "block");
    assert.equal(
      decidePod(pod("bare", { owner: null }), { ...opts, forceUnreplicated: true }).verdict,
      "evict",
    );
    assert.equal(decidePod(pod("tmp", { emptyDir: true }), opts).reason, "emptydir");
    const scratch = pod("scratch", { emptyDir: true });
    scratch.metadata = {
      ...scratch.metadata,
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": "scratch" },
    };
    assert.equal(
      decidePod(scratch, opts).verdict,
      "evict",
      "a volume the pod declares disposable holds nothing back",
    );
    const forced = decidePod(pod("tmp", { emptyDir: true }), { ...opts, deleteEmptyDirData: true });
    assert.equal(forced.verdict, "evict");
    assert.match(forced.warning ?? "", /scratch/);
  });
});

describe("decide", () => {
  it("reports every blocker at once, with the pod, node and budgets", () => {
    const plan = decide(
      input({
        bluePods: [
          pod("web-1"),
          pod("bare", { owner: null }),
          pod("tmp-1", { emptyDir: true }),
          pod("multi", { app: "web" }),
        ],
        pdbs: [
          pdb("web-a", "web", { maxUnavailable: 1 }, { expected: 3, healthy: 3, desired: 2, allowed: 1 }),
          pdb("web-b", "web", { minAvailable: 1 }, { expected: 3, healthy: 3, desired: 1, allowed: 2 }),
        ],
      }),
    );
    const codes = plan.blockers.map((b) => b.code).sort();
    assert.deepEqual(codes, [
      "POD_EMPTYDIR",
      "POD_MULTIPLE_BUDGETS",
      "POD_MULTIPLE_BUDGETS",
      "POD_UNREPLICATED",
    ]);
    const multi = plan.blockers.find((b) => b.pod === "shop/multi");
    assert.deepEqual(multi?.budgets, ["shop/web-a", "shop/web-b"]);
  });

  it("surges single-replica Deployments and counts the extra pod against green", () => {
    const one = deployment("solo", 1);
    const plan = decide(
      input({
        bluePods: [pod("solo-1", { app: "solo", cpu: "1000m" })],
        replicaSets: [one.rs],
        deployments: [one.dep],
        pdbs: [pdb("solo", "solo", { minAvailable: 1 }, { expected: 1, healthy: 1, desired: 1, allowed: 0 })],
        greenFree: { cpuMilli: 1500, memoryBytes: 8 * 2 ** 30, pods: 10 },
      }),
    );
    assert.deepEqual(plan.surge, ["shop/solo"]);
    assert.equal(plan.capacity.cpuMilli, 2000);
    assert.deepEqual(
      plan.blockers.map((b) => b.code),
      ["GREEN_TOO_SMALL"],
    );
  });

  it("a budget that can never allow an eviction is a blocker; with --no-surge so is minAvailable 1 of 1", () => {
    const one = deployment("solo", 1);
    const base = {
      bluePods: [pod("solo-1", { app: "solo" })],
      replicaSets: [one.rs],
      deployments: [one.dep],
      pdbs: [pdb("solo", "solo", { minAvailable: 1 }, { expected: 1, healthy: 1, desired: 1, allowed: 0 })],
    };
    assert.deepEqual(decide(input(base)).blockers, []);
    assert.deepEqual(
      decide(input({ ...base, noSurge: true })).blockers.map((b) => b.code),
      ["BUDGET_ALLOWS_NONE"],
    );
    const strict = {
      ...base,
      pdbs: [pdb("solo", "solo", { maxUnavailable: 0 }, { expected: 1, healthy: 1, desired: 1, allowed: 0 })],
    };
    assert.deepEqual(
      decide(input(strict)).blockers.map((b) => b.code),
      ["BUDGET_ALLOWS_NONE"],
    );
  });

  it("refuses a green slot that misses a zone the blue nodes use", () => {
    const plan = decide(input({ greenSpec: { ...green, zones: ["ap-northeast-1a"] } }));
    assert.equal(plan.blockers[0]?.code, "ZONE_NOT_COVERED");
    assert.match(plan.blockers[0]?.message ?? "", /ap-northeast-1c/);
  });

  it("computes desiredHealthy like the disruption controller (percentages round up)", () => {
    const p = (spec: { minAvailable?: number | string; maxUnavailable?: number | string }) =>
      pdb("x", "x", spec, { expected: 0, healthy: 0, desired: 0, allowed: 0 });
    assert.equal(desiredHealthy(p({ minAvailable: "50%" }), 15), 8);
    assert.equal(desiredHealthy(p({ maxUnavailable: 1 }), 15), 14);
    assert.equal(desiredHealthy(p({ maxUnavailable: "10%" }), 15), 13);
    assert.equal(desiredHealthy(p({ minAvailable: 1 }), 2), 1);
  });
});

describe("BudgetTracker", () => {
  it("counts in-flight evictions until the budget's status shows them", () => {
    let now = 0;
    const t = new BudgetTracker(() => now, 10_000);
    t.upsert(pdb("web", "web", { maxUnavailable: 2 }, { expected: 5, healthy: 5, desired: 3, allowed: 2 }));
    t.reserve(["shop/web"], "web-1");
    assert.equal(t.status("shop/web").allowed, 1);
    t.accepted(["shop/web"], "web-1");
    assert.equal(t.status("shop/web").allowed, 1, "accepted but not yet in the status: still counted");
    const seen = pdb(
      "web",
      "web",
      { maxUnavailable: 2 },
      { expected: 5, healthy: 5, desired: 3, allowed: 1 },
    );
    seen.status = { ...seen.status, disruptedPods: { "web-1": new Date() } } as never;
    t.upsert(seen);
    assert.equal(t.status("shop/web").allowed, 1, "the status now carries it: not counted twice");
    t.reserve(["shop/web"], "web-2");
    t.release(["shop/web"], "web-2");
    assert.equal(t.status("shop/web").allowed, 1, "a refused eviction gives the budget back");
    t.reserve(["shop/web"], "web-3");
    t.accepted(["shop/web"], "web-3");
    now = 11_000;
    assert.equal(t.status("shop/web").allowed, 1, "an eviction that never shows in the status expires");
  });

  it("allows nothing while the status is older than the budget's spec", () => {
    const t = new BudgetTracker(() => 0);
    const stale = pdb(
      "web",
      "web",
      { maxUnavailable: 1 },
      { expected: 5, healthy: 5, desired: 4, allowed: 1 },
    );
    stale.metadata = { ...stale.metadata, generation: 2 };
    t.upsert(stale);
    assert.equal(t.status("shop/web").allowed, 0);
  });
});
