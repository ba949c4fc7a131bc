/**
 * The conformance suite every {@link NodeProvider} passes (STYLE.md 1; after hono's router
 * conformance tests and Karpenter's cloud-provider suite). It checks the contract the rotation
 * engine relies on, through the provider's methods and the Node objects in the cluster:
 *
 *   const target = ...; nodeProviderConformance("kwok", async () => target ?? "no local cluster: ...");
 *
 * `makeTarget` returns the provider to test, or a string saying why it cannot run here; every
 * case then skips with that reason (printed, never silent).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { instanceTypeTable, nodeResources } from "../../src/providers/node-placement.js";
import {
  isNodeProviderError,
  type NodeGroupSlotSpec,
  type NodeProvider,
} from "../../src/providers/node-provider.js";
import { nodegroupName } from "../../src/shared/aws-names.js";
import { parseQuantity } from "../../src/spec/quantity.js";

export interface ConformanceTarget {
  readonly provider: NodeProvider;
  /** The cluster the provider's nodes join; the suite checks Node objects there. */
  readonly kubeConfig: KubeConfig;
  /** Zones and instance types the provider can use; the suite needs at least two zones. */
  readonly zones: readonly string[];
  readonly instanceTypes: readonly string[];
  readonly kubernetesVersion: string;
  /** How long nodes may take to be Ready (seconds for kwok, minutes for EKS). */
  readonly readyTimeoutMs: number;
  /** How long deleted nodes may take to leave the cluster. */
  readonly goneTimeoutMs: number;
  /**
   * Cases this target cannot run here, by title, each with the reason printed when it skips (a
   * stand-in service that fails the call the case needs). Say the same in the README.
   */
  readonly cannotRun?: Readonly<Record<string, string>>;
}

const DELETE_CASE =
  "deleteSlot removes the slot and its nodes, leaves the other slot alone, and is idempotent";

export function nodeProviderConformance(
  name: string,
  makeTarget: () => Promise<ConformanceTarget | string>,
): void {
  describe(`NodeProvider conformance: ${name}`, () => {
    let target: ConformanceTarget | undefined;
    let skipReason = "";
    const run = randomBytes(3).toString("hex");
    const made: string[] = [];

    before(async () => {
      const t = await makeTarget();
      if (typeof t === "string") {
        skipReason = t;
        process.stderr.write(`NodeProvider conformance ${name}: skipping: ${t}\n`);
      } else {
        target = t;
      }
    });
    after(async () => {
      if (!target || target.cannotRun?.[DELETE_CASE]) return;
      for (const ng of made) await target.provider.deleteSlot(ng);
    });
    /** The case's skip reason, or "" when it runs. */
    const cannot = (title: string): string => (!target ? skipReason : (target.cannotRun?.[title] ?? ""));

    /** A slot spec with a name unique to this run, so runs against one cluster never collide. */
    const spec = (
      group: string,
      slot: "blue" | "green",
      over: Partial<NodeGroupSlotSpec> = {},
    ): NodeGroupSlotSpec => {
      const t = target!;
      const name = nodegroupName(`conf-${run}-${group}`, slot);
      made.push(name);
      return {
        group: `conf-${run}-${group}`,
        slot,
        nodegroupName: name,
        instanceTypes: t.instanceTypes,
        desired: 3,
        min: 0,
        max: 6,
        zones: t.zones,
        kubernetesVersion: t.kubernetesVersion,
        labels: { "tenkai.dev/conformance": run },
        taints: [],
        capacityType: "ON_DEMAND",
        ...over,
      };
    };
    const nodesOf = async (nodegroupName: string): Promise<V1Node[]> =>
      (
        await target!.kubeConfig
          .makeApiClient(CoreV1Api)
          .listNode({ labelSelector: `eks.amazonaws.com/nodegroup=${nodegroupName}` })
      ).items;
    const until = async <T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await check();
        if (v !== undefined) return v;
        if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const ready = (n: V1Node) =>
      n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

    it("describeSlot of a node group that does not exist returns undefined", async (t) => {
      if (!target || cannot("describeSlot of a node group that does not exist returns undefined"))
        return t.skip(cannot("describeSlot of a node group that does not exist returns undefined"));
      assert.equal(await target.provider.describeSlot(`conf-${run}-missing-blue`), undefined);
    });

    it("deleteSlot of a node group that does not exist succeeds", async (t) => {
      if (!target || cannot("deleteSlot of a node group that does not exist succeeds"))
        return t.skip(cannot("deleteSlot of a node group that does not exist succeeds"));
      await target.provider.deleteSlot(`conf-${run}-missing-green`);
    });

    it("createSlot brings up `desired` Ready nodes with EKS labels, spread over the zones", async (t) => {
      if (
        !target ||
        cannot("createSlot brings up `desired` Ready nodes with EKS labels, spread over the zones")
      )
        return t.skip(
          cannot("createSlot brings up `desired` Ready nodes with EKS labels, spread over the zones"),
        );
      const s = spec("spread", "blue", {
        desired: 4,
        taints: [{ key: "dedicated", value: "web", effect: "NoSchedule" }],
      });
      await target.provider.createSlot(s);
      const state = await until("node group ACTIVE", target.readyTimeoutMs, async () => {
        const d = await target!.provider.describeSlot(s.nodegroupName);
        return d?.status === "ACTIVE" ? d : undefined;
      });
      assert.equal(state.nodeNames.length, 4);
      const nodes = await nodesOf(s.nodegroupName);
      assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), [...state.nodeNames].sort());
      for (const n of nodes) {
        const labels = n.metadata?.labels ?? {};
        assert.ok(ready(n), `${n.metadata?.name} is Ready`);
        assert.equal(labels["eks.amazonaws.com/nodegroup"], s.nodegroupName);
        assert.equal(labels["eks.amazonaws.com/capacityType"], "ON_DEMAND");
        assert.ok(s.instanceTypes.includes(labels["node.kubernetes.io/instance-type"] ?? ""));
        assert.ok(s.zones.includes(labels["topology.kubernetes.io/zone"] ?? ""));
        assert.ok(labels["topology.kubernetes.io/region"], "region label set");
        assert.equal(labels["kubernetes.io/hostname"], n.metadata?.name);
        assert.equal(labels["tenkai.dev/conformance"], run, "spec labels are applied");
        assert.ok(n.spec?.providerID, "providerID set");
        assert.ok(
          n.spec?.taints?.some(
            (x) => x.key === "dedicated" && x.value === "web" && x.effect === "NoSchedule",
          ),
          "spec taints are applied",
        );
        assert.ok(Number(n.status?.allocatable?.pods) > 0, "allocatable pods set");
        allocatableOfType(n);
      }
      const zonesUsed = new Set(nodes.map((n) => n.metadata?.labels?.["topology.kubernetes.io/zone"]));
      assert.equal(zonesUsed.size, Math.min(4, s.zones.length), "every zone gets nodes");
    });

    it("createSlot again with the same spec is idempotent", async (t) => {
      if (!target || cannot("createSlot again with the same spec is idempotent"))
        return t.skip(cannot("createSlot again with the same spec is idempotent"));
      const s = spec("idem", "blue", { desired: 2 });
      await target.provider.createSlot(s);
      await target.provider.createSlot(s);
      const state = await until("node group ACTIVE", target.readyTimeoutMs, async () => {
        const d = await target!.provider.describeSlot(s.nodegroupName);
        return d?.status === "ACTIVE" ? d : undefined;
      });
      assert.equal(state.nodeNames.length, 2);
      assert.equal((await nodesOf(s.nodegroupName)).length, 2);
    });

    it("createSlot with another spec for an existing node group throws ALREADY_EXISTS_DIFFERENT", async (t) => {
      if (
        !target ||
        cannot("createSlot with another spec for an existing node group throws ALREADY_EXISTS_DIFFERENT")
      )
        return t.skip(
          cannot("createSlot with another spec for an existing node group throws ALREADY_EXISTS_DIFFERENT"),
        );
      const s = spec("diff", "green", { desired: 1 });
      await target.provider.createSlot(s);
      await assert.rejects(
        target.provider.createSlot({ ...s, desired: 2 }),
        (err: unknown) =>
          isNodeProviderError(err, "ALREADY_EXISTS_DIFFERENT") && err.nodegroupName === s.nodegroupName,
      );
    });

    it("a slot with zero nodes still exists", async (t) => {
      if (!target || cannot("a slot with zero nodes still exists"))
        return t.skip(cannot("a slot with zero nodes still exists"));
      const s = spec("zero", "blue", { desired: 0 });
      await target.provider.createSlot(s);
      const state = await target.provider.describeSlot(s.nodegroupName);
      assert.ok(state, "describeSlot finds the empty slot");
      assert.deepEqual(state.nodeNames, []);
    });

    it("deleteSlot removes the slot and its nodes, leaves the other slot alone, and is idempotent", async (t) => {
      if (
        !target ||
        cannot("deleteSlot removes the slot and its nodes, leaves the other slot alone, and is idempotent")
      )
        return t.skip(
          cannot("deleteSlot removes the slot and its nodes, leaves the other slot alone, and is idempotent"),
        );
      const blue = spec("rotate", "blue", { desired: 2 });
      const green = spec("rotate", "green", { desired: 2 });
      await target.provider.createSlot(blue);
      await target.provider.createSlot(green);
      await until("both slots' nodes", target.readyTimeoutMs, async () =>
        (await nodesOf(blue.nodegroupName)).length === 2 && (await nodesOf(green.nodegroupName)).length === 2
          ? true
          : undefined,
      );
      await target.provider.deleteSlot(blue.nodegroupName);
      await until("blue's nodes gone", target.goneTimeoutMs, async () =>
        (await target!.provider.describeSlot(blue.nodegroupName)) === undefined &&
        (await nodesOf(blue.nodegroupName)).length === 0
          ? true
          : undefined,
      );
      assert.equal((await nodesOf(green.nodegroupName)).length, 2, "green keeps its nodes");
      await target.provider.deleteSlot(blue.nodegroupName);
    });

    it("rejects a spec it cannot build with CREATE_FAILED and a way to fix it", async (t) => {
      if (!target || cannot("rejects a spec it cannot build with CREATE_FAILED and a way to fix it"))
        return t.skip(cannot("rejects a spec it cannot build with CREATE_FAILED and a way to fix it"));
      const s = spec("bad", "blue", { instanceTypes: ["nope.huge"], desired: 1 });
      await assert.rejects(target.provider.createSlot(s), (err: unknown) => {
        assert.ok(isNodeProviderError(err, "CREATE_FAILED"), `got ${String(err)}`);
        assert.match(err.message, /nope\.huge/);
        return true;
      });
      assert.equal(await target.provider.describeSlot(s.nodegroupName), undefined, "nothing was created");
    });
  });
}

/**
 * The scheduler sees the instance type's allocatable (what the kwok provider gives a simulated
 * node, and what the EKS AMI reserves down to): equal, except a resource the node's
 * `tenkai.dev/allocatable-clamped` annotation says the machine had less of (real local nodes).
 */
function allocatableOfType(n: V1Node): void {
  const name = n.metadata?.name;
  const type = instanceTypeTable()[n.metadata?.labels?.["node.kubernetes.io/instance-type"] ?? ""];
  assert.ok(type, `${name}: instance type known`);
  const want = nodeResources(type).allocatable;
  const have = n.status?.allocatable ?? {};
  const clamped = n.metadata?.annotations?.["tenkai.dev/allocatable-clamped"] ?? "";
  assert.equal(have.pods, want.pods, `${name}: allocatable pods`);
  for (const r of ["cpu", "memory"] as const) {
    const h = parseQuantity(have[r] ?? "0");
    const w = parseQuantity(want[r] ?? "0");
    // A kubelet counts memory in Ki from the machine's MemTotal: within 1 Mi of the type's.
    const slack = r === "memory" ? 2 ** 20 : 0;
    if (clamped.includes(`${r}:`)) assert.ok(h <= w, `${name}: ${r} ${have[r]} clamped below ${want[r]}`);
    else
      assert.ok(Math.abs(h - w) <= slack, `${name}: allocatable ${r} ${have[r]}, the type's is ${want[r]}`);
  }
}
