/**
 * Moves single-replica Deployments without downtime: scale up by one, wait for the new pod to be
 * Ready off the blue nodes, and only then evict the old pod; scale back afterwards. The original
 * replica count is kept in an annotation on the Deployment itself, so a run killed halfway finds
 * it and restores it (and never surges twice).
 */
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { TenkaiError } from "../shared/errors.js";
import type { Emit } from "../shared/events.js";
import { kubeMessage, kubeStatus } from "../shared/kube-errors.js";
import { selectorMatches } from "./budgets.js";
import { type ClusterClients, mergePatch, type PodView } from "./cluster.js";
import { isReady, podKey } from "./filters.js";
import type { RotationEvent } from "./types.js";

export const SURGE_ANNOTATION = "tenkai.dev/rotation-surge";

interface SurgeRecord {
  readonly group: string;
  readonly replicas: number;
}

type SurgePhase = { kind: "scaling" } | { kind: "scaled" } | { kind: "failed"; error: unknown };

export function surgeRecord(dep: V1Deployment): SurgeRecord | undefined {
  const raw = dep.metadata?.annotations?.[SURGE_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as SurgeRecord;
  } catch {
    return undefined;
  }
}

export class Surger {
  private readonly phases = new Map<string, SurgePhase>();

  private readonly clients: ClusterClients;
  private readonly view: PodView;
  private readonly group: string;
  private readonly leaving: (node: string) => boolean;
  private readonly emit: Emit<RotationEvent>;

  constructor(deps: {
    readonly clients: ClusterClients;
    readonly view: PodView;
    /** The node group being rotated (recorded on each surged Deployment). */
    readonly group: string;
    /** Nodes being drained: a replacement there does not count. */
    readonly leaving: (node: string) => boolean;
    readonly emit: Emit<RotationEvent>;
  }) {
    this.clients = deps.clients;
    this.view = deps.view;
    this.group = deps.group;
    this.leaving = deps.leaving;
    this.emit = deps.emit;
  }

  /**
   * Whether `oldPod` of `dep` may be evicted now: the surge replica is Ready elsewhere. Starts the
   * surge the first time it is asked. Throws the scale-up's failure.
   */
  poke(dep: V1Deployment, oldPod: V1Pod): boolean {
    const key = `${dep.metadata?.namespace}/${dep.metadata?.name}`;
    const phase = this.phases.get(key);
    if (phase?.kind === "failed") throw phase.error;
    if (!phase) {
      this.phases.set(key, { kind: "scaling" });
      this.scaleUp(key).then(
        () => this.phases.set(key, { kind: "scaled" }),
        (error: unknown) => this.phases.set(key, { kind: "failed", error }),
      );
      return false;
    }
    if (phase.kind !== "scaled") return false;
    const replacement = this.view
      .podsInNamespace(dep.metadata?.namespace ?? "")
      .find(
        (p) =>
          p.metadata?.uid !== oldPod.metadata?.uid &&
          isReady(p) &&
          !this.leaving(p.spec?.nodeName ?? "") &&
          selectorMatches(dep.spec?.selector, p.metadata?.labels ?? {}),
      );
    if (!replacement) return false;
    if (!this.announced.has(key)) {
      this.announced.add(key);
      this.emit(
        "info",
        "rotation.surge.ready",
        `surge ${key}: ${podKey(replacement)} Ready on ${replacement.spec?.nodeName}`,
        { deployment: key, pod: podKey(replacement), node: replacement.spec?.nodeName ?? "" },
      );
    }
    return true;
  }

  private readonly announced = new Set<string>();

  private async scaleUp(key: string): Promise<void> {
    const [namespace, name] = key.split("/") as [string, string];
    const dep = await this.clients.apps
      .readNamespacedDeployment({ name, namespace })
      .catch((err: unknown) => {
        throw surgeError(err, key, "reading");
      });
    if (surgeRecord(dep)) return; // surged by an earlier run that was stopped
    const replicas = dep.spec?.replicas ?? 1;
    const record: SurgeRecord = { group: this.group, replicas };
    await this.clients.apps
      .patchNamespacedDeployment(
        {
          name,
          namespace,
          body: {
            metadata: { annotations: { [SURGE_ANNOTATION]: JSON.stringify(record) } },
            spec: { replicas: replicas + 1 },
          },
        },
        mergePatch,
      )
      .catch((err: unknown) => {
        throw surgeError(err, key, "scaling up");
      });
    this.emit("info", "rotation.surge.started", `surge ${key}: ${replicas} -> ${replicas + 1} replicas`, {
      deployment: key,
      replicas: replicas + 1,
    });
  }

  /** Scales every Deployment this group's rotation surged back to its recorded replica count. */
  async restoreAll(): Promise<string[]> {
    const list = await this.clients.apps.listDeploymentForAllNamespaces().catch((err: unknown) => {
      throw surgeError(err, "*", "listing");
    });
    const restored: string[] = [];
    for (const dep of list.items) {
      const rec = surgeRecord(dep);
      if (!rec || rec.group !== this.group) continue;
      const key = `${dep.metadata?.namespace}/${dep.metadata?.name}`;
      await this.restore(key, rec.replicas);
      restored.push(key);
    }
    return restored;
  }

  /** Scales one surged Deployment back (after its old pod was evicted). */
  async restore(key: string, replicas?: number): Promise<void> {
    const [namespace, name] = key.split("/") as [string, string];
    let target = replicas;
    if (target === undefined) {
      const dep = await this.clients.apps
        .readNamespacedDeployment({ name, namespace })
        .catch((err: unknown) => {
          throw surgeError(err, key, "reading");
        });
      const rec = surgeRecord(dep);
      if (!rec) return;
      target = rec.replicas;
    }
    try {
      await this.clients.apps.patchNamespacedDeployment(
        {
          name,
          namespace,
          body: { metadata: { annotations: { [SURGE_ANNOTATION]: null } }, spec: { replicas: target } },
        },
        mergePatch,
      );
    } catch (err) {
      if (kubeStatus(err) === 404) return;
      throw surgeError(err, key, "scaling back");
    }
    this.phases.delete(key);
    this.announced.delete(key);
    this.emit("info", "rotation.surge.restored", `surge ${key}: back to ${target} replica(s)`, {
      deployment: key,
      replicas: target,
    });
  }
}

function surgeError(err: unknown, key: string, doing: string): TenkaiError {
  return new TenkaiError(
    "ROTATION_SURGE_FAILED",
    `surging Deployment ${key}: ${doing}: ${kubeMessage(err)}`,
    "check that tenkai may get and patch Deployments, or pass --no-surge to evict single-replica pods directly",
    { cause: err },
  );
}
