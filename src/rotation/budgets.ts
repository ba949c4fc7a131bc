/**
 * PodDisruptionBudget bookkeeping for a parallel drain. The Eviction API is the real guard (it
 * refuses with 429 what a budget does not allow, atomically with the budget's status), but firing
 * evictions the server will refuse only to retry them wastes the budget's time, so the drain keeps
 * its own count: a budget allows `status.disruptionsAllowed` minus the evictions this run has in
 * flight that the observed status does not show yet.
 *
 * An eviction is reflected in the status once the pod is listed in `status.disruptedPods` (the
 * eviction subresource writes it together with `disruptionsAllowed - 1`, see
 * pkg/registry/core/pod/storage/eviction.go), or once the pod was seen terminating and the budget
 * changed after that (the disruption controller then recounts without it), or after a short expiry
 * for evictions the server let through without touching the budget (unhealthy pods).
 */

import type { V1LabelSelector, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { labelSelectorMatches } from "../shared/label-selector.js";

export function pdbKey(pdb: V1PodDisruptionBudget): string {
  return `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;
}

/** policy/v1: an empty selector selects every pod in the namespace; a missing one selects none. */
export function selectorMatches(
  selector: V1LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return selector ? labelSelectorMatches(selector, labels) : false;
}

export function budgetMatchesPod(pdb: V1PodDisruptionBudget, pod: V1Pod): boolean {
  return (
    pdb.metadata?.namespace === pod.metadata?.namespace &&
    selectorMatches(pdb.spec?.selector, pod.metadata?.labels ?? {})
  );
}

interface InFlight {
  /** The eviction request has been sent and not answered yet. */
  requesting: boolean;
  /** The status listed the pod as disrupted while the request was still unanswered. */
  shown?: boolean;
  answeredAt?: number;
  /** When the pod was seen terminating or gone. */
  goneAt?: number;
}

export interface BudgetStatus {
  readonly key: string;
  /** What this drain may still spend: the status's `disruptionsAllowed` minus `inFlight`. */
  readonly allowed: number;
  readonly statusAllowed: number;
  /** Evictions of this run the status does not show yet. */
  readonly inFlight: number;
  readonly healthy: number;
  readonly desired: number;
  readonly expected: number;
}

export class BudgetTracker {
  private readonly pdbs = new Map<string, V1PodDisruptionBudget>();
  private readonly byNamespace = new Map<string, Map<string, V1PodDisruptionBudget>>();
  private readonly inFlight = new Map<string, Map<string, InFlight>>();
  /**
   * The budgets covering each pod object, valid while no budget was added, removed or given another
   * selector (`selectors` counts those): a drain asks for every pod on every scan, and a budget's
   * status changes far more often than its selector.
   */
  private readonly covering = new WeakMap<V1Pod, { readonly selectors: number; readonly keys: string[] }>();
  private selectors = 0;

  constructor(
    private readonly now: () => number,
    /** How long an answered eviction that never shows in the status is counted. */
    private readonly expiryMs = 10_000,
  ) {}

  /** A budget was added or changed (from a watch or a list). */
  upsert(pdb: V1PodDisruptionBudget): void {
    const key = pdbKey(pdb);
    const before = this.pdbs.get(key);
    if (!before || JSON.stringify(before.spec?.selector) !== JSON.stringify(pdb.spec?.selector))
      this.selectors++;
    this.pdbs.set(key, pdb);
    const ns = pdb.metadata?.namespace ?? "";
    let m = this.byNamespace.get(ns);
    if (!m) {
      m = new Map();
      this.byNamespace.set(ns, m);
    }
    m.set(key, pdb);
    const flights = this.inFlight.get(key);
    if (!flights) return;
    const disrupted = pdb.status?.disruptedPods ?? {};
    const t = this.now();
    for (const [pod, f] of flights) {
      if (f.requesting) {
        // The watch can bring the eviction's own status write before the HTTP answer.
        if (Object.hasOwn(disrupted, pod)) f.shown = true;
        continue;
      }
      if (Object.hasOwn(disrupted, pod) || f.goneAt !== undefined) flights.delete(pod);
      else if (f.answeredAt !== undefined && t - f.answeredAt > this.expiryMs) flights.delete(pod);
    }
  }

  remove(pdb: V1PodDisruptionBudget): void {
    this.selectors++;
    this.pdbs.delete(pdbKey(pdb));
    this.byNamespace.get(pdb.metadata?.namespace ?? "")?.delete(pdbKey(pdb));
    this.inFlight.delete(pdbKey(pdb));
  }

  all(): V1PodDisruptionBudget[] {
    return [...this.pdbs.values()];
  }

  /** Keys of the budgets that cover the pod. */
  budgetsFor(pod: V1Pod): string[] {
    const known = this.covering.get(pod);
    if (known?.selectors === this.selectors) return known.keys;
    const keys: string[] = [];
    for (const [key, pdb] of this.byNamespace.get(pod.metadata?.namespace ?? "") ?? []) {
      if (budgetMatchesPod(pdb, pod)) keys.push(key);
    }
    this.covering.set(pod, { selectors: this.selectors, keys });
    return keys;
  }

  status(key: string): BudgetStatus {
    const pdb = this.pdbs.get(key);
    const s = pdb?.status;
    // A status older than the spec says nothing about the spec in force: allow nothing until the
    // disruption controller catches up (the apiserver refuses evictions in that case too).
    const fresh = s !== undefined && (s.observedGeneration ?? 0) >= (pdb?.metadata?.generation ?? 0);
    const t = this.now();
    let pending = 0;
    for (const f of this.inFlight.get(key)?.values() ?? []) {
      if (f.requesting || f.answeredAt === undefined || t - f.answeredAt <= this.expiryMs) pending++;
    }
    return {
      key,
      allowed: (fresh ? (s?.disruptionsAllowed ?? 0) : 0) - pending,
      statusAllowed: fresh ? (s?.disruptionsAllowed ?? 0) : 0,
      inFlight: pending,
      healthy: s?.currentHealthy ?? 0,
      desired: s?.desiredHealthy ?? 0,
      expected: s?.expectedPods ?? 0,
    };
  }

  /**
   * Whether an eviction under the budget has been sent and not answered yet. The apiserver
   * decrements a budget's status with optimistic concurrency and sleeps 500 ms after each conflict
   * (EvictionsRetry in pkg/registry/core/pod/storage/eviction.go), so two evictions under one
   * budget sent together cost the second one half a second per collision: the drain sends them
   * one after the other instead, and budgets side by side. An eviction whose status write was
   * already watched (the pod listed in `disruptedPods`, or seen terminating, which the apiserver
   * does only after that write) cannot collide any more, so the next one need not wait for its
   * answer: under load the answer (the pod's deletion) came seconds after the write.
   */
  requesting(key: string): boolean {
    for (const f of this.inFlight.get(key)?.values() ?? [])
      if (f.requesting && !f.shown && f.goneAt === undefined) return true;
    return false;
  }

  /** Counts an eviction about to be sent against each budget. */
  reserve(keys: readonly string[], podName: string): void {
    for (const key of keys) {
      let m = this.inFlight.get(key);
      if (!m) {
        m = new Map();
        this.inFlight.set(key, m);
      }
      m.set(podName, { requesting: true });
    }
  }

  /** The server refused or the request failed: the budget was not spent. */
  release(keys: readonly string[], podName: string): void {
    for (const key of keys) this.inFlight.get(key)?.delete(podName);
  }

  /** The server accepted the eviction; keep counting it until the status shows it. */
  accepted(keys: readonly string[], podName: string): void {
    const t = this.now();
    for (const key of keys) {
      const f = this.inFlight.get(key)?.get(podName);
      if (!f) continue;
      f.requesting = false;
      f.answeredAt = t;
      const disrupted = this.pdbs.get(key)?.status?.disruptedPods ?? {};
      // Shown in a status seen before the answer (the controller may already have dropped the pod
      // from disruptedPods again, counting it out as terminating): counted there, not here.
      if (f.shown || Object.hasOwn(disrupted, podName)) this.inFlight.get(key)?.delete(podName);
    }
  }

  /** The pod was seen terminating or deleted. */
  podGone(namespace: string, podName: string): void {
    const t = this.now();
    for (const [key, m] of this.inFlight) {
      if (!key.startsWith(`${namespace}/`)) continue;
      const f = m.get(podName);
      // Seen terminating before the eviction's answer came back: recorded all the same, so the
      // next status after the answer lets it go instead of the expiry.
      if (f) f.goneAt ??= t;
    }
  }
}
