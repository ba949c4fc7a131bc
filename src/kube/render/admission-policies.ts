/**
 * ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1, built into kube-apiserver since
 * 1.30; no webhook to run) that keep tenants inside their lanes on the shared ALB and registry:
 *
 * - `tenkai-ingress`: no `alb.ingress.kubernetes.io/group.*` (or other ALB-wide) annotations, only
 *   the tenant's own IngressClass, no default backend (it would catch every host on the ALB);
 * - `tenkai-ingress-routes` (route-admission.ts): every path under a route the tenant owns, none
 *   overlapping another tenant's route; the route table is a ConfigMap param in tenkai-system;
 * - `tenkai-images`: every container image comes from the tenant's own ECR prefix.
 *
 * Every policy selects namespaces labelled `tenkai.dev/tenant`, which only tenkai can write.
 */

import { baseLabels, ingressClassName, registryHost, TENANT_LABEL } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";
import { listenPorts } from "./ingress.js";

const API = "admissionregistration.k8s.io/v1";
export const ALB_PREFIX = "alb.ingress.kubernetes.io/";
/** ALB annotations that only shape a tenant's own target group and health check. */
export const TENANT_ALB_ANNOTATIONS = [
  "target-type",
  "backend-protocol",
  "healthcheck-path",
  "healthcheck-port",
  "healthcheck-protocol",
  "healthcheck-interval-seconds",
  "healthcheck-timeout-seconds",
  "healthy-threshold-count",
  "unhealthy-threshold-count",
  "success-codes",
  "target-group-attributes",
  // Group-wide, so only the platform's own value is admitted (checked below).
  "listen-ports",
] as const;

export const tenantNamespaces = { matchExpressions: [{ key: TENANT_LABEL, operator: "Exists" }] };
export const cel = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
export const celList = (xs: readonly string[]) => `[${xs.map(cel).join(", ")}]`;

/** Creates and updates of Ingresses in tenant namespaces. */
export const INGRESSES_IN_TENANTS = {
  namespaceSelector: tenantNamespaces,
  resourceRules: [
    {
      apiGroups: ["networking.k8s.io"],
      apiVersions: ["v1"],
      operations: ["CREATE", "UPDATE"],
      resources: ["ingresses"],
    },
  ],
};

/** Pods and every kind that carries a pod template a tenant could write. */
export const POD_CARRIERS = [
  {
    apiGroups: [""],
    apiVersions: ["v1"],
    operations: ["CREATE", "UPDATE"],
    resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers"],
  },
  {
    apiGroups: ["apps"],
    apiVersions: ["v1"],
    operations: ["CREATE", "UPDATE"],
    resources: ["deployments", "replicasets", "statefulsets", "daemonsets"],
  },
  {
    apiGroups: ["batch"],
    apiVersions: ["v1"],
    operations: ["CREATE", "UPDATE"],
    resources: ["jobs", "cronjobs"],
  },
];
/** The pod spec of a Pod or of any pod carrier's template. */
export const POD_SPEC =
  "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)";
/** The labels of a Pod or of a carrier's pod template ({} when none). */
export const POD_LABELS =
  "object.kind == 'Pod' ? (has(object.metadata.labels) ? object.metadata.labels : {}) : (object.kind == 'CronJob' ? (has(object.spec.jobTemplate.spec.template.metadata) && has(object.spec.jobTemplate.spec.template.metadata.labels) ? object.spec.jobTemplate.spec.template.metadata.labels : {}) : (has(object.spec.template.metadata) && has(object.spec.template.metadata.labels) ? object.spec.template.metadata.labels : {}))";

/**
 * An ECR repository path and tag or digest after the tenant's prefix, segment by segment (ECR's
 * repository name grammar), so `../other-tenant/x` cannot pass as a path under the prefix.
 */
export const IMAGE_REST_RE =
  "^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$";

export const POLICY_NAMES = {
  ingress: "tenkai-ingress",
  routes: "tenkai-ingress-routes",
  images: "tenkai-images",
} as const;

export function platformAdmissionPolicies(platform: Platform): KubeObject[] {
  const labels = baseLabels(platform);
  const annotations = "(has(object.metadata.annotations) ? object.metadata.annotations : {})";
  const allowed = `[${TENANT_ALB_ANNOTATIONS.map(cel).join(", ")}]`;
  const ingress: KubeObject = {
    apiVersion: API,
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: POLICY_NAMES.ingress, labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: INGRESSES_IN_TENANTS,
      variables: [{ name: "annotations", expression: annotations }],
      validations: [
        {
          expression: `variables.annotations.all(k, !k.startsWith(${cel(`${ALB_PREFIX}group.`)}))`,
          message: `tenants may not set ${ALB_PREFIX}group.* annotations: the IngressGroup is pinned by the tenant's IngressClassParams`,
          reason: "Forbidden",
        },
        {
          expression: `variables.annotations.all(k, !k.startsWith(${cel(ALB_PREFIX)}) || k.substring(${ALB_PREFIX.length}) in ${allowed})`,
          messageExpression: `'annotation ' + variables.annotations.filter(k, k.startsWith(${cel(ALB_PREFIX)}) && !(k.substring(${ALB_PREFIX.length}) in ${allowed}))[0] + ' changes the shared ALB; tenants may set only ${TENANT_ALB_ANNOTATIONS.join(", ")}'`,
          reason: "Forbidden",
        },
        {
          expression: `!(${cel(`${ALB_PREFIX}target-type`)} in variables.annotations) || variables.annotations[${cel(`${ALB_PREFIX}target-type`)}] == 'ip'`,
          message: "the shared ALB routes to pod IPs: target-type must be ip",
          reason: "Invalid",
        },
        {
          expression: `!(${cel(`${ALB_PREFIX}listen-ports`)} in variables.annotations) || variables.annotations[${cel(`${ALB_PREFIX}listen-ports`)}] == ${cel(listenPorts(platform))}`,
          message: `the shared ALB's listeners are the platform's: listen-ports must be ${listenPorts(platform)}`,
          reason: "Forbidden",
        },
        {
          expression: `!(${cel("kubernetes.io/ingress.class")} in variables.annotations)`,
          message: "use spec.ingressClassName, not the kubernetes.io/ingress.class annotation",
          reason: "Invalid",
        },
        {
          expression: `has(object.spec.ingressClassName) && object.spec.ingressClassName == ${cel(ingressClassName(""))} + namespaceObject.metadata.name`,
          messageExpression: `'Ingresses in ' + namespaceObject.metadata.name + ' must use IngressClass ${ingressClassName("")}' + namespaceObject.metadata.name + (has(object.spec.ingressClassName) ? ', not ' + object.spec.ingressClassName : '')`,
          reason: "Forbidden",
        },
        {
          expression: "!has(object.spec.defaultBackend)",
          message:
            "a default backend would catch every host on the shared ALB; route a host and path instead",
          reason: "Forbidden",
        },
      ],
    },
  };
  const prefix = `${registryHost(platform)}/${platform.metadata.name}/`;
  const fits = (c: string) =>
    `(${c}.image.startsWith(variables.prefix) && ${c}.image.substring(size(variables.prefix)).matches(${cel(IMAGE_REST_RE)}))`;
  const outside = (list: string) => `variables.spec.${list}.all(c, ${fits("c")})`;
  const foreign = (list: string) => `variables.spec.${list}.filter(c, !${fits("c")}).map(c, c.image)`;
  const images: KubeObject = {
    apiVersion: API,
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: POLICY_NAMES.images, labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { namespaceSelector: tenantNamespaces, resourceRules: POD_CARRIERS },
      variables: [
        { name: "spec", expression: POD_SPEC },
        { name: "prefix", expression: `${cel(prefix)} + namespaceObject.metadata.name + '/'` },
        {
          name: "foreign",
          expression: `${foreign("containers")} + (has(variables.spec.initContainers) ? ${foreign("initContainers")} : []) + (has(variables.spec.ephemeralContainers) ? ${foreign("ephemeralContainers")} : [])`,
        },
      ],
      validations: [
        {
          expression: `${outside("containers")} && (!has(variables.spec.initContainers) || ${outside("initContainers")}) && (!has(variables.spec.ephemeralContainers) || ${outside("ephemeralContainers")})`,
          messageExpression:
            "'image ' + variables.foreign[0] + ' is not a repository under this tenant\\'s registry prefix ' + variables.prefix + ' (matched segment by segment); push it to the tenant\\'s own ECR repositories'",
          reason: "Forbidden",
        },
      ],
    },
  };
  const binding = (name: string, policy: string): KubeObject => ({
    apiVersion: API,
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name, labels },
    spec: {
      policyName: policy,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: tenantNamespaces },
    },
  });
  return [
    ingress,
    images,
    binding(POLICY_NAMES.ingress, POLICY_NAMES.ingress),
    binding(POLICY_NAMES.images, POLICY_NAMES.images),
  ];
}
