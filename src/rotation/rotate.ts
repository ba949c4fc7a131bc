/**
 * `tenkai nodes rotate GROUP`: a resumable state machine. Each phase is idempotent and the state
 * is written to the cluster (state.ts) after every step, so a run killed anywhere continues from
 * where it stopped when started again.
 *
 *   creating-green -> waiting-green -> cordoning -> draining -> deleting-blue -> done
 *
 * `deleting-blue` first waits for the moved pods to be healthy load balancer targets (targets.ts).
 */
import type { V1Node } from "@kubernetes/client-node";
import { mapLimit } from "../kube/api/concurrency.js";
import { kwokInstanceTypes, nodeResources } from "../providers/kwok/node-template.js";
import type { NodeGroupSlotSpec, Slot } from "../providers/node-provider.js";
import { nodegroupName } from "../shared/aws-names.js";
import { type Clock, systemClock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import { type Emit, emitter } from "../shared/events.js";
import { isNotFound, kubeError, kubeMessage } from "../shared/kube-errors.js";
import { TENANT_LABEL } from "../shared/kube-names.js";
import { type ClusterClients, type PodView, zoneOf } from "./cluster.js";
import { Drainer, fmtMs } from "./drain.js";
import { decidePod, isLeavingFinished } from "./filters.js";
import { cordon, freeCapacity, slotNodes, waitSlotReady, withProviderRetry } from "./nodes.js";
import { decide } from "./plan.js";
import { StateStore } from "./state.js";
import { Surger } from "./surge.js";
import { waitTargetsHealthy } from "./targets.js";
import type {
  RotationDeps,
  RotationEvent,
  RotationOptions,
  RotationPhase,
  RotationPlan,
  RotationState,
} from "./types.js";

export interface RotationResult {
  readonly group: string;
  readonly phase: RotationPhase;
  readonly activeSlot: Slot;
  readonly plan?: RotationPlan;
  readonly ms: number;
}

/** Options with every default filled (STYLE.md 7: defaults resolved in one place). */
export function resolveOptions(o: RotationOptions) {
  return {
    ...o,
    maxDraining: o.maxDraining ?? 10,
    maxConcurrentEvictions: o.maxConcurrentEvictions ?? 64,
    // No window by default: on a loaded 2-core machine a window of 64 made the full-size bench
    // slower (the control plane's latency, not a queue, set the pace; bench/README in README.md).
    maxPodsMoving: o.maxPodsMoving ?? Number.POSITIVE_INFINITY,
    timeoutMs: o.timeoutMs ?? 30 * 60_000,
    stallAfterMs: o.stallAfterMs ?? 10_000,
    budgetTimeoutMs: o.budgetTimeoutMs ?? 15 * 60_000,
    forceUnreplicated: o.forceUnreplicated ?? false,
    deleteEmptyDirData: o.deleteEmptyDirData ?? false,
    noSurge: o.noSurge ?? false,
    dryRun: o.dryRun ?? false,
  };
}
type Resolved = ReturnType<typeof resolveOptions>;

/** Independent API calls (cordons, reads) in flight at once. */
const API_PARALLEL = 16;

export const other = (s: Slot): Slot => (s === "blue" ? "green" : "blue");
const IN_PROGRESS: readonly RotationPhase[] = [
  "creating-green",
  "waiting-green",
  "cordoning",
  "draining",
  "deleting-blue",
];

export async function rotate(options: RotationOptions, deps: RotationDeps): Promise<RotationResult> {
  const o = resolveOptions(options);
  const clock = deps.clock ?? systemClock;
  const emit = emitter(deps.sink, clock);
  const clients = deps.cluster.clients;
  const store = new StateStore(clients.core, o.stateNamespace, clock);
  const started = clock.now();
  let state = await store.read(o.group);

  if (state?.phase === "rolling-back") {
    throw new TenkaiError(
      "ROTATION_ROLLING_BACK",
      `a rollback of node group ${o.group} was stopped halfway`,
      `finish it first: tenkai nodes rotate ${o.group} --rollback`,
    );
  }
  const resuming = state !== undefined && IN_PROGRESS.includes(state.phase);
  const view = await deps.cluster.watch(() => clock.now());
  try {
    let plan: RotationPlan | undefined;
    if (resuming && state) {
      emit(
        "info",
        "rotation.resumed",
        `resuming the rotation of ${o.group} (${state.from} -> ${state.to}) at ${state.phase}, ${state.nodesDone.length}/${state.blueNodes.length} node(s) drained`,
        { group: o.group, phase: state.phase, nodesDone: state.nodesDone.length },
      );
      if (state.phase !== "deleting-blue")
        plan = await makePlan(o, clients, view, state.from, state.greenSpec);
    } else {
      const active = state?.activeSlot ?? o.specActiveSlot;
      if (state && state.activeSlot !== o.specActiveSlot) {
        emit(
          "warn",
          "rotation.warning",
          `the cluster records ${state.activeSlot} as the active slot of ${o.group}, the spec says ${o.specActiveSlot}; rotating from ${state.activeSlot} (set activeSlot: ${state.activeSlot} in platform.yaml)`,
          { warning: "ACTIVE_SLOT_DIFFERS" },
        );
      }
      plan = await makePlan(o, clients, view, active, undefined);
    }
    if (plan) {
      emit("info", "rotation.plan", planSummary(plan), { plan });
      for (const w of plan.warnings) emit("warn", "rotation.warning", w.message, { warning: w.code });
      if (plan.blockers.length > 0) throw blocked(plan);
    }
    if (o.dryRun) {
      return {
        group: o.group,
        phase: state?.phase ?? "creating-green",
        activeSlot: state?.activeSlot ?? o.specActiveSlot,
        ...(plan ? { plan } : {}),
        ms: 0,
      };
    }
    if (!resuming) {
      if (!plan) throw new Error("unreachable: a new rotation always has a plan");
      const now = new Date(clock.now()).toISOString();
      state = {
        group: o.group,
        phase: "creating-green",
        from: plan.from,
        to: plan.to,
        fromNodegroup: plan.fromNodegroup,
        toNodegroup: plan.toNodegroup,
        activeSlot: plan.from,
        blueNodes: plan.blueNodes,
        nodesDone: [],
        startedAt: now,
        updatedAt: now,
        greenSpec: plan.greenSpec,
      };
      await store.write(state);
      o.checkpoint?.("state-created");
    }
    if (!state) throw new Error("unreachable: state is set");
    const run = new Run(o, deps, clock, clients, store, view, state, plan);
    return await run.go(started);
  } finally {
    await view.stop();
  }
}

class Run {
  constructor(
    private readonly o: Resolved,
    private readonly deps: RotationDeps,
    private readonly clock: Clock,
    private readonly clients: ClusterClients,
    private readonly store: StateStore,
    private readonly view: PodView,
    private state: RotationState,
    private readonly plan: RotationPlan | undefined,
  ) {
    this.emit = emitter(deps.sink, clock);
  }

  readonly emit: Emit<RotationEvent>;

  private async save(patch: Partial<RotationState>): Promise<void> {
    this.state = { ...this.state, ...patch, updatedAt: new Date(this.clock.now()).toISOString() };
    await this.store.write(this.state);
  }

  private async enter(phase: RotationPhase): Promise<void> {
    await this.save({ phase });
    this.emit("info", "rotation.phase", `${this.o.group}: ${phase}`, { group: this.o.group, phase });
    this.o.checkpoint?.(`phase:${phase}`);
  }

  private deadline(): number {
    return this.clock.now() + this.o.timeoutMs;
  }

  private retryOptions(deadline: number) {
    return {
      clock: this.clock,
      deadline,
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      ...(this.deps.random ? { random: this.deps.random } : {}),
    };
  }

  async go(started: number): Promise<RotationResult> {
    const s = () => this.state;
    const spec = s().greenSpec;
    if (!spec)
      throw new TenkaiError(
        "ROTATION_STATE_CORRUPT",
        `the rotation record of ${this.o.group} has no green spec`,
        "delete ConfigMap tenkai-system/rotation-<group> and start again",
      );

    if (s().phase === "creating-green") {
      this.emit(
        "info",
        "rotation.phase",
        `${this.o.group}: creating ${spec.nodegroupName} (${spec.desired} × ${spec.instanceTypes.join("/")} over ${spec.zones.join(", ")})`,
        { group: this.o.group, phase: "creating-green" },
      );
      await withProviderRetry(
        `creating node group ${spec.nodegroupName}`,
        () => this.deps.provider.createSlot(spec),
        this.retryOptions(this.deadline()),
      );
      this.o.checkpoint?.("green-created");
      await this.enter("waiting-green");
    }
    if (s().phase === "waiting-green") {
      const zones = this.plan?.zones ?? spec.zones;
      const nodes = await waitSlotReady({
        clients: this.clients,
        provider: this.deps.provider,
        spec,
        zones,
        emit: this.emit,
        ...this.retryOptions(this.deadline()),
      });
      this.emit(
        "info",
        "rotation.green.ready",
        `green ${spec.nodegroupName}: ${nodes.length} node(s) Ready in ${[...new Set(nodes.map(zoneOf))].join(", ")}`,
        { nodegroup: spec.nodegroupName, nodes: nodes.map((n) => n.metadata?.name ?? "") },
      );
      // Now that green is real, check its actual room before touching blue.
      const check = await makePlan(this.o, this.clients, this.view, s().from, spec);
      if (check.blockers.length > 0) throw blocked(check);
      await this.enter("cordoning");
    }
    if (s().phase === "cordoning") {
      const blue = (await slotNodes(this.clients, s().fromNodegroup)).map((n) => n.metadata?.name ?? "");
      const all = [...new Set([...s().blueNodes, ...blue])];
      // Independent patches, sent side by side: fifty nodes one after another cost seconds.
      await mapLimit(all, API_PARALLEL, async (node) => {
        await cordon(this.clients, node, true);
        this.emit("debug", "rotation.node.cordoned", `node ${node}: cordoned, excluded from load balancers`, {
          node,
        });
        this.o.checkpoint?.(`cordoned:${node}`);
      });
      await this.save({ blueNodes: all });
      await this.enter("draining");
    }
    if (s().phase === "draining") {
      await this.drain(s().blueNodes, new Set(s().nodesDone), s().fromNodegroup);
      await this.enter("deleting-blue");
    }
    if (s().phase === "deleting-blue") {
      // Deleting the old slot now would leave a load balancer rule with no healthy target.
      await waitTargetsHealthy({
        group: this.o.group,
        nodegroup: s().fromNodegroup,
        view: this.view,
        clock: this.clock,
        emit: this.emit,
        deadline: this.deadline(),
        since: Date.parse(s().startedAt),
        leaving: new Set(s().blueNodes),
        ...(this.deps.targetHealth ? { source: this.deps.targetHealth } : {}),
        ...(this.o.signal ? { signal: this.o.signal } : {}),
      });
      this.o.checkpoint?.("targets-healthy");
      await this.deleteSlot(s().fromNodegroup, s().blueNodes);
      this.o.checkpoint?.("blue-deleted");
      await this.save({
        phase: "done",
        activeSlot: s().to,
        finishedAt: new Date(this.clock.now()).toISOString(),
      });
      this.o.checkpoint?.("phase:done");
    }
    const ms = this.clock.now() - started;
    this.emit("info", "rotation.done", `${this.o.group}: rotated to ${s().activeSlot} in ${fmtMs(ms)}`, {
      group: this.o.group,
      activeSlot: s().activeSlot,
      ms,
    });
    return {
      group: this.o.group,
      phase: s().phase,
      activeSlot: s().activeSlot,
      ...(this.plan ? { plan: this.plan } : {}),
      ms,
    };
  }

  /** Drains `nodes` (cordoned already), recording each drained node; restores surged Deployments. */
  async drain(nodes: readonly string[], done: Set<string>, leavingNodegroup: string): Promise<void> {
    // Nodes that joined the leaving slot since (an autoscaler) are cordoned and drained too.
    const [leavingNodes, tenants] = await Promise.all([
      slotNodes(this.clients, leavingNodegroup),
      tenantNamespaces(this.clients),
    ]);
    const extra = leavingNodes.map((n) => n.metadata?.name ?? "").filter((n) => !nodes.includes(n));
    await mapLimit(extra, API_PARALLEL, (n) => cordon(this.clients, n, true));
    const all = [...nodes, ...extra];
    const leaving = new Set(all);
    const surger = new Surger({
      clients: this.clients,
      view: this.view,
      group: this.o.group,
      leaving: (n) => leaving.has(n),
      emit: this.emit,
    });
    const drainer = new Drainer({
      clients: this.clients,
      view: this.view,
      surger,
      clock: this.clock,
      emit: this.emit,
      ...(this.deps.random ? { random: this.deps.random } : {}),
    });
    let saving = Promise.resolve();
    await drainer.run({
      ...this.o,
      nodes: all,
      done,
      overridable: (pod) => tenants.has(pod.metadata?.namespace ?? ""),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      ...(this.o.checkpoint ? { checkpoint: this.o.checkpoint } : {}),
      onNodeDrained: async (node) => {
        done.add(node);
        saving = saving.then(() => this.save({ nodesDone: [...done] }));
        await saving;
      },
    });
    await surger.restoreAll();
    await this.waitWorkloadsReady([...drainer.moved]);
  }

  /**
   * The rotation is not over until every Deployment it moved is back at full ready replicas. A
   * Deployment that could not be read is not ready: a transient error (429, 5xx, no answer) is
   * waited out like an unready one, any other (403, ...) stops the run with ROTATION_READ_FAILED.
   * A Deployment deleted meanwhile has nothing left to wait for.
   */
  async waitWorkloadsReady(keys: readonly string[]): Promise<void> {
    const deadline = this.deadline();
    let waiting = [...keys];
    const unread = new Map<string, unknown>();
    while (waiting.length > 0) {
      const still: string[] = [];
      // Reads side by side (a hundred Deployments one after another cost seconds), in order.
      const reads = await mapLimit(waiting, API_PARALLEL, async (key) => {
        const [namespace, name] = key.split("/") as [string, string];
        try {
          return { key, d: await this.clients.apps.readNamespacedDeployment({ name, namespace }) };
        } catch (err) {
          return { key, err };
        }
      });
      for (const { key, d, err } of reads) {
        if (d) {
          unread.delete(key);
          if ((d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 0)) still.push(key);
        } else {
          if (isNotFound(err)) continue;
          const k = kubeError(err);
          if (!k.transient) {
            throw new TenkaiError(
              "ROTATION_READ_FAILED",
              `reading Deployment ${key} to see that it is back at full ready replicas: ${k.message}`,
              "check that tenkai may get Deployments, then run the same command again: the rotation resumes",
              { cause: err, details: { deployment: key, status: k.status } },
            );
          }
          unread.set(key, err);
          still.push(key);
        }
      }
      waiting = still;
      if (waiting.length === 0) return;
      if (this.clock.now() > deadline) {
        const notRead = waiting.filter((k) => unread.has(k));
        throw new TenkaiError(
          "ROTATION_TIMEOUT",
          `${waiting.length} Deployment(s) moved off the old nodes are not back at full ready replicas: ${waiting.slice(0, 5).join(", ")}${notRead.length ? ` (${notRead.length} could not be read: ${kubeMessage(unread.get(notRead[0] as string))})` : ""}`,
          "check why their new pods are not Ready (image, probes, capacity), then run the same command again",
          { details: { deployments: waiting, unread: notRead } },
        );
      }
      await this.clock.sleep(250, this.o.signal);
    }
  }

  /** Deletes a slot once no workload pod is left on its nodes; waits until the provider has it gone. */
  async deleteSlot(nodegroup: string, nodes: readonly string[]): Promise<void> {
    const left = nodes.flatMap((n) =>
      this.view
        .podsOnNode(n)
        // As the drain counts them.
        .filter((p) => !isLeavingFinished(p))
        .filter((p) => decidePod(p, { forceUnreplicated: true, deleteEmptyDirData: true }).verdict !== "skip")
        .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
    );
    if (left.length > 0) {
      if (this.state.phase !== "rolling-back") await this.save({ phase: "draining" });
      throw new TenkaiError(
        "ROTATION_PODS_LEFT",
        `${left.length} workload pod(s) are still on ${nodegroup} (${left.slice(0, 5).join(", ")}); the slot is not deleted`,
        "run the same command again: the rotation drains them first",
      );
    }
    this.emit("info", "rotation.slot.deleting", `deleting node group ${nodegroup}`, { nodegroup });
    const deadline = this.deadline();
    await withProviderRetry(
      `deleting node group ${nodegroup}`,
      () => this.deps.provider.deleteSlot(nodegroup),
      this.retryOptions(deadline),
    );
    for (;;) {
      const st = await withProviderRetry(
        `describing node group ${nodegroup}`,
        () => this.deps.provider.describeSlot(nodegroup),
        this.retryOptions(deadline),
      );
      if (!st) return;
      if (st.status === "DELETE_FAILED") {
        throw new TenkaiError(
          "ROTATION_DELETE_FAILED",
          `node group ${nodegroup} could not be deleted: ${st.issues.map((i) => `${i.code}: ${i.message}`).join("; ")}`,
          "fix the cause in the provider, then run the same command again",
        );
      }
      if (this.clock.now() > deadline)
        throw new TenkaiError(
          "ROTATION_TIMEOUT",
          `node group ${nodegroup} is still ${st.status}`,
          "raise --timeout and run the same command again",
        );
      await this.clock.sleep(1000, this.o.signal);
    }
  }
}

export { Run as RotationRun };

/** Gathers a snapshot and decides (plan.ts). `greenSpec` is fixed once a rotation has started. */
export async function makePlan(
  o: Resolved,
  clients: ClusterClients,
  view: PodView,
  from: Slot,
  fixedGreen: NodeGroupSlotSpec | undefined,
): Promise<RotationPlan> {
  const to = other(from);
  const blueNodes = await slotNodes(clients, nodegroupName(o.group, from));
  const blueZones = [...new Set(blueNodes.map(zoneOf).filter((z): z is string => !!z))].sort();
  const greenSpec: NodeGroupSlotSpec = fixedGreen ?? {
    ...o.slotTemplate,
    group: o.group,
    slot: to,
    nodegroupName: nodegroupName(o.group, to),
    zones: o.slotTemplate.zones.length > 0 ? o.slotTemplate.zones : blueZones,
    desired: Math.min(o.slotTemplate.max, Math.max(o.slotTemplate.desired, blueNodes.length)),
  };
  const greenNodes = await slotNodes(clients, greenSpec.nodegroupName);
  const [rs, deps] = await Promise.all([
    clients.apps.listReplicaSetForAllNamespaces(),
    clients.apps.listDeploymentForAllNamespaces(),
  ]).catch((err: unknown) => {
    throw new TenkaiError(
      "ROTATION_LIST_FAILED",
      `listing ReplicaSets and Deployments: ${kubeMessage(err)}`,
      "check that tenkai may list them in every namespace",
      { cause: err },
    );
  });
  const bluePods = blueNodes.flatMap((n) => view.podsOnNode(n.metadata?.name ?? ""));
  const greenFree =
    greenNodes.length > 0 ? freeCapacity(greenNodes, view.allPods()) : estimateCapacity(greenSpec);
  return decide({
    group: o.group,
    from,
    to,
    blueNodes,
    bluePods,
    pdbs: view.budgets.all(),
    replicaSets: rs.items,
    deployments: deps.items,
    greenSpec,
    greenFree,
    forceUnreplicated: o.forceUnreplicated,
    deleteEmptyDirData: o.deleteEmptyDirData,
    noSurge: o.noSurge,
    tenantNamespaces: await tenantNamespaces(clients),
    budgetTimeoutMs: o.budgetTimeoutMs,
  });
}

/** Namespaces tenkai made for tenants: their budgets are the ones a rotation may get past. */
export async function tenantNamespaces(clients: ClusterClients): Promise<Set<string>> {
  const list = await clients.core.listNamespace({ labelSelector: TENANT_LABEL }).catch((err: unknown) => {
    throw new TenkaiError(
      "ROTATION_LIST_FAILED",
      `listing tenant namespaces: ${kubeMessage(err)}`,
      "check that tenkai may list namespaces",
      { cause: err },
    );
  });
  return new Set(list.items.map((n) => n.metadata?.name ?? ""));
}

/** What `desired` new nodes will offer, from the instance-type table (EKS AMI reservations). */
function estimateCapacity(spec: NodeGroupSlotSpec): { cpuMilli: number; memoryBytes: number; pods: number } {
  const table = kwokInstanceTypes();
  const nodes: V1Node[] = [];
  for (let i = 0; i < spec.desired; i++) {
    const t = table[spec.instanceTypes[i % spec.instanceTypes.length] ?? ""];
    // An instance type missing from the table: no estimate, so no false blocker; checked again on real nodes.
    if (!t)
      return {
        cpuMilli: Number.POSITIVE_INFINITY,
        memoryBytes: Number.POSITIVE_INFINITY,
        pods: Number.POSITIVE_INFINITY,
      };
    nodes.push({
      metadata: { name: `estimate-${i}` },
      status: { allocatable: nodeResources(t).allocatable },
    });
  }
  return freeCapacity(nodes, []);
}

export function planSummary(p: RotationPlan): string {
  return `plan ${p.group}: ${p.fromNodegroup} (${p.blueNodes.length} node(s) in ${p.zones.join(", ") || "no zone"}) -> ${p.toNodegroup} (${p.greenSpec.desired} × ${p.greenSpec.instanceTypes.join("/")}); evict ${p.evict.length} pod(s), surge ${p.surge.length} single-replica Deployment(s), skip ${p.skipped.length}; ${p.blockers.length} blocker(s)`;
}

function blocked(plan: RotationPlan): TenkaiError {
  const lines = plan.blockers.map((b) => `  - ${b.code}: ${b.message} (fix: ${b.fix})`);
  return new TenkaiError(
    "ROTATION_BLOCKED",
    `the rotation of ${plan.group} cannot start: ${plan.blockers.length} blocker(s), nothing was changed:\n${lines.join("\n")}`,
    "fix each blocker listed (or pass the flag it names), then run the same command again",
    { problems: plan.blockers, details: { group: plan.group } },
  );
}
