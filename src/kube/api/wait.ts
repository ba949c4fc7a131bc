/**
 * Waiting on the server: CRDs until Established (their kinds are served only then), ResourceQuotas
 * until the quota controller enforces their limits, workloads until rolled out (the same
 * conditions `kubectl rollout status` checks).
 */
import type { Clock } from "../../shared/clock.js";
import { TenkaiError } from "../../shared/errors.js";
import type { KubeObject } from "../../shared/planes.js";
import { objectKey } from "./applyset.js";
import type { KubeClient } from "./client.js";
import { mapLimit } from "./concurrency.js";

export async function waitForCrds(
  client: KubeClient,
  names: readonly string[],
  o: { clock: Clock; timeoutMs?: number; onEstablished?: (name: string) => void },
): Promise<void> {
  const deadline = o.clock.now() + (o.timeoutMs ?? 60_000);
  await Promise.all(
    names.map(async (name) => {
      for (;;) {
        const crd = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>({
          method: "GET",
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        });
        if (crd.body.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) {
          o.onEstablished?.(name);
          return;
        }
        if (o.clock.now() > deadline)
          throw new TenkaiError(
            "KUBE_CRD_NOT_ESTABLISHED",
            `CRD ${name} is not Established`,
            "check the CRD's status conditions (kubectl describe crd)",
          );
        await o.clock.sleep(200);
      }
    }),
  );
}

export interface RolloutProgress {
  readonly ref: string;
  readonly ready: number;
  readonly desired: number;
  readonly done: boolean;
}

interface WorkloadStatus {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

/** Ready and desired counts, and whether the rollout is complete (kubectl rollout status rules). */
export function rolloutState(
  kind: string,
  o: WorkloadStatus,
): { ready: number; desired: number; done: boolean } {
  const s = o.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
  if (kind === "DaemonSet") {
    const desired = s.desiredNumberScheduled ?? 0;
    const ready = s.numberAvailable ?? 0;
    return {
      ready,
      desired,
      done: observed && (s.updatedNumberScheduled ?? 0) >= desired && ready >= desired,
    };
  }
  const desired = o.spec?.replicas ?? 1;
  const ready = s.availableReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  return {
    ready,
    desired,
    done: observed && updated >= desired && (s.replicas ?? 0) <= updated && ready >= desired,
  };
}

const PATHS: Record<string, string> = {
  Deployment: "deployments",
  DaemonSet: "daemonsets",
  StatefulSet: "statefulsets",
};

export async function waitForRollouts(
  client: KubeClient,
  objects: readonly KubeObject[],
  o: { clock: Clock; timeoutMs: number; concurrency: number; onProgress?: (p: RolloutProgress) => void },
): Promise<void> {
  const deadline = o.clock.now() + o.timeoutMs;
  const stuck: string[] = [];
  await mapLimit(objects, o.concurrency, async (obj) => {
    const ref = objectKey(obj);
    let last = "";
    for (;;) {
      const live = await client.request<WorkloadStatus>({
        method: "GET",
        path: `/apis/apps/v1/namespaces/${obj.metadata.namespace}/${PATHS[obj.kind]}/${obj.metadata.name}`,
      });
      const state = rolloutState(obj.kind, live.body);
      const sig = `${state.ready}/${state.desired}/${state.done}`;
      if (sig !== last) {
        o.onProgress?.({ ref, ...state });
        last = sig;
      }
      if (state.done) return;
      if (o.clock.now() > deadline) {
        stuck.push(`${ref} (${state.ready}/${state.desired} ready)`);
        return;
      }
      await o.clock.sleep(500);
    }
  });
  if (stuck.length > 0) {
    throw new TenkaiError(
      "KUBE_ROLLOUT_TIMEOUT",
      `not rolled out after ${Math.round(o.timeoutMs / 1000)} s: ${stuck.slice(0, 10).join(", ")}${stuck.length > 10 ? `, and ${stuck.length - 10} more` : ""}`,
      "check the pods' events (kubectl describe pod): unschedulable (no nodes, quota) or failing probes; raise --timeout, or pass --no-wait",
    );
  }
}

/**
 * Waits until each ResourceQuota's `status.hard` equals its `spec.hard`. Quota admission enforces
 * `status.hard`, which the quota controller copies from `spec.hard` in its own time: an apply that
 * raises a limit (a route added to a tenant) and then creates what the limit counts (the route's
 * Ingress) is refused with "exceeded quota" against the old limit until it does. Returns the
 * quotas (`namespace/name`) still behind after the bound, for the caller to report.
 */
export async function waitForQuotas(
  client: KubeClient,
  quotas: readonly { readonly namespace: string; readonly name: string }[],
  o: { clock: Clock; timeoutMs?: number },
): Promise<string[]> {
  const deadline = o.clock.now() + (o.timeoutMs ?? 60_000);
  const behind: string[] = [];
  await mapLimit(quotas, 8, async (q) => {
    for (;;) {
      const live = await client.request<{
        spec?: { hard?: Record<string, string> };
        status?: { hard?: Record<string, string> };
      }>({ method: "GET", path: `/api/v1/namespaces/${q.namespace}/resourcequotas/${q.name}` });
      if (sameLimits(live.body.spec?.hard ?? {}, live.body.status?.hard ?? {})) return;
      if (o.clock.now() > deadline) {
        behind.push(`${q.namespace}/${q.name}`);
        return;
      }
      await o.clock.sleep(200);
    }
  });
  return behind.sort();
}

function sameLimits(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
