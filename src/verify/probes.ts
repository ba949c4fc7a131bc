/**
 * The objects verification tries to create (server-side dry run, impersonating each access level
 * of a tenant): each breaks exactly one rule and is otherwise valid, so a rejection proves that
 * rule's guard. Pod-level probes are also made as the pod templates of a Deployment, a Job and a
 * CronJob, since tenants rarely create bare pods. Pure.
 */

import { POLICY_NAMES } from "../kube/render/admission-policies.js";
import { containerSecurityContext, RUN_AS_ID } from "../kube/render/pod-spec.js";
import {
  CORDON_TAINT,
  FARGATE_SCHEDULER,
  fargateSelectors,
  GUARD_POLICY_NAMES,
  PINNING_LABELS,
} from "../kube/render/tenant-guards.js";
import { SYSTEM_PRIORITY_CLASSES } from "../kube/render/tenant-namespace.js";
import { IRSA_ANNOTATION } from "../kube/render/workloads.js";
import { imagePrefix, ingressClassName, WORKLOAD_LABEL, workloadRoleArn } from "../shared/kube-names.js";
import type { KubeObject } from "../shared/planes.js";
import { normalizePath } from "../spec/checks.js";
import { parseQuantity } from "../spec/quantity.js";
import type { Platform, Tenant } from "../spec/schema.js";
import type { Expectation } from "./checks.js";

export interface Probe {
  readonly action: string;
  readonly object: KubeObject;
  readonly expect: Expectation;
}

interface ProbeContainer {
  name: string;
  image: string;
  resources: Record<string, Record<string, string>>;
  securityContext: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface ProbePodSpec {
  containers: ProbeContainer[];
  [field: string]: unknown;
}

/** Label that ties a probe's template to its controller's selector. */
const PROBE_LABEL = "tenkai.dev/verify-probe";

const meta = (tenant: Tenant, name: string, extra: Record<string, unknown> = {}) => ({
  name: `tenkai-verify-${name}`,
  namespace: tenant.name,
  ...extra,
});

function pod(
  platform: Platform,
  tenant: Tenant,
  name: string,
  mutate: (spec: ProbePodSpec, c: ProbeContainer, labels: Record<string, string>) => void,
): KubeObject {
  const c: ProbeContainer = {
    name: "probe",
    image: `${imagePrefix(platform, tenant.name)}probe:1`,
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "10m", memory: "16Mi" } },
    securityContext: containerSecurityContext(),
  };
  const spec: ProbePodSpec = {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: RUN_AS_ID, seccompProfile: { type: "RuntimeDefault" } },
    containers: [c],
  };
  const labels: Record<string, string> = { [PROBE_LABEL]: name };
  mutate(spec, c, labels);
  return { apiVersion: "v1", kind: "Pod", metadata: meta(tenant, name, { labels }), spec };
}

/** The same pod as the template of a Deployment, a Job and a CronJob. */
function carriers(p: KubeObject): KubeObject[] {
  const labels = p.metadata.labels ?? {};
  const spec = p.spec as Record<string, unknown>;
  const template = { metadata: { labels }, spec };
  const once = { metadata: { labels }, spec: { ...spec, restartPolicy: "Never" } };
  const m = { name: p.metadata.name, namespace: p.metadata.namespace };
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: m,
      spec: { replicas: 1, selector: { matchLabels: { [PROBE_LABEL]: labels[PROBE_LABEL] } }, template },
    },
    { apiVersion: "batch/v1", kind: "Job", metadata: m, spec: { template: once } },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: m,
      spec: { schedule: "@yearly", jobTemplate: { spec: { template: once } } },
    },
  ];
}

function ingress(
  tenant: Tenant,
  name: string,
  className: string,
  host: string,
  path: string,
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta(tenant, name, { annotations }),
    spec: {
      ingressClassName: className,
      rules: [
        {
          host,
          http: {
            paths: [
              { path, pathType: "Prefix", backend: { service: { name: "probe", port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  };
}

function service(tenant: Tenant, name: string, spec: Record<string, unknown>, annotations = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(tenant, name, { annotations }),
    spec: { ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }], ...spec },
  };
}

function budget(tenant: Tenant, name: string, spec: Record<string, unknown>): KubeObject {
  const selected = tenant.services[0]?.name ?? "probe";
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(tenant, name),
    spec: { selector: { matchLabels: { [WORKLOAD_LABEL]: selected } }, ...spec },
  };
}

/** Pod-level probes: each is tried as a Pod and through the templates of Deployment, Job and CronJob. */
function podProbes(platform: Platform, tenant: Tenant, other: Tenant | undefined): Probe[] {
  const psa: Expectation = { by: "pod-security" };
  const guard = (policy: string): Expectation => ({ by: "policy", policy });
  const podsPolicy = guard(GUARD_POLICY_NAMES.pods);
  const list: { action: string; expect: Expectation; object: KubeObject }[] = [
    {
      action: "create a privileged pod",
      expect: psa,
      object: pod(
        platform,
        tenant,
        "privileged",
        (_s, c) =>
          (c.securityContext = { ...c.securityContext, privileged: true, allowPrivilegeEscalation: true }),
      ),
    },
    {
      action: "create a hostPath pod",
      expect: psa,
      object: pod(platform, tenant, "hostpath", (s, c) => {
        s.volumes = [{ name: "host", hostPath: { path: "/" } }];
        c.volumeMounts = [{ name: "host", mountPath: "/host" }];
      }),
    },
    {
      action: "create a hostNetwork pod",
      expect: psa,
      object: pod(platform, tenant, "hostnetwork", (s) => (s.hostNetwork = true)),
    },
    {
      action: "create a pod adding capabilities",
      expect: psa,
      object: pod(
        platform,
        tenant,
        "capabilities",
        (_s, c) =>
          (c.securityContext = {
            ...c.securityContext,
            capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "SYS_ADMIN"] },
          }),
      ),
    },
    ...SYSTEM_PRIORITY_CLASSES.map((cls) => ({
      action: `create a pod at priority class ${cls}`,
      expect: podsPolicy,
      object: pod(
        platform,
        tenant,
        `priority-${cls.replace("system-", "")}`,
        (s) => (s.priorityClassName = cls),
      ),
    })),
    {
      action: "create a pod with spec.nodeName",
      expect: podsPolicy,
      object: pod(platform, tenant, "node-name", (s) => (s.nodeName = "ip-10-0-0-10.ec2.internal")),
    },
    {
      action: `create a pod with a nodeSelector on ${PINNING_LABELS[0]}`,
      expect: podsPolicy,
      object: pod(
        platform,
        tenant,
        "pinned-nodegroup",
        (s) =>
          (s.nodeSelector = {
            [PINNING_LABELS[0]]: `${platform.spec.nodeGroups[0]?.name ?? "general"}-blue`,
          }),
      ),
    },
    {
      action: `create a pod with a required node affinity on ${PINNING_LABELS[1]}`,
      expect: podsPolicy,
      object: pod(
        platform,
        tenant,
        "pinned-slot",
        (s) =>
          (s.affinity = {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: PINNING_LABELS[1], operator: "In", values: ["blue"] }] },
                ],
              },
            },
          }),
      ),
    },
    {
      action: `create a pod tolerating ${CORDON_TAINT}`,
      expect: podsPolicy,
      object: pod(
        platform,
        tenant,
        "tolerate-cordon",
        (s) => (s.tolerations = [{ key: CORDON_TAINT, operator: "Exists", effect: "NoSchedule" }]),
      ),
    },
    {
      action: "create a pod tolerating every taint",
      expect: podsPolicy,
      object: pod(platform, tenant, "tolerate-all", (s) => (s.tolerations = [{ operator: "Exists" }])),
    },
    {
      action: "create a pod with an emptyDir without sizeLimit",
      expect: podsPolicy,
      object: pod(platform, tenant, "emptydir", (s, c) => {
        s.volumes = [{ name: "scratch", emptyDir: {} }];
        c.volumeMounts = [{ name: "scratch", mountPath: "/scratch" }];
      }),
    },
    {
      action: `create a pod with the ${FARGATE_SCHEDULER} scheduler`,
      expect: guard(GUARD_POLICY_NAMES.fargate),
      object: pod(platform, tenant, "fargate-scheduler", (s) => (s.schedulerName = FARGATE_SCHEDULER)),
    },
    {
      action: "create a pod with an image path that climbs out of the tenant's prefix (../)",
      expect: guard(POLICY_NAMES.images),
      object: pod(
        platform,
        tenant,
        "image-traversal",
        (_s, c) => (c.image = `${imagePrefix(platform, tenant.name)}../${other?.name ?? "other"}/probe:1`),
      ),
    },
  ];
  const selector = fargateSelectors(platform, tenant).find((s) => s.length > 0);
  if (selector) {
    list.push({
      action: `create a pod with the Fargate profile's labels (${selector.join(", ")})`,
      expect: guard(GUARD_POLICY_NAMES.fargate),
      object: pod(platform, tenant, "fargate-labels", (_s, _c, labels) => {
        for (const kv of selector) {
          const [k, v] = kv.split("=") as [string, string];
          labels[k] = v;
        }
        labels[WORKLOAD_LABEL] = "tenkai-verify";
      }),
    });
  }
  if (other) {
    list.push({
      action: `create a pod with an image from ${other.name}'s registry prefix`,
      expect: guard(POLICY_NAMES.images),
      object: pod(
        platform,
        tenant,
        "foreign-image",
        (_s, c) => (c.image = `${imagePrefix(platform, other.name)}probe:1`),
      ),
    });
  }
  return list.flatMap((p) => [
    p,
    ...carriers(p.object).map((o) => ({
      action: `${p.action} (as a ${o.kind} template)`,
      // Pod Security enforces on pods and only warns on templates: the controller's pods are refused.
      expect: p.expect.by === "pod-security" ? ({ by: "pod-security-warning" } as const) : p.expect,
      object: o,
    })),
  ]);
}

/** The probes for `tenant`, using `other` (another tenant) for the cross-tenant ones. */
export function probesFor(platform: Platform, tenant: Tenant, other: Tenant | undefined): Probe[] {
  const guard = (policy: string): Expectation => ({ by: "policy", policy });
  const probes: Probe[] = [
    ...podProbes(platform, tenant, other),
    {
      action: "create a pod over quota",
      expect: { by: "quota" },
      object: pod(platform, tenant, "over-quota", (_s, c) => {
        const cpu = String(Math.ceil(parseQuantity(tenant.quota.cpu)) + 1);
        c.resources = { requests: { cpu, memory: "16Mi" }, limits: { cpu, memory: "16Mi" } };
      }),
    },
    {
      action: "create a pod asking for more local disk than the tenant has",
      expect: { by: "quota" },
      object: pod(platform, tenant, "over-disk", (_s, c) => {
        const disk = `${Math.ceil(parseQuantity(tenant.quota.ephemeralStorage) / 2 ** 30) + 1}Gi`;
        c.resources = {
          requests: { cpu: "10m", memory: "16Mi", "ephemeral-storage": disk },
          limits: { cpu: "10m", memory: "16Mi", "ephemeral-storage": disk },
        };
      }),
    },
    {
      action: "create a Service with externalIPs",
      expect: guard(GUARD_POLICY_NAMES.services),
      object: service(tenant, "external-ips", { externalIPs: ["203.0.113.10"] }),
    },
    {
      action: `create an ExternalName Service pointing at ${other?.name ?? "another tenant"}`,
      expect: guard(GUARD_POLICY_NAMES.services),
      object: {
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(tenant, "external-name"),
        spec: {
          type: "ExternalName",
          externalName: `${other?.services[0]?.name ?? "api"}.${other?.name ?? "other"}.svc.cluster.local`,
        },
      },
    },
    {
      action: "create a LoadBalancer Service",
      expect: guard(GUARD_POLICY_NAMES.services),
      object: service(tenant, "load-balancer", { type: "LoadBalancer" }),
    },
    {
      action: "create a Service with a load balancer controller annotation",
      expect: guard(GUARD_POLICY_NAMES.services),
      object: service(
        tenant,
        "lb-annotation",
        {},
        {
          "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        },
      ),
    },
    {
      action: "create a PodDisruptionBudget with maxUnavailable 0",
      expect: guard(GUARD_POLICY_NAMES.budgets),
      object: budget(tenant, "budget-max-0", { maxUnavailable: 0 }),
    },
    {
      action: "create a PodDisruptionBudget with minAvailable 100%",
      expect: guard(GUARD_POLICY_NAMES.budgets),
      object: budget(tenant, "budget-min-all", { minAvailable: "100%" }),
    },
    {
      action: "create a service-account-token Secret",
      expect: guard(GUARD_POLICY_NAMES.secrets),
      object: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: meta(tenant, "legacy-token", {
          annotations: { "kubernetes.io/service-account.name": "default" },
        }),
        type: "kubernetes.io/service-account-token",
      },
    },
    {
      action: "create a ServiceAccount with an IRSA role annotation",
      expect: guard(GUARD_POLICY_NAMES.serviceAccounts),
      object: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: meta(tenant, "irsa", {
          annotations: { [IRSA_ANNOTATION]: workloadRoleArn(platform, other?.name ?? tenant.name, "probe") },
        }),
      },
    },
  ];
  const own = tenant.services.find((s) => s.route)?.route;
  const ownHost = own?.host ?? "unrouted.invalid";
  const ownPath = own ? normalizePath(own.path) : "/";
  probes.push({
    action: "create an Ingress with an alb group annotation",
    expect: guard(POLICY_NAMES.ingress),
    object: ingress(tenant, "group-annotation", ingressClassName(tenant.name), ownHost, ownPath, {
      "alb.ingress.kubernetes.io/group.name": "someone-else",
    }),
  });
  if (own) {
    // Its own route, again: the count quota holds one Ingress per declared route.
    probes.push({
      action: `create a second Ingress for its own route ${ownHost}${ownPath}`,
      expect: { by: "quota" },
      object: ingress(tenant, "second-ingress", ingressClassName(tenant.name), ownHost, ownPath),
    });
  }
  if (other) {
    const theirs = other.services.find((s) => s.route)?.route;
    probes.push({
      action: `create an Ingress with ${other.name}'s IngressClass`,
      expect: guard(POLICY_NAMES.ingress),
      object: ingress(tenant, "other-class", ingressClassName(other.name), ownHost, ownPath),
    });
    if (theirs) {
      probes.push({
        action: `create an Ingress claiming ${other.name}'s route ${theirs.host}${normalizePath(theirs.path)}`,
        expect: guard(POLICY_NAMES.routes),
        object: ingress(
          tenant,
          "other-route",
          ingressClassName(tenant.name),
          theirs.host,
          normalizePath(theirs.path),
        ),
      });
    }
  }
  return probes;
}
