/**
 * The objects verification tries to create (server-side dry run, impersonating a tenant): each
 * breaks exactly one rule and is otherwise valid, so a rejection proves that rule's guard. Pure.
 */

import { POLICY_NAMES } from "../kube/render/admission-policies.js";
import { containerSecurityContext, RUN_AS_ID } from "../kube/render/pod-spec.js";
import { imagePrefix, ingressClassName } from "../shared/kube-names.js";
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

function pod(
  platform: Platform,
  tenant: Tenant,
  name: string,
  mutate: (spec: ProbePodSpec, c: ProbeContainer) => void,
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
  mutate(spec, c);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `tenkai-verify-${name}`, namespace: tenant.name },
    spec,
  };
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
    metadata: { name: `tenkai-verify-${name}`, namespace: tenant.name, annotations },
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

/** The probes for `tenant`, using `other` (another tenant) for the cross-tenant ones. */
export function probesFor(platform: Platform, tenant: Tenant, other: Tenant | undefined): Probe[] {
  const psa: Expectation = { by: "pod-security" };
  const probes: Probe[] = [
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
    {
      action: "create a pod over quota",
      expect: { by: "quota" },
      object: pod(platform, tenant, "over-quota", (_s, c) => {
        const cpu = String(Math.ceil(parseQuantity(tenant.quota.cpu)) + 1);
        c.resources = { requests: { cpu, memory: "16Mi" }, limits: { cpu, memory: "16Mi" } };
      }),
    },
  ];
  const own = tenant.services.find((s) => s.route)?.route;
  const ownHost = own?.host ?? "unrouted.invalid";
  const ownPath = own ? normalizePath(own.path) : "/";
  probes.push({
    action: "create an Ingress with an alb group annotation",
    expect: { by: "policy", policy: POLICY_NAMES.ingress },
    object: ingress(tenant, "group-annotation", ingressClassName(tenant.name), ownHost, ownPath, {
      "alb.ingress.kubernetes.io/group.name": "someone-else",
    }),
  });
  if (other) {
    const theirs = other.services.find((s) => s.route)?.route;
    probes.push({
      action: `create an Ingress with ${other.name}'s IngressClass`,
      expect: { by: "policy", policy: POLICY_NAMES.ingress },
      object: ingress(tenant, "other-class", ingressClassName(other.name), ownHost, ownPath),
    });
    if (theirs) {
      probes.push({
        action: `create an Ingress claiming ${other.name}'s route ${theirs.host}${normalizePath(theirs.path)}`,
        expect: { by: "policy", policy: POLICY_NAMES.routes },
        object: ingress(
          tenant,
          "other-route",
          ingressClassName(tenant.name),
          theirs.host,
          normalizePath(theirs.path),
        ),
      });
    }
    probes.push({
      action: `create a pod with an image from ${other.name}'s registry prefix`,
      expect: { by: "policy", policy: POLICY_NAMES.images },
      object: pod(
        platform,
        tenant,
        "foreign-image",
        (_s, c) => (c.image = `${imagePrefix(platform, other.name)}probe:1`),
      ),
    });
  }
  return probes;
}
