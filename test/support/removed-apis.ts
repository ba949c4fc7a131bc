/**
 * Objects that carry a removed apiVersion the way a long-lived cluster carries them, planted into a
 * real local control plane — shared by test/integration/upgrade-plan.test.ts and
 * bench/upgrade-scan-vs-pluto.ts so the bench measures what the test proves is found:
 *
 * - `lastAppliedDeployment` / `lastAppliedIngress`: stored through today's version, with a kubectl
 *   last-applied annotation naming extensions/v1beta1 / networking.k8s.io/v1beta1 (what pluto and
 *   kubent read);
 * - `managedFieldsRole` + `putStoredObject`: a Role whose only managedFields entry was written
 *   through rbac.authorization.k8s.io/v1beta1, with no annotation. Today's API server refuses to
 *   record a managed-fields entry for a version it cannot convert (it drops it on any write), so
 *   the object is put into etcd (its JSON gateway) as an older API server left it;
 * - `helmReleaseSecret`: a Helm 3 release Secret whose manifest holds an autoscaling/v2beta2
 *   HorizontalPodAutoscaler.
 *
 * Test and bench support only.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeHelmRelease } from "../../src/upgrade/helm.js";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function lastApplied(apiVersion: string, kind: string, name: string, namespace: string) {
  return { [LAST_APPLIED]: JSON.stringify({ apiVersion, kind, metadata: { name, namespace } }) };
}

/** An apps/v1 Deployment (0 replicas); with `oldApiVersion`, last applied through that version. */
export function deployment(name: string, namespace: string, oldApiVersion?: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace,
      ...(oldApiVersion ? { annotations: lastApplied(oldApiVersion, "Deployment", name, namespace) } : {}),
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "a", image: "x:1" }] },
      },
    },
  };
}

/** A Deployment last applied with kubectl through extensions/v1beta1. POST to apps/v1. */
export const lastAppliedDeployment = (name: string, namespace: string) =>
  deployment(name, namespace, "extensions/v1beta1");

/** A networking.k8s.io/v1 Ingress last applied through networking.k8s.io/v1beta1. */
export function lastAppliedIngress(name: string, namespace: string) {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name,
      namespace,
      annotations: lastApplied("networking.k8s.io/v1beta1", "Ingress", name, namespace),
    },
    spec: { defaultBackend: { service: { name: "web", port: { number: 80 } } } },
  };
}

/** A Role whose only managedFields entry names rbac.authorization.k8s.io/v1beta1; `n` makes its uid. */
export function managedFieldsRole(name: string, namespace: string, n: number) {
  return {
    key: `/registry/roles/${namespace}/${name}`,
    object: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: {
        name,
        namespace,
        uid: `5d1f3c1e-0b0a-4c57-9f1e-${String(n).padStart(12, "0")}`,
        creationTimestamp: "2021-06-01T00:00:00Z",
        managedFields: [
          {
            manager: "old-operator",
            operation: "Update",
            apiVersion: "rbac.authorization.k8s.io/v1beta1",
            time: "2021-06-01T00:00:00Z",
            fieldsType: "FieldsV1",
            fieldsV1: { "f:rules": {} },
          },
        ],
      },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    },
  };
}

/** The etcd client port of a cluster started by test/support/cluster.ts (its ports.env). */
export function etcdPortOf(clusterDir: string): string {
  const port = /ETCD_PORT=(\d+)/.exec(readFileSync(join(clusterDir, "ports.env"), "utf8"))?.[1];
  if (!port) throw new Error(`no ETCD_PORT in ${clusterDir}/ports.env`);
  return port;
}

/** Writes an object straight into etcd through its JSON gateway (the API server serves it from there). */
export async function putStoredObject(etcdPort: string, key: string, obj: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${etcdPort}/v3/kv/put`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      key: Buffer.from(key).toString("base64"),
      value: Buffer.from(JSON.stringify(obj)).toString("base64"),
    }),
  });
  if (res.status !== 200) throw new Error(`etcd put ${key}: ${res.status} ${await res.text()}`);
}

/** A deployed Helm 3 release Secret whose manifest holds an autoscaling/v2beta2 HPA. POST to v1 secrets. */
export function helmReleaseSecret(release: string, namespace: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "helm.sh/release.v1",
    metadata: {
      name: `sh.helm.release.v1.${release}.v1`,
      namespace,
      labels: { owner: "helm", name: release, status: "deployed", version: "1" },
    },
    data: {
      release: encodeHelmRelease({
        name: release,
        namespace,
        version: 1,
        chart: { metadata: { name: "legacy-chart", version: "0.4.0" } },
        manifest: `---\n# Source: legacy-chart/templates/hpa.yaml\napiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: ${release}\nspec:\n  maxReplicas: 3\n`,
      }),
    },
  };
}
