/**
 * The `local` node provider: a node group slot is a set of real nodes on this machine, each a
 * network namespace running containerd, a kubelet and kube-proxy, started and stopped by
 * `cluster/node.sh` in the local cluster's directory. Pods on these nodes run and carry traffic,
 * which kwok's simulated nodes never do; the slot's labels, zones and instance types are the ones
 * the kwok provider gives (shared code: ../node-placement.ts).
 *
 * Like kwok, the slot's spec is recorded in a ConfigMap (../slot-records.ts), so a slot with
 * `desired: 0` exists and a repeated create is told from a conflicting one.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node } from "@kubernetes/client-node";
import {
  type InstanceType,
  instanceTypeTable,
  NODEGROUP_LABEL,
  nodeName,
  PROVIDER_LABEL,
  SLOT_SPEC_HASH_ANNOTATION,
  slotSpecHash,
  slotSpecProblem,
} from "../node-placement.js";
import {
  type NodeGroupSlotSpec,
  type NodeGroupSlotState,
  type NodeGroupStatus,
  type NodeProvider,
  NodeProviderError,
  type NodeProviderErrorCode,
} from "../node-provider.js";
import {
  compareNodeNames,
  type InClusterProviderOptions,
  recordedSpec,
  SlotRecords,
  statusOf,
  wrapApiError,
} from "../slot-records.js";
import { runClusterScript, type ScriptRunner, tail } from "./cluster-scripts.js";
import { nodeStart, realNodeProblem, reservationAnnotations } from "./node-args.js";

export interface LocalNodeProviderOptions extends InClusterProviderOptions {
  /** The local cluster's directory (`cluster/up.sh --dir`): node state, logs and PID files go there. */
  readonly clusterDir: string;
  /** Nodes started at once. Default 3. */
  readonly parallel?: number;
  /** How long a started node may take to register its Node object. Default 120 000 ms. */
  readonly registerTimeoutMs?: number;
  /** Runs `bash cluster/<script>`; default runs the package's scripts. */
  readonly runScript?: ScriptRunner;
}

/** `providerID` of a real local node; the kubelet registers without one, the provider sets it. */
export const LOCAL_PROVIDER_ID_PREFIX = "local://";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class LocalNodeProvider implements NodeProvider {
  readonly name = "local";
  private readonly core: CoreV1Api;
  private readonly records: SlotRecords;
  private readonly clusterDir: string;
  private readonly region: string | undefined;
  private readonly instanceTypes: Readonly<Record<string, InstanceType>>;
  private readonly parallel: number;
  private readonly registerTimeoutMs: number;
  private readonly runScript: ScriptRunner;

  constructor(options: LocalNodeProviderOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.records = new SlotRecords(this.core, options.stateNamespace ?? "kube-system", "local");
    this.clusterDir = options.clusterDir;
    this.region = options.region;
    this.instanceTypes = options.instanceTypes ?? instanceTypeTable();
    this.parallel = options.parallel ?? 3;
    this.registerTimeoutMs = options.registerTimeoutMs ?? 120_000;
    this.runScript = options.runScript ?? ((s, a) => runClusterScript(s, a));
  }

  /**
   * Records the slot, starts every node that is not running yet (`node.sh up`), waits until each
   * has registered its Node object and sets its providerID. Returns before the nodes are Ready.
   */
  async createSlot(spec: NodeGroupSlotSpec): Promise<void> {
    const name = spec.nodegroupName;
    const problem = slotSpecProblem(spec, this.instanceTypes) ?? realNodeProblem(spec, this.instanceTypes);
    if (problem)
      throw new NodeProviderError("CREATE_FAILED", `creating node group ${name}: ${problem}`, name);
    const hash = slotSpecHash(spec);
    await this.records.record(spec, hash);

    const running = new Set(await this.runningNodes(name, "CREATE_FAILED"));
    const all = Array.from({ length: spec.desired }, (_, i) =>
      nodeStart(spec, i, {
        clusterDir: this.clusterDir,
        instanceTypes: this.instanceTypes,
        ...(this.region ? { region: this.region } : {}),
      }),
    );
    const starts = all.filter((s) => !running.has(s.placement.name));

    await eachLimited(starts, this.parallel, async ({ placement, args }) => {
      const r = await this.runScript("node.sh", ["up", ...args]);
      if (r.code !== 0) {
        throw new NodeProviderError(
          "CREATE_FAILED",
          `starting node ${placement.name} of node group ${name}: cluster/node.sh up exited ${r.code}:\n${tail(r.stderr)}`,
          name,
        );
      }
    });
    // The allocatable each node reserves down to, and what the machine could not give.
    const annotations = new Map(
      all.map((s) => [s.placement.name, reservationAnnotations(s.placement.instanceType, s.reservation)]),
    );
    await eachLimited(
      Array.from({ length: spec.desired }, (_, i) => nodeName(name, i)),
      this.parallel,
      (node) => this.adopt(node, name, hash, annotations.get(node) ?? {}),
    );
  }

  async describeSlot(nodegroupName: string): Promise<NodeGroupSlotState | undefined> {
    const state = await this.records.read(nodegroupName, "UNAVAILABLE");
    if (!state) return undefined;
    const nodes = await this.listNodes(nodegroupName, "UNAVAILABLE");
    const ready = nodes.filter(isReady);
    const desired = recordedSpec(state)?.desired ?? 0;
    let status: NodeGroupStatus = "ACTIVE";
    if (state.metadata?.deletionTimestamp) status = "DELETING";
    else if (nodes.length < desired || ready.length < nodes.length) status = "CREATING";
    return {
      nodegroupName,
      status,
      nodeNames: nodes.map((n) => n.metadata?.name ?? "").sort(compareNodeNames),
      issues: [],
    };
  }

  /** Stops every node of the slot (`node.sh down`), deletes their Node objects, then the record. */
  async deleteSlot(nodegroupName: string): Promise<void> {
    const names = new Set([
      ...(await this.runningNodes(nodegroupName, "DELETE_FAILED", true)),
      ...(await this.listNodes(nodegroupName, "DELETE_FAILED")).map((n) => n.metadata?.name ?? ""),
    ]);
    names.delete("");
    await eachLimited([...names], this.parallel, async (node) => {
      const r = await this.runScript("node.sh", ["down", "--dir", this.clusterDir, "--name", node]);
      if (r.code !== 0) {
        throw new NodeProviderError(
          "DELETE_FAILED",
          `stopping node ${node} of node group ${nodegroupName}: cluster/node.sh down exited ${r.code}:\n${tail(r.stderr)}`,
          nodegroupName,
        );
      }
      try {
        await this.core.deleteNode({ name: node });
      } catch (err) {
        if (statusOf(err) !== 404)
          throw wrapApiError(err, "DELETE_FAILED", nodegroupName, `deleting node ${node}`);
      }
    });
    await this.records.remove(nodegroupName);
  }

  /**
   * Names of the slot's nodes known in the cluster directory (`node.sh list`): those whose
   * processes run, or with `all` also those stopped but not cleaned up.
   */
  private async runningNodes(
    nodegroupName: string,
    code: NodeProviderErrorCode,
    all = false,
  ): Promise<string[]> {
    const r = await this.runScript("node.sh", ["list", "--dir", this.clusterDir]);
    if (r.code !== 0) {
      throw new NodeProviderError(
        code,
        `listing the nodes in ${this.clusterDir}: cluster/node.sh list exited ${r.code}:\n${tail(r.stderr)}`,
        nodegroupName,
      );
    }
    const ofSlot = new RegExp(`^${escapeRegExp(nodegroupName)}-\\d+$`);
    return parseNodeList(r.stdout)
      .filter((n) => (all || n.running) && ofSlot.test(n.name))
      .map((n) => n.name);
  }

  /**
   * Waits for a started node's Node object, then marks it as this provider's: providerID
   * `local://<name>` (settable once, while empty) and the slot's spec hash.
   */
  private async adopt(
    node: string,
    nodegroupName: string,
    hash: string,
    annotations: Readonly<Record<string, string | null>>,
  ): Promise<void> {
    const deadline = Date.now() + this.registerTimeoutMs;
    let found: V1Node | undefined;
    while (!found) {
      try {
        found = await this.core.readNode({ name: node });
      } catch (err) {
        if (statusOf(err) !== 404)
          throw wrapApiError(err, "CREATE_FAILED", nodegroupName, `reading node ${node}`);
        if (Date.now() > deadline) {
          throw new NodeProviderError(
            "CREATE_FAILED",
            `node ${node} of node group ${nodegroupName} did not register within ${this.registerTimeoutMs} ms; see its kubelet log under ${this.clusterDir}`,
            nodegroupName,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const providerID = found.spec?.providerID;
    const hashNow = found.metadata?.annotations?.[SLOT_SPEC_HASH_ANNOTATION];
    const have = found.metadata?.annotations ?? {};
    const annotated = Object.entries(annotations).every(([k, v]) => (have[k] ?? null) === v);
    if (providerID && hashNow === hash && annotated) return;
    const patch = {
      metadata: { annotations: { ...annotations, [SLOT_SPEC_HASH_ANNOTATION]: hash } },
      ...(providerID ? {} : { spec: { providerID: `${LOCAL_PROVIDER_ID_PREFIX}${node}` } }),
    };
    try {
      // A merge patch: the generated client sends JSON Patch unless told otherwise.
      await this.core.patchNode({ name: node, body: patch }, mergePatch);
    } catch (err) {
      throw wrapApiError(
        err,
        "CREATE_FAILED",
        nodegroupName,
        `marking node ${node} as node group ${nodegroupName}'s`,
      );
    }
  }

  private async listNodes(name: string, code: NodeProviderErrorCode): Promise<V1Node[]> {
    try {
      return (
        await this.core.listNode({ labelSelector: `${NODEGROUP_LABEL}=${name},${PROVIDER_LABEL}=local` })
      ).items;
    } catch (err) {
      throw wrapApiError(err, code, name, `listing the nodes of node group ${name}`);
    }
  }
}

/** One line of `node.sh list` / `node.sh up`: `{"name","address","podCIDR","running"}`. */
export interface LocalNodeInfo {
  readonly name: string;
  readonly address: string;
  readonly podCIDR: string;
  /** Whether any of the node's processes runs (`node.sh up` prints no `running`: true). */
  readonly running: boolean;
}

/** Parses `node.sh list` output (JSON lines); lines that are not JSON objects with a name are skipped. */
export function parseNodeList(stdout: string): LocalNodeInfo[] {
  const out: LocalNodeInfo[] = [];
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      const v = JSON.parse(t) as Partial<LocalNodeInfo>;
      if (typeof v.name === "string")
        out.push({
          name: v.name,
          address: String(v.address ?? ""),
          podCIDR: String(v.podCIDR ?? ""),
          running: v.running !== false,
        });
    } catch {
      // not a node line
    }
  }
  return out;
}

function isReady(n: V1Node): boolean {
  return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
