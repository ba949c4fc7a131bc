/**
 * The probe DaemonSets of `tenkai verify network`: two (`a` and `b`), so every real node runs two
 * probe pods of its own and same-node pairs are pairs of different pods, plus a ClusterIP Service in
 * front of all of them. They run on every node except kwok's (`tenkai.dev/node-provider=kwok`):
 * kwok nodes run no containers, so nothing could answer there. They tolerate every taint, so tainted node groups are probed too.
 * They stay after a run (the next run, and a comparison with a baseline, reuses the same pods);
 * churn re-creates set `a` and leaves `b` standing, so a fault that only hits pods created after a
 * change shows between the two on the same node.
 */
import type {
  AppsV1Api,
  CoreV1Api,
  V1DaemonSet,
  V1Pod,
  V1SecurityContext,
  V1Service,
} from "@kubernetes/client-node";
import { containerSecurityContext, podSecurityContext } from "../../kube/render/pod-spec.js";
import { PROVIDER_LABEL } from "../../providers/node-placement.js";
import { TenkaiError } from "../../shared/errors.js";

export const DATAPATH_LABEL = "tenkai.dev/probe";
export const DATAPATH_VALUE = "datapath";
export const SET_LABEL = "tenkai.dev/probe-set";
export const PROBE_SETS = ["a", "b"] as const;
export type ProbeSet = (typeof PROBE_SETS)[number];
export const PROBE_SERVICE = "tenkai-netprobe";
export const PROBE_PORT = 8080;

export function daemonSetName(set: ProbeSet): string {
  return `tenkai-netprobe-${set}`;
}

export function probeDaemonSet(namespace: string, image: string, set: ProbeSet): V1DaemonSet {
  const labels = { [DATAPATH_LABEL]: DATAPATH_VALUE, [SET_LABEL]: set };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: daemonSetName(set), namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      // Churn deletes pods itself; a rollout of a changed template replaces them all at once.
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "100%" } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          // Every node but kwok's: kwok nodes run no containers (EKS nodes carry no provider label).
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: PROVIDER_LABEL, operator: "NotIn", values: ["kwok"] }] },
                ],
              },
            },
          },
          tolerations: [{ operator: "Exists" }],
          terminationGracePeriodSeconds: 1,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: "probe",
              image,
              imagePullPolicy: "IfNotPresent",
              args: ["serve", "--http", `:${PROBE_PORT}`],
              ports: [{ name: "http", containerPort: PROBE_PORT }],
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              ],
              readinessProbe: { httpGet: { path: "/readyz", port: PROBE_PORT }, periodSeconds: 2 },
              resources: { requests: { cpu: "5m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
              securityContext: containerSecurityContext() as V1SecurityContext,
            },
          ],
        },
      },
    },
  };
}

export function probeService(namespace: string): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: PROBE_SERVICE, namespace, labels: { [DATAPATH_LABEL]: DATAPATH_VALUE } },
    spec: {
      type: "ClusterIP",
      selector: { [DATAPATH_LABEL]: DATAPATH_VALUE },
      ports: [{ name: "http", port: 80, targetPort: PROBE_PORT }],
    },
  };
}

function code(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** Creates the namespace, the two DaemonSets and the Service, or brings them to this image. */
export async function ensureProbes(
  core: CoreV1Api,
  apps: AppsV1Api,
  namespace: string,
  image: string,
): Promise<void> {
  try {
    await core.readNamespace({ name: namespace });
  } catch (err) {
    if (code(err) !== 404) throw wrap(err, namespace);
    await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((e: unknown) => {
      if (code(e) !== 409) throw wrap(e, namespace);
    });
  }
  for (const set of PROBE_SETS) {
    const body = probeDaemonSet(namespace, image, set);
    const name = daemonSetName(set);
    try {
      const live = await apps.readNamespacedDaemonSet({ name, namespace });
      if (live.spec?.template.spec?.containers[0]?.image !== image) {
        await apps.replaceNamespacedDaemonSet({
          name,
          namespace,
          body: { ...body, metadata: { ...body.metadata, resourceVersion: live.metadata?.resourceVersion } },
        });
      }
    } catch (err) {
      if (code(err) !== 404) throw wrap(err, namespace);
      await apps.createNamespacedDaemonSet({ namespace, body }).catch((e: unknown) => {
        throw wrap(e, namespace);
      });
    }
  }
  try {
    await core.readNamespacedService({ name: PROBE_SERVICE, namespace });
  } catch (err) {
    if (code(err) !== 404) throw wrap(err, namespace);
    await core.createNamespacedService({ namespace, body: probeService(namespace) }).catch((e: unknown) => {
      if (code(e) !== 409) throw wrap(e, namespace);
    });
  }
}

function wrap(err: unknown, namespace: string): TenkaiError {
  return new TenkaiError(
    "VERIFY_PROBES_FAILED",
    `could not set up the network probe DaemonSets in ${namespace}: ${(err as Error).message}`,
    `check that the kubeconfig may create DaemonSets and Services in ${namespace}`,
    { cause: err },
  );
}

export function isReady(p: V1Pod): boolean {
  return (
    !p.metadata?.deletionTimestamp &&
    p.status?.phase === "Running" &&
    !!p.status.podIP &&
    (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

/** The probe pods now, by node and set (only pods not being deleted). */
export async function listProbePods(core: CoreV1Api, namespace: string): Promise<V1Pod[]> {
  const pods = await core.listNamespacedPod({
    namespace,
    labelSelector: `${DATAPATH_LABEL}=${DATAPATH_VALUE}`,
  });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Deletes the pods of set `a` (the DaemonSet re-creates them); returns their names. */
export async function churnProbes(core: CoreV1Api, namespace: string): Promise<string[]> {
  const pods = (await listProbePods(core, namespace)).filter((p) => p.metadata?.labels?.[SET_LABEL] === "a");
  await Promise.all(
    pods.map((p) =>
      core
        .deleteNamespacedPod({ name: p.metadata?.name ?? "", namespace, gracePeriodSeconds: 0 })
        .catch((e: unknown) => {
          if (code(e) !== 404) throw e;
        }),
    ),
  );
  return pods.map((p) => p.metadata?.name ?? "");
}
