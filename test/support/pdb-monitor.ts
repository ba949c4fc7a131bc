/**
 * Watches every PodDisruptionBudget and every pod while a rotation (or a `kubectl drain`) runs and
 * records each moment a budget is breached: the disruption controller's own status saying
 * `currentHealthy < desiredHealthy`, or our own count of Ready, non-terminating pods matching the
 * budget falling below its `desiredHealthy`. Tests and the benchmark end by asserting it found none.
 */
import {
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  PolicyV1Api,
  type V1Pod,
  type V1PodDisruptionBudget,
} from "@kubernetes/client-node";
import { budgetMatchesPod, pdbKey } from "../../src/rotation/budgets.js";
import { isReady } from "../../src/rotation/filters.js";

export interface PdbViolation {
  readonly budget: string;
  /** ms since the epoch. */
  readonly at: number;
  readonly healthy: number;
  readonly desired: number;
  /** `status`: the controller's count; `pods`: ours, from pod readiness. */
  readonly source: "status" | "pods";
}

export class PdbMonitor {
  private readonly found: PdbViolation[] = [];
  private readonly pdbs = new Map<string, V1PodDisruptionBudget>();
  /** Pods by namespace, then UID: a budget only ever selects pods in its own namespace. */
  private readonly pods = new Map<string, Map<string, V1Pod>>();
  /** Budgets in breach right now, so one breach is recorded once, not on every event. */
  private readonly open = new Set<string>();
  private checks = 0;
  /** Both caches hold a full list: before that a budget would seem to have no healthy pods. */
  private synced = false;

  private constructor(
    private readonly pdbInformer: ReturnType<typeof makeInformer<V1PodDisruptionBudget>>,
    private readonly podInformer: ReturnType<typeof makeInformer<V1Pod>>,
  ) {}

  static async start(kc: KubeConfig): Promise<PdbMonitor> {
    const policy = kc.makeApiClient(PolicyV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const m = new PdbMonitor(
      makeInformer<V1PodDisruptionBudget>(kc, "/apis/policy/v1/poddisruptionbudgets", () =>
        policy.listPodDisruptionBudgetForAllNamespaces(),
      ),
      makeInformer<V1Pod>(kc, "/api/v1/pods", () => core.listPodForAllNamespaces()),
    );
    const onPdb = (pdb: V1PodDisruptionBudget) => {
      m.pdbs.set(pdbKey(pdb), pdb);
      m.check(pdb);
    };
    m.pdbInformer.on("add", onPdb);
    m.pdbInformer.on("update", onPdb);
    m.pdbInformer.on("delete", (pdb) => m.pdbs.delete(pdbKey(pdb)));
    const podsOf = (pod: V1Pod) => {
      const ns = pod.metadata?.namespace ?? "";
      let byUid = m.pods.get(ns);
      if (!byUid) {
        byUid = new Map();
        m.pods.set(ns, byUid);
      }
      return byUid;
    };
    const onPod = (pod: V1Pod) => {
      podsOf(pod).set(pod.metadata?.uid ?? "", pod);
      m.checkPod(pod);
    };
    m.podInformer.on("add", onPod);
    m.podInformer.on("update", onPod);
    m.podInformer.on("delete", (pod) => {
      podsOf(pod).delete(pod.metadata?.uid ?? "");
      m.checkPod(pod);
    });
    for (const inf of [m.pdbInformer, m.podInformer] as {
      on(e: "error", cb: () => void): void;
      start(): Promise<void>;
    }[]) {
      inf.on("error", () => setTimeout(() => void inf.start().catch(() => {}), 500));
    }
    await Promise.all([m.podInformer.start(), m.pdbInformer.start()]);
    m.synced = true;
    for (const pdb of m.pdbs.values()) m.check(pdb);
    return m;
  }

  violations(): readonly PdbViolation[] {
    return this.found;
  }

  /** How many budget checks ran (a monitor that saw nothing proves nothing). */
  checked(): number {
    return this.checks;
  }

  async stop(): Promise<readonly PdbViolation[]> {
    await Promise.all([this.pdbInformer.stop(), this.podInformer.stop()]);
    return this.found;
  }

  private checkPod(pod: V1Pod): void {
    for (const pdb of this.pdbs.values()) if (budgetMatchesPod(pdb, pod)) this.check(pdb);
  }

  private check(pdb: V1PodDisruptionBudget): void {
    if (!this.synced) return;
    this.checks++;
    const key = pdbKey(pdb);
    const s = pdb.status;
    if (!s || (s.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0) || (s.expectedPods ?? 0) === 0)
      return;
    const desired = s.desiredHealthy ?? 0;
    let breach: PdbViolation | undefined;
    if ((s.currentHealthy ?? 0) < desired) {
      breach = { budget: key, at: Date.now(), healthy: s.currentHealthy ?? 0, desired, source: "status" };
    } else {
      let healthy = 0;
      for (const p of this.pods.get(pdb.metadata?.namespace ?? "")?.values() ?? [])
        if (isReady(p) && budgetMatchesPod(pdb, p)) healthy++;
      if (healthy < desired) breach = { budget: key, at: Date.now(), healthy, desired, source: "pods" };
    }
    if (breach && !this.open.has(key)) {
      this.open.add(key);
      this.found.push(breach);
    } else if (!breach) {
      this.open.delete(key);
    }
  }
}
