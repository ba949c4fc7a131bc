/**
 * Drains many nodes at once through the Eviction API (policy/v1), bounded by the budgets and by
 * the rotation budget (nodes draining at once). Modelled on kubectl's drain package but parallel
 * across nodes, event-driven instead of retrying every 5 s, and never sending an eviction the
 * budget's status does not allow (see budgets.ts). Every eviction carries the pod's UID as a
 * precondition, so a pod re-created under the same name (StatefulSet) is never evicted by mistake.
 */
import type { V1Deployment, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { Clock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import type { Emit } from "../shared/events.js";
import { kubeMessage, kubeStatus } from "../shared/kube-errors.js";
import { backoffDelay } from "../shared/retry.js";
import type { BudgetStatus } from "./budgets.js";
import type { ClusterClients, PodView } from "./cluster.js";
import {
  blockCode,
  decidePod,
  type FilterOptions,
  fixFor,
  isFinished,
  isLeavingFinished,
  isReady,
  isTerminating,
  type PodDecision,
  podKey,
} from "./filters.js";
import { deploymentOf, keyed } from "./plan.js";
import type { Surger } from "./surge.js";
import type { RotationEvent } from "./types.js";

export interface DrainRun {
  /** Nodes to drain, in order; they must be cordoned already. */
  readonly nodes: readonly string[];
  /** Nodes drained by an earlier run. */
  readonly done: ReadonlySet<string>;
  readonly maxDraining: number;
  readonly maxConcurrentEvictions: number;
  /**
   * Pods on their way at once: evicted pods still terminating on the leaving nodes plus pods
   * started since the drain began that are not Ready yet. Evictions past it wait, so the pods of
   * the budgets with the longest way to go (served first) are not queued behind a flood.
   */
  readonly maxPodsMoving: number;
  readonly timeoutMs: number;
  readonly stallAfterMs: number;
  readonly forceUnreplicated: boolean;
  readonly deleteEmptyDirData: boolean;
  readonly noSurge: boolean;
  /** A pod `overridable` says may be (a tenant's) held back by budgets this long is deleted instead. */
  readonly budgetTimeoutMs?: number;
  readonly overridable?: (pod: V1Pod) => boolean;
  readonly signal?: AbortSignal;
  readonly checkpoint?: (point: string) => void;
  /** Called (awaited, one at a time) when a node has no workload pod left. */
  readonly onNodeDrained: (node: string) => Promise<void>;
}

interface Candidate {
  readonly pod: V1Pod;
  readonly decision: PodDecision | undefined;
  readonly node: string;
}

/** The pause after a wake-up before the next scan, so a burst of watch events is one scan. */
const SCAN_PAUSE_MS = 50;

/** How long a new pod that is not Ready counts as on its way. */
const MOVING_FOR_MS = 120_000;

interface PodProgress {
  evicting: boolean;
  attempt: number;
  retryAt: number;
  blockedSince?: number;
  lastStallAt?: number;
  blockedBy?: string;
}

/** Eviction retries (429 and the rest): 200 ms doubling to 5 s, jittered (shared/retry.ts). */
const EVICTION_BACKOFF = { baseMs: 200, capMs: 5_000 } as const;
/** Other failures (5xx, network) are retried this many times before the run stops. */
const MAX_OTHER_FAILURES = 6;

export interface DrainerDeps {
  readonly clients: ClusterClients;
  readonly view: PodView;
  readonly surger: Surger;
  readonly clock: Clock;
  readonly emit: Emit<RotationEvent>;
  /** Jitter source for eviction retries. Default Math.random. */
  readonly random?: () => number;
  /** The pod filter (filters.ts). Default decidePod; tests count its calls. */
  readonly decide?: (pod: V1Pod, o: FilterOptions) => PodDecision;
}

export class Drainer {
  private fatal: unknown;
  private inFlight = 0;
  private evictions = 0;
  private readonly progress = new Map<string, PodProgress>();
  private rsIndex = new Map<string, V1ReplicaSet>();
  private depByKey = new Map<string, V1Deployment>();
  /**
   * Per pod object (the watch replaces it on every change), what a scan would otherwise work out
   * again for each of thousands of pods dozens of times a second: its decision, and its Deployment
   * as of the index (`indexed` counts the index's refreshes). The control plane shares the machine's
   * CPU with this loop; every scan's cost is taken from it.
   */
  private decided = new WeakMap<V1Pod, PodDecision>();
  private readonly owners = new WeakMap<
    V1Pod,
    { readonly indexed: number; readonly dep: V1Deployment | undefined }
  >();
  private indexed = 0;
  private readonly statuses = new Map<string, BudgetStatus>();
  private readonly surgedPods = new Map<string, string>();
  /** Deployments (`ns/name`) whose pods this drain evicted. */
  readonly moved = new Set<string>();
  private readonly lastStallByBlocker = new Map<string, number>();
  /** Resolves the loop's wait: an eviction was answered, so its budget may take the next one. */
  private wakeUp: (() => void) | undefined;

  private readonly clients: ClusterClients;
  private readonly view: PodView;
  private readonly surger: Surger;
  private readonly clock: Clock;
  private readonly emit: Emit<RotationEvent>;
  private readonly random: () => number;

  private readonly decide: (pod: V1Pod, o: FilterOptions) => PodDecision;
  /** Scans of the active nodes so far (one decision per pod per scan). */
  scans = 0;
  /** Time the scans took (the loop's own work, on the clock's scale). */
  private scanMs = 0;

  constructor(deps: DrainerDeps) {
    this.decide = deps.decide ?? decidePod;
    this.clients = deps.clients;
    this.view = deps.view;
    this.surger = deps.surger;
    this.clock = deps.clock;
    this.emit = deps.emit;
    this.random = deps.random ?? Math.random;
  }

  async run(r: DrainRun): Promise<void> {
    const start = this.clock.now();
    const deadline = start + r.timeoutMs;
    const queue = r.nodes.filter((n) => !r.done.has(n));
    const nodes = queue.length;
    this.decided = new WeakMap(); // decisions hold for this run's options only
    const active = new Map<string, number>();
    await this.refreshIndex();
    for (;;) {
      r.signal?.throwIfAborted();
      if (this.fatal) throw this.fatal;
      const fresh = new Set<string>();
      while (active.size < r.maxDraining && queue.length > 0) {
        const node = queue.shift() as string;
        active.set(node, this.clock.now());
        fresh.add(node);
      }
      if (active.size === 0) break;
      const now = this.clock.now();
      const scanStart = performance.now();
      this.scans++;
      const candidates: Candidate[] = [];
      for (const [node, since] of [...active]) {
        // One decision per pod per scan: the same one filters the node's pods and guards the eviction.
        const pods = this.workloadPods(node, r);
        if (fresh.has(node)) {
          this.emit("info", "rotation.node.draining", `node ${node}: draining ${pods.length} pod(s)`, {
            node,
            pods: pods.length,
          });
        }
        if (pods.length === 0) {
          active.delete(node);
          const waited = performance.now();
          await r.onNodeDrained(node); // a state write: not the scan's own work
          this.scanMs -= performance.now() - waited;
          this.emit(
            "info",
            "rotation.node.drained",
            `node ${node}: drained in ${fmtMs(this.clock.now() - since)}`,
            { node, ms: this.clock.now() - since },
          );
          r.checkpoint?.(`node-drained:${node}`);
          continue;
        }
        for (const { pod, decision } of pods) {
          if (!isTerminating(pod)) candidates.push({ pod, decision, node });
        }
      }
      // From here to the wait the scan runs without a break: budgets' statuses hold still.
      this.statuses.clear();
      // Counting pods on their way walks every pod: only when there is a window to fill.
      let moving = Number.isFinite(r.maxPodsMoving) ? this.podsMoving(active, start) : 0;
      for (const c of this.byLongestWay(candidates, r)) {
        if (this.inFlight >= r.maxConcurrentEvictions) break;
        // Surges start whatever the window: a replacement takes the longest to get Ready.
        const window = moving >= r.maxPodsMoving;
        if (window && !this.surgeDue(c.pod, r)) continue;
        const uid = c.pod.metadata?.uid ?? "";
        const before = this.progress.get(uid)?.evicting === true;
        this.consider(c.pod, c.decision, c.node, now, r, window);
        if (!before && this.progress.get(uid)?.evicting === true) moving++;
      }
      this.scanMs += performance.now() - scanStart;
      if (this.clock.now() > deadline) throw this.timeoutError(r, [...active.keys()]);
      await Promise.race([this.view.changed(200), new Promise<void>((resolve) => (this.wakeUp = resolve))]);
      this.wakeUp = undefined;
      // Let a burst of watch events land before scanning again. A budget's round (eviction,
      // replacement Ready, status caught up) takes seconds, so 50 ms costs it little; against 10 ms
      // it saves scans, whose CPU the control plane on the same machine would otherwise use.
      await this.clock.sleep(SCAN_PAUSE_MS, r.signal);
    }
    // Evictions answered after the last node emptied (none should be left) must not be lost.
    while (this.inFlight > 0) await this.clock.sleep(10);
    if (this.fatal) throw this.fatal;
    const ms = this.clock.now() - start;
    this.emit(
      "debug",
      "rotation.drain.done",
      `drained ${nodes} node(s) in ${fmtMs(ms)}: ${this.evictions} eviction(s), ${this.scans} scan(s) taking ${fmtMs(Math.round(this.scanMs))}`,
      { nodes, evictions: this.evictions, ms, scans: this.scans, scanMs: Math.round(this.scanMs) },
    );
  }

  /**
   * Pods on the node the drain must move (DaemonSet and mirror pods stay), terminating ones
   * included, each with its decision. Finished pods are removed without a decision (kubectl
   * deletes them too); a terminating finished pod is on its way out.
   */
  private workloadPods(node: string, r: DrainRun): { pod: V1Pod; decision: PodDecision | undefined }[] {
    const out: { pod: V1Pod; decision: PodDecision | undefined }[] = [];
    for (const pod of this.view.podsOnNode(node)) {
      if (isLeavingFinished(pod)) continue;
      if (isFinished(pod)) {
        out.push({ pod, decision: undefined });
        continue;
      }
      let decision = this.decided.get(pod);
      if (!decision) {
        decision = this.decide(pod, r);
        this.decided.set(pod, decision);
      }
      if (decision.verdict !== "skip") out.push({ pod, decision });
    }
    return out;
  }

  /**
   * Candidates ordered so the budgets with the most rounds left go first: a budget that allows one
   * disruption at a time and still covers 19 pods needs 19 rounds of evict -> replacement Ready ->
   * status caught up, while one allowing 9 needs 2. Pods without a budget come last; ties keep
   * the node order. Single-replica pods whose surge is not started yet go before all: their
   * replacement is the slowest to get Ready, and starting it spends no budget.
   */
  private byLongestWay(candidates: Candidate[], r: DrainRun): Candidate[] {
    const left = new Map<string, number>();
    const keys = candidates.map((c) => {
      const b = this.view.budgets.budgetsFor(c.pod);
      for (const k of b) left.set(k, (left.get(k) ?? 0) + 1);
      return b;
    });
    const roundsByKey = new Map<string, number>();
    const roundsOf = (k: string): number => {
      let n = roundsByKey.get(k);
      if (n === undefined) {
        const st = this.statusOf(k);
        n = Math.ceil((left.get(k) ?? 0) / Math.max(1, st.expected - st.desired));
        roundsByKey.set(k, n);
      }
      return n;
    };
    const rounds = candidates.map((c, i) => {
      if (this.surgeDue(c.pod, r)) return Number.MAX_SAFE_INTEGER;
      let most = 0;
      for (const k of keys[i] ?? []) most = Math.max(most, roundsOf(k));
      return most;
    });
    return candidates
      .map((c, i) => ({ c, i }))
      .sort((a, b) => (rounds[b.i] ?? 0) - (rounds[a.i] ?? 0) || a.i - b.i)
      .map(({ c }) => c);
  }

  /**
   * Pods on their way now: terminating pods on the draining nodes and pods created since the drain
   * started that are not Ready yet (for at most {@link MOVING_FOR_MS}, so a replacement that never
   * gets Ready holds the window only for a while; its budget holds its own pods back anyway).
   */
  private podsMoving(active: ReadonlyMap<string, number>, since: number): number {
    let n = 0;
    for (const node of active.keys()) for (const p of this.view.podsOnNode(node)) if (isTerminating(p)) n++;
    const now = this.clock.now();
    for (const p of this.view.allPods()) {
      if (isTerminating(p) || isFinished(p) || isReady(p) || active.has(p.spec?.nodeName ?? "")) continue;
      const created = p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0;
      if (created >= since && now - created < MOVING_FOR_MS) n++;
    }
    return n;
  }

  /** Whether the pod's eviction waits on a surge that has not been started (single replica). */
  private surgeDue(pod: V1Pod, r: DrainRun): boolean {
    if (r.noSurge) return false;
    const dep = this.deploymentFor(pod);
    return (
      dep !== undefined && (dep.spec?.replicas ?? 1) === 1 && !this.surgedPods.has(pod.metadata?.uid ?? "")
    );
  }

  private consider(
    pod: V1Pod,
    d: PodDecision | undefined,
    node: string,
    now: number,
    r: DrainRun,
    /** The moving window is full: start a surge, evict nothing. */
    surgeOnly = false,
  ): void {
    const uid = pod.metadata?.uid ?? "";
    let st = this.progress.get(uid);
    if (!st) {
      st = { evicting: false, attempt: 0, retryAt: 0 };
      this.progress.set(uid, st);
    }
    if (st.evicting || now < st.retryAt) return;
    const key = podKey(pod);
    if (d?.verdict === "block") {
      // A pod that arrived after the plan (the plan refused all the others up front).
      this.fatal = new TenkaiError(
        blockCode(d.reason),
        `draining node ${node}: ${d.message}`,
        fixFor(d.reason),
      );
      return;
    }
    const budgets = this.view.budgets.budgetsFor(pod);
    const overridable = r.overridable?.(pod) === true && Number.isFinite(r.budgetTimeoutMs ?? Number.NaN);
    if (budgets.length > 1 && overridable) {
      // The Eviction API refuses such pods (500); a tenant's pod waits out the budget timeout.
      this.blocked(st, pod, node, budgets.join(" + "), now, r, budgets);
      return;
    }
    if (budgets.length > 1) {
      this.fatal = multipleBudgets(key, node, budgets);
      return;
    }
    // Single-replica Deployment: a replacement must be Ready elsewhere first.
    if (!r.noSurge) {
      const dep = this.deploymentFor(pod);
      if (dep && ((dep.spec?.replicas ?? 1) === 1 || this.surgedPods.has(uid) || isSurged(dep))) {
        const depKey = `${dep.metadata?.namespace}/${dep.metadata?.name}`;
        this.surgedPods.set(uid, depKey);
        let ready = false;
        try {
          ready = this.surger.poke(dep, pod);
        } catch (err) {
          this.fatal = err;
          return;
        }
        if (!ready) {
          this.blocked(st, pod, node, `surge of ${depKey}`, now, r);
          return;
        }
      }
    }
    if (surgeOnly) return;
    const blocking = budgets.map((b) => this.statusOf(b)).find((s) => s.allowed <= 0);
    if (blocking) {
      this.blocked(st, pod, node, blocking.key, now, r, overridable ? budgets : undefined);
      return;
    }
    // One eviction request per budget at a time (budgets.ts, `requesting`); the answer wakes the loop.
    if (budgets.some((b) => this.view.budgets.requesting(b))) return;
    st.blockedSince = undefined;
    st.evicting = true;
    this.view.budgets.reserve(budgets, pod.metadata?.name ?? "");
    for (const b of budgets) this.statuses.delete(b);
    this.inFlight++;
    void this.evict(pod, node, budgets, st, r).finally(() => {
      this.inFlight--;
      this.wake();
    });
  }

  /**
   * A budget's status, read once per scan (thousands of candidates share a hundred budgets);
   * dropped when this scan reserves an eviction under the budget.
   */
  private statusOf(key: string): BudgetStatus {
    let s = this.statuses.get(key);
    if (!s) {
      s = this.view.budgets.status(key);
      this.statuses.set(key, s);
    }
    return s;
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private blocked(
    st: PodProgress,
    pod: V1Pod,
    node: string,
    by: string,
    now: number,
    r: DrainRun,
    /** The budgets to get past once the budget timeout is up (a tenant's pod), else undefined. */
    override?: readonly string[],
  ): void {
    st.blockedSince ??= now;
    st.blockedBy = by;
    if (override && r.budgetTimeoutMs !== undefined && now - st.blockedSince >= r.budgetTimeoutMs) {
      st.evicting = true;
      this.inFlight++;
      void this.overrideBudget(pod, node, by, now - st.blockedSince, st, r).finally(() => {
        this.inFlight--;
      });
      return;
    }
    if (now - st.blockedSince < r.stallAfterMs) return;
    if (st.lastStallAt !== undefined && now - st.lastStallAt < r.stallAfterMs) return;
    st.lastStallAt = now;
    // One report per budget per period: a budget holding back forty pods is one problem, not forty.
    const last = this.lastStallByBlocker.get(by);
    if (last !== undefined && now - last < r.stallAfterMs) return;
    this.lastStallByBlocker.set(by, now);
    const s = by.startsWith("surge of ") ? undefined : this.statusOf(by);
    this.emit(
      "warn",
      "rotation.stalled",
      s
        ? `stalled: ${podKey(pod)} on ${node} waits for PodDisruptionBudget ${by} (healthy ${s.healthy}/${s.desired} desired, ${s.statusAllowed} disruption(s) allowed${s.inFlight ? `, ${s.inFlight} eviction(s) of ours not counted in it yet` : ""}) for ${fmtMs(now - st.blockedSince)}`
        : `stalled: ${podKey(pod)} on ${node} waits for the ${by} to be Ready for ${fmtMs(now - st.blockedSince)}`,
      {
        pod: podKey(pod),
        node,
        budget: by,
        healthy: s?.healthy ?? 0,
        desired: s?.desired ?? 0,
        allowed: s?.allowed ?? 0,
        inFlight: s?.inFlight ?? 0,
        waitedMs: now - st.blockedSince,
      },
    );
  }

  private async evict(
    pod: V1Pod,
    node: string,
    budgets: string[],
    st: PodProgress,
    r: DrainRun,
  ): Promise<void> {
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "";
    const key = podKey(pod);
    const sent = this.clock.now();
    try {
      await this.clients.evictions.evict(namespace, name, pod.metadata?.uid ?? "");
    } catch (err) {
      this.view.budgets.release(budgets, name);
      const status = kubeStatus(err);
      if (status === 404 || status === 409) {
        // Gone already, or replaced by a pod with another UID: nothing of ours is left to evict.
        this.emit("debug", "rotation.pod.gone", `pod ${key} on ${node}: already gone`, { pod: key, node });
        return;
      }
      if (
        status === 500 &&
        (budgets.length > 1 || /more than one PodDisruptionBudget/i.test(kubeMessage(err)))
      ) {
        this.fatal = multipleBudgets(key, node, budgets, err);
        return;
      }
      st.attempt++;
      if (status !== 429 && st.attempt > MAX_OTHER_FAILURES) {
        this.fatal = new TenkaiError(
          "ROTATION_EVICTION_FAILED",
          `draining node ${node}: evicting ${key}: HTTP ${status ?? "error"}: ${kubeMessage(err)}`,
          "check the API server and the pod, then run the same command again: the rotation resumes",
          { cause: err },
        );
        return;
      }
      // Jittered so many refused pods do not retry in step.
      const delayMs = backoffDelay({ ...EVICTION_BACKOFF, random: this.random }, st.attempt);
      st.retryAt = this.clock.now() + delayMs;
      st.evicting = false;
      this.emit(
        "debug",
        "rotation.pod.retry",
        `pod ${key} on ${node}: HTTP ${status ?? "error"} (${status === 429 ? "budget or API says wait" : kubeMessage(err)}), retry ${st.attempt} in ${delayMs} ms`,
        { pod: key, node, status: status ?? 0, attempt: st.attempt, delayMs },
      );
      return;
    }
    this.view.budgets.accepted(budgets, name);
    // The count is taken now: a surge restore below may let other evictions finish first, and
    // every fault point `evicted:N` must be reported exactly once.
    const evictionNumber = ++this.evictions;
    const dep = this.deploymentFor(pod);
    if (dep) this.moved.add(`${dep.metadata?.namespace}/${dep.metadata?.name}`);
    const ms = this.clock.now() - sent;
    this.emit("debug", "rotation.pod.evicted", `pod ${key} on ${node}: evicted (answered in ${fmtMs(ms)})`, {
      pod: key,
      node,
      budgets,
      ms,
    });
    const surged = this.surgedPods.get(pod.metadata?.uid ?? "");
    if (surged) {
      await this.surger.restore(surged).catch((err: unknown) => {
        this.fatal = err;
      });
    }
    try {
      r.checkpoint?.(`evicted:${evictionNumber}`);
    } catch (err) {
      this.fatal = err;
    }
  }

  /**
   * Deletes a tenant's pod its budget has held back past the budget timeout: the DELETE goes
   * around the Eviction API (which would refuse it), keeps the UID precondition and the pod's own
   * grace period, and is reported per pod.
   */
  private async overrideBudget(
    pod: V1Pod,
    node: string,
    by: string,
    waitedMs: number,
    st: PodProgress,
    r: DrainRun,
  ): Promise<void> {
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "";
    const key = podKey(pod);
    try {
      await this.clients.core.deleteNamespacedPod({
        name,
        namespace,
        body: { preconditions: { uid: pod.metadata?.uid ?? "" } },
      });
    } catch (err) {
      const status = kubeStatus(err);
      st.evicting = false;
      if (status === 404 || status === 409) {
        this.emit("debug", "rotation.pod.gone", `pod ${key} on ${node}: already gone`, { pod: key, node });
        return;
      }
      st.attempt++;
      if (st.attempt > MAX_OTHER_FAILURES) {
        this.fatal = new TenkaiError(
          "ROTATION_EVICTION_FAILED",
          `draining node ${node}: deleting ${key} past its budget: HTTP ${status ?? "error"}: ${kubeMessage(err)}`,
          "check the API server and the pod, then run the same command again: the rotation resumes",
          { cause: err },
        );
      } else st.retryAt = this.clock.now() + EVICTION_BACKOFF.capMs;
      return;
    }
    const dep = this.deploymentFor(pod);
    if (dep) this.moved.add(`${dep.metadata?.namespace}/${dep.metadata?.name}`);
    this.emit(
      "warn",
      "rotation.budget.overridden",
      `pod ${key} on ${node}: deleted past PodDisruptionBudget ${by} after waiting ${fmtMs(waitedMs)} (--budget-timeout ${fmtMs(r.budgetTimeoutMs ?? 0)}; tenant budgets bound a rotation's wait, they cannot stop it)`,
      { pod: key, node, budget: by, waitedMs },
    );
    try {
      r.checkpoint?.(`overridden:${key}`);
    } catch (err) {
      this.fatal = err;
    }
  }

  private deploymentFor(pod: V1Pod): V1Deployment | undefined {
    const known = this.owners.get(pod);
    if (known?.indexed === this.indexed) return known.dep;
    const dep = deploymentOf(pod, this.rsIndex, this.depByKey);
    this.owners.set(pod, { indexed: this.indexed, dep });
    return dep;
  }

  private async refreshIndex(): Promise<void> {
    const [rs, deps] = await Promise.all([
      this.clients.apps.listReplicaSetForAllNamespaces(),
      this.clients.apps.listDeploymentForAllNamespaces(),
    ]).catch((err: unknown) => {
      throw new TenkaiError(
        "ROTATION_LIST_FAILED",
        `listing ReplicaSets and Deployments: ${kubeMessage(err)}`,
        "check that tenkai may list ReplicaSets and Deployments in every namespace",
        { cause: err },
      );
    });
    this.rsIndex = keyed(rs.items);
    this.depByKey = keyed(deps.items);
    this.indexed++;
  }

  private timeoutError(r: DrainRun, nodes: string[]): TenkaiError {
    const stalled = [...this.progress.entries()]
      .filter(([, s]) => s.blockedSince !== undefined)
      .map(([, s]) => s.blockedBy ?? "")
      .filter(Boolean);
    const blockers = [...new Set(stalled)].slice(0, 10);
    return new TenkaiError(
      "ROTATION_TIMEOUT",
      `draining did not finish within ${fmtMs(r.timeoutMs)}; ${nodes.length} node(s) still draining (${nodes.slice(0, 5).join(", ")}${nodes.length > 5 ? ", …" : ""})${blockers.length ? `; blocked by ${blockers.join(", ")}` : ""}`,
      "look at the stalled events for the budget holding each pod back, fix it (more replicas, a Ready replacement), then run the same command again: the rotation resumes",
    );
  }
}

function isSurged(dep: V1Deployment): boolean {
  return dep.metadata?.annotations?.["tenkai.dev/rotation-surge"] !== undefined;
}

function multipleBudgets(
  pod: string,
  node: string,
  budgets: readonly string[],
  cause?: unknown,
): TenkaiError {
  return new TenkaiError(
    "POD_MULTIPLE_BUDGETS",
    `draining node ${node}: evicting ${pod}: the pod is covered by several PodDisruptionBudgets (${budgets.join(", ")}); the Eviction API answers 500 for such pods`,
    "narrow the budgets' selectors so each pod is covered by at most one, then run the same command again",
    { ...(cause === undefined ? {} : { cause }), details: { pod, node, budgets: [...budgets] } },
  );
}

export function fmtMs(ms: number): string {
  return ms < 1000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${(ms / 60_000).toFixed(1)} min`;
}
