/**
 * One read of what the skew, add-on, rotation and Fargate decisions need from a live cluster:
 * full objects, page by page. Nothing here decides; plan.ts hands the snapshot to the deciders.
 */
import type {
  V1DaemonSet,
  V1Deployment,
  V1HorizontalPodAutoscaler,
  V1MutatingWebhookConfiguration,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
  V1Service,
  V1StatefulSet,
  V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";
import { isKubeApiError, type KubeClient } from "../kube/api/client.js";
import { listPaged } from "./live-scan.js";
import type { ClusterSnapshot } from "./rotation-blockers.js";

export interface LiveSnapshot extends ClusterSnapshot {
  readonly daemonSets: readonly V1DaemonSet[];
  readonly hpas: readonly V1HorizontalPodAutoscaler[];
  readonly fargateLogging: boolean;
  /** kube-apiserver's gitVersion, e.g. `v1.36.3`. */
  readonly serverVersion: string;
}

async function all<T>(client: KubeClient, path: string, pageSize: number): Promise<T[]> {
  const out: T[] = [];
  await listPaged<T>(client, path, { limit: String(pageSize) }, undefined, (items) => {
    for (const i of items) out.push(i);
  });
  return out;
}

export async function serverVersion(client: KubeClient): Promise<string> {
  const v = await client.request<{ gitVersion?: string }>({ method: "GET", path: "/version" });
  return v.body.gitVersion ?? "";
}

export async function readSnapshot(client: KubeClient, pageSize = 500): Promise<LiveSnapshot> {
  const [
    version,
    nodes,
    pods,
    pdbs,
    replicaSets,
    deployments,
    statefulSets,
    daemonSets,
    services,
    validatingWebhooks,
    mutatingWebhooks,
    hpas,
    fargateLogging,
  ] = await Promise.all([
    serverVersion(client),
    all<V1Node>(client, "/api/v1/nodes", pageSize),
    all<V1Pod>(client, "/api/v1/pods", pageSize),
    all<V1PodDisruptionBudget>(client, "/apis/policy/v1/poddisruptionbudgets", pageSize),
    all<V1ReplicaSet>(client, "/apis/apps/v1/replicasets", pageSize),
    all<V1Deployment>(client, "/apis/apps/v1/deployments", pageSize),
    all<V1StatefulSet>(client, "/apis/apps/v1/statefulsets", pageSize),
    all<V1DaemonSet>(client, "/apis/apps/v1/daemonsets", pageSize),
    all<V1Service>(client, "/api/v1/services", pageSize),
    all<V1ValidatingWebhookConfiguration>(
      client,
      "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
      pageSize,
    ),
    all<V1MutatingWebhookConfiguration>(
      client,
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
      pageSize,
    ),
    all<V1HorizontalPodAutoscaler>(client, "/apis/autoscaling/v2/horizontalpodautoscalers", pageSize),
    client
      .request({ method: "GET", path: "/api/v1/namespaces/aws-observability/configmaps/aws-logging" })
      .then(
        () => true,
        (err: unknown) => {
          if (isKubeApiError(err, 404)) return false;
          throw err;
        },
      ),
  ]);
  return {
    serverVersion: version,
    nodes,
    pods,
    pdbs,
    replicaSets,
    deployments,
    statefulSets,
    daemonSets,
    services,
    validatingWebhooks,
    mutatingWebhooks,
    hpas,
    fargateLogging,
  };
}
