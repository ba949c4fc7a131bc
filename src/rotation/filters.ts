/**
 * Which pods a drain evicts, skips or refuses: kubectl's drain filters (staging/src/k8s.io/kubectl/
 * pkg/drain/filters.go) as pure functions that return `{ verdict, reason, message }`, so every
 * blocker is gathered before anything changes (STYLE.md 5).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { SAFE_TO_EVICT_VOLUMES } from "../kube/render/pod-spec.js";

export type Verdict = "evict" | "skip" | "block";

export interface PodDecision {
  readonly verdict: Verdict;
  /** Stable reason code: `daemonset`, `mirror`, `finished`, `unreplicated`, `emptydir`, `ok`. */
  readonly reason: string;
  readonly message: string;
  /** Evicted anyway because the user said so (`--force-unreplicated`, `--delete-emptydir-data`). */
  readonly warning?: string;
}

export interface FilterOptions {
  readonly forceUnreplicated: boolean;
  readonly deleteEmptyDirData: boolean;
}

/** The annotation the kubelet puts on a mirror pod (the API copy of a static pod). */
export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

export function controllerOf(pod: V1Pod): { kind: string; name: string } | undefined {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

export function isTerminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null;
}

export function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/**
 * A pod being deleted whose containers have all exited (preStop and grace done, the kubelet
 * finishing its clean-up): it holds nothing on its node any more. The drain and the slot deletion
 * both count a node's pods by this.
 */
export function isLeavingFinished(pod: V1Pod): boolean {
  return isFinished(pod) && isTerminating(pod);
}

export function isReady(pod: V1Pod): boolean {
  return (
    !isTerminating(pod) &&
    (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

/** Decides one pod, in kubectl's order: DaemonSet and mirror pods are skipped before anything else. */
export function decidePod(pod: V1Pod, opts: FilterOptions): PodDecision {
  const key = podKey(pod);
  const owner = controllerOf(pod);
  if (owner?.kind === "DaemonSet") {
    return {
      verdict: "skip",
      reason: "daemonset",
      message: `${key} is managed by DaemonSet ${owner.name}; it stays until its node is deleted`,
    };
  }
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) {
    return {
      verdict: "skip",
      reason: "mirror",
      message: `${key} is a mirror pod of a static pod; the API cannot evict it`,
    };
  }
  if (isFinished(pod)) {
    return {
      verdict: "evict",
      reason: "finished",
      message: `${key} has finished (${pod.status?.phase}); removing it loses nothing`,
    };
  }
  let warning: string | undefined;
  if (!owner) {
    if (!opts.forceUnreplicated) {
      return {
        verdict: "block",
        reason: "unreplicated",
        message: `${key} is not managed by a controller; evicting it deletes it for good`,
      };
    }
    warning = `${key} is not managed by a controller and will not come back (--force-unreplicated)`;
  }
  // Volumes the pod declares disposable (the cluster autoscaler's annotation; tenkai's own
  // workloads declare their /tmp scratch) do not hold it back.
  const disposable = new Set(
    (pod.metadata?.annotations?.[SAFE_TO_EVICT_VOLUMES] ?? "")
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean),
  );
  const emptyDirs = (pod.spec?.volumes ?? [])
    .filter((v) => v.emptyDir !== undefined && !disposable.has(v.name))
    .map((v) => v.name);
  if (emptyDirs.length > 0) {
    if (!opts.deleteEmptyDirData) {
      return {
        verdict: "block",
        reason: "emptydir",
        message: `${key} has emptyDir volume(s) ${emptyDirs.join(", ")} whose data is lost when it is evicted`,
      };
    }
    warning = [
      warning,
      `${key}: the data in emptyDir ${emptyDirs.join(", ")} is lost (--delete-emptydir-data)`,
    ]
      .filter(Boolean)
      .join("; ");
  }
  return warning
    ? { verdict: "evict", reason: "ok", message: `${key} will be evicted`, warning }
    : { verdict: "evict", reason: "ok", message: `${key} will be evicted` };
}

/** The error code of a blocking verdict (from the fixed list in shared/errors.ts). */
export function blockCode(reason: string): "POD_UNREPLICATED" | "POD_EMPTYDIR" {
  return reason === "emptydir" ? "POD_EMPTYDIR" : "POD_UNREPLICATED";
}

/** How to get past a blocking verdict, for the error's `fix`. */
export function fixFor(reason: string): string {
  switch (reason) {
    case "unreplicated":
      return "run it under a Deployment or StatefulSet, delete it yourself, or pass --force-unreplicated";
    case "emptydir":
      return "pass --delete-emptydir-data if the data can be lost";
    default:
      return "see the message";
  }
}
