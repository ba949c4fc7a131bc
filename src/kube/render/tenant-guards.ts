/**
 * ValidatingAdmissionPolicies that stop one tenant from harming the others or the platform
 * without ever touching their objects (issue 11). Each selects namespaces labelled
 * `tenkai.dev/tenant` and refuses, in a Pod or any pod template (Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, CronJob, ReplicationController):
 *
 * - `tenkai-pods`: a priority class other than tenkai's own (the system classes preempt other
 *   tenants' pods); `spec.nodeName`; a required node affinity or nodeSelector on a node group, slot
 *   or host (it pins pods to nodes a rotation must empty); tolerations of the platform's taints
 *   (node group taints, cordon, Fargate) or of every taint; an emptyDir with no `sizeLimit`;
 * - `tenkai-services`: any Service type but ClusterIP (ExternalName reaches other tenants'
 *   Services by name, LoadBalancer and NodePort bypass the shared ALB), `externalIPs`
 *   (CVE-2020-8554), a load balancer class, and load balancer controller annotations;
 * - `tenkai-budgets`: a PodDisruptionBudget that can never allow a disruption
 *   (`maxUnavailable: 0`, `minAvailable: 100%`), which would stop every node rotation;
 * - `tenkai-service-accounts`: a tenant user setting or changing the IRSA role annotation (only
 *   `tenkai apply` sets it, to the role the AWS plane made for that workload);
 * - `tenkai-secrets`: legacy `kubernetes.io/service-account-token` Secrets (non-expiring tokens);
 * - `tenkai-fargate` (bound per tenant, with its Fargate workloads and profile selectors as
 *   params): a Fargate profile's labels or the Fargate scheduler on anything but the workloads the
 *   spec puts on Fargate, or added by a tenant user (NetworkPolicies are not enforced on Fargate).
 */

import { baseLabels, SYSTEM_NAMESPACE } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import { fargatePodLabels } from "../../spec/checks.js";
import type { Platform, Tenant } from "../../spec/schema.js";
import {
  ALB_PREFIX,
  cel,
  celList,
  POD_CARRIERS,
  POD_LABELS,
  POD_SPEC,
  TENANT_ALB_ANNOTATIONS,
  tenantNamespaces,
} from "./admission-policies.js";
import { TENANT_PRIORITY_CLASS } from "./tenant-namespace.js";
import { IRSA_ANNOTATION } from "./workloads.js";

const API = "admissionregistration.k8s.io/v1";

export const GUARD_POLICY_NAMES = {
  pods: "tenkai-pods",
  services: "tenkai-services",
  budgets: "tenkai-budgets",
  serviceAccounts: "tenkai-service-accounts",
  secrets: "tenkai-secrets",
  fargate: "tenkai-fargate",
} as const;

/** Node labels that pin a pod to a node group, one slot of it, or one node. */
export const PINNING_LABELS = [
  "eks.amazonaws.com/nodegroup",
  "tenkai.dev/slot",
  "kubernetes.io/hostname",
] as const;
/** The taint a cordon puts on a node; tolerating it lets a pod onto nodes being drained. */
export const CORDON_TAINT = "node.kubernetes.io/unschedulable";
/** The taint on Fargate nodes. */
export const FARGATE_TAINT = "eks.amazonaws.com/compute-type";
export const FARGATE_SCHEDULER = "fargate-scheduler";
/** Service annotations a tenant may set: topology-aware routing and its own target group's shape. */
const SERVICE_ANNOTATIONS_ALLOWED = ["service.kubernetes.io/topology-mode"];

/** Taint keys tenant pods may not tolerate: the node groups' own, cordon and Fargate. */
export function platformTaints(platform: Platform): string[] {
  const own = platform.spec.nodeGroups.flatMap((g) => g.taints.map((t) => t.key));
  return [...new Set([...own, CORDON_TAINT, FARGATE_TAINT])].sort();
}

/**
 * A request from a tenant's own people (`tenkai:*` groups) or workloads (its ServiceAccounts).
 * `request.namespace`, not `namespaceObject`: a server-side dry run into a namespace that does not
 * exist yet has no namespaceObject, and the expression would fail (and with it the request).
 */
const TENANT_USER =
  "request.userInfo.groups.exists(g, g.startsWith('tenkai:')) || request.userInfo.username.startsWith('system:serviceaccount:' + request.namespace + ':')";

function policy(platform: Platform, name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: API,
    kind: "ValidatingAdmissionPolicy",
    metadata: { name, labels: baseLabels(platform) },
    spec: { failurePolicy: "Fail", ...spec },
  };
}

function binding(platform: Platform, name: string): KubeObject {
  return {
    apiVersion: API,
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name, labels: baseLabels(platform) },
    spec: {
      policyName: name,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: tenantNamespaces },
    },
  };
}

export function tenantGuardPolicies(platform: Platform): KubeObject[] {
  const pinning = celList(PINNING_LABELS);
  const taints = celList(platformTaints(platform));
  const pods = policy(platform, GUARD_POLICY_NAMES.pods, {
    matchConstraints: { namespaceSelector: tenantNamespaces, resourceRules: POD_CARRIERS },
    // A Pod's spec is checked when it is made (its scheduling fields cannot change after, and the
    // scheduler's own binding is a subresource); templates on every write.
    matchConditions: [
      { name: "new-pods-and-templates", expression: "object.kind != 'Pod' || request.operation == 'CREATE'" },
    ],
    variables: [
      { name: "spec", expression: POD_SPEC },
      {
        name: "required",
        expression:
          "has(variables.spec.affinity) && has(variables.spec.affinity.nodeAffinity) && has(variables.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) ? variables.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms : []",
      },
    ],
    validations: [
      {
        expression: `!has(variables.spec.priorityClassName) || variables.spec.priorityClassName == ${cel(TENANT_PRIORITY_CLASS)}`,
        messageExpression: `'priority class ' + variables.spec.priorityClassName + ' is not for tenants (it would preempt other tenants\\' pods); leave priorityClassName unset or use ${TENANT_PRIORITY_CLASS}'`,
        reason: "Forbidden",
      },
      {
        expression: "!has(variables.spec.nodeName) || variables.spec.nodeName == ''",
        message:
          "spec.nodeName bypasses the scheduler and pins the pod to one node; let the scheduler place it",
        reason: "Forbidden",
      },
      {
        expression: `!has(variables.spec.nodeSelector) || variables.spec.nodeSelector.all(k, !(k in ${pinning}))`,
        messageExpression: `'nodeSelector ' + variables.spec.nodeSelector.filter(k, k in ${pinning})[0] + ' pins the pod to a node group slot or node that node rotation must empty; select on zone or instance type instead'`,
        reason: "Forbidden",
      },
      {
        expression: `variables.required.all(t, (!has(t.matchExpressions) || t.matchExpressions.all(e, !(e.key in ${pinning}))) && (!has(t.matchFields) || size(t.matchFields) == 0))`,
        message: `a required node affinity on ${PINNING_LABELS.join(", ")} or on node fields pins the pod to nodes that node rotation must empty`,
        reason: "Forbidden",
      },
      {
        expression: `!has(variables.spec.tolerations) || variables.spec.tolerations.all(t, has(t.key) && t.key != '' && !(t.key in ${taints}))`,
        messageExpression: `'tolerations of ' + (variables.spec.tolerations.exists(t, !has(t.key) || t.key == '') ? 'every taint' : variables.spec.tolerations.filter(t, has(t.key) && t.key in ${taints})[0].key) + ' are not for tenants: the platform keeps those nodes (cordoned, Fargate, dedicated groups) for itself'`,
        reason: "Forbidden",
      },
      {
        expression:
          "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.emptyDir) || has(v.emptyDir.sizeLimit))",
        messageExpression:
          "'emptyDir volume ' + variables.spec.volumes.filter(v, has(v.emptyDir) && !has(v.emptyDir.sizeLimit))[0].name + ' has no sizeLimit; set one so the pod cannot fill its node\\'s disk'",
        reason: "Invalid",
      },
    ],
  });

  const albAllowed = celList(TENANT_ALB_ANNOTATIONS);
  const lbAnnotation = `(k.startsWith('service.beta.kubernetes.io/') || (k.startsWith('service.kubernetes.io/') && !(k in ${celList(SERVICE_ANNOTATIONS_ALLOWED)})) || (k.startsWith(${cel(ALB_PREFIX)}) && !(k.substring(${ALB_PREFIX.length}) in ${albAllowed})))`;
  const services = policy(platform, GUARD_POLICY_NAMES.services, {
    matchConstraints: {
      namespaceSelector: tenantNamespaces,
      resourceRules: [
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["services"] },
      ],
    },
    variables: [
      {
        name: "annotations",
        expression: "has(object.metadata.annotations) ? object.metadata.annotations : {}",
      },
    ],
    validations: [
      {
        expression: "!has(object.spec.type) || object.spec.type == 'ClusterIP'",
        messageExpression:
          "'Service type ' + object.spec.type + ' is not allowed in tenant namespaces: ExternalName can point at other tenants\\' Services, LoadBalancer and NodePort bypass the shared ALB; use ClusterIP and a route in platform.yaml'",
        reason: "Forbidden",
      },
      {
        expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
        message:
          "externalIPs let a Service capture traffic to any address (CVE-2020-8554); tenant Services take none",
        reason: "Forbidden",
      },
      {
        expression: "!has(object.spec.externalName)",
        message: "externalName is for ExternalName Services, which tenants may not create",
        reason: "Forbidden",
      },
      {
        expression: "!has(object.spec.loadBalancerClass)",
        message:
          "loadBalancerClass asks a load balancer controller for a load balancer; the shared ALB is the only way in",
        reason: "Forbidden",
      },
      {
        expression: `variables.annotations.all(k, !${lbAnnotation})`,
        messageExpression: `'annotation ' + variables.annotations.filter(k, ${lbAnnotation})[0] + ' steers a load balancer controller; tenant Services may set only service.kubernetes.io/topology-mode and the ALB target group annotations'`,
        reason: "Forbidden",
      },
    ],
  });

  const budgets = policy(platform, GUARD_POLICY_NAMES.budgets, {
    matchConstraints: {
      namespaceSelector: tenantNamespaces,
      resourceRules: [
        {
          apiGroups: ["policy"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["poddisruptionbudgets"],
        },
      ],
    },
    variables: [
      {
        name: "maxUnavailable",
        expression: "has(object.spec.maxUnavailable) ? string(object.spec.maxUnavailable) : ''",
      },
      {
        name: "minAvailable",
        expression: "has(object.spec.minAvailable) ? string(object.spec.minAvailable) : ''",
      },
    ],
    validations: [
      {
        expression: "!variables.maxUnavailable.matches('^0+%?$')",
        message:
          "maxUnavailable 0 never allows a disruption, so no node could ever be drained; use maxUnavailable 1 (or more)",
        reason: "Forbidden",
      },
      {
        expression: "!variables.minAvailable.matches('^0*100%$')",
        message:
          "minAvailable 100% never allows a disruption, so no node could ever be drained; use maxUnavailable 1 (or more)",
        reason: "Forbidden",
      },
    ],
  });

  const arn = (o: string) =>
    `(has(${o}.metadata.annotations) && ${cel(IRSA_ANNOTATION)} in ${o}.metadata.annotations ? ${o}.metadata.annotations[${cel(IRSA_ANNOTATION)}] : '')`;
  const serviceAccounts = policy(platform, GUARD_POLICY_NAMES.serviceAccounts, {
    matchConstraints: {
      namespaceSelector: tenantNamespaces,
      resourceRules: [
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["serviceaccounts"],
        },
      ],
    },
    matchConditions: [{ name: "tenant-users", expression: TENANT_USER }],
    variables: [
      { name: "arn", expression: arn("object") },
      { name: "before", expression: `request.operation == 'UPDATE' ? ${arn("oldObject")} : ''` },
    ],
    validations: [
      {
        expression: "variables.arn == variables.before",
        message: `${IRSA_ANNOTATION} is set by tenkai apply to the role the AWS plane made for the workload; tenants may not set or change it (give the workload aws access in platform.yaml)`,
        reason: "Forbidden",
      },
    ],
  });

  const secrets = policy(platform, GUARD_POLICY_NAMES.secrets, {
    matchConstraints: {
      namespaceSelector: tenantNamespaces,
      resourceRules: [
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["secrets"] },
      ],
    },
    validations: [
      {
        expression: "!has(object.type) || object.type != 'kubernetes.io/service-account-token'",
        message:
          "service-account-token Secrets hold tokens that never expire; workloads get short-lived projected tokens (and IRSA for AWS)",
        reason: "Forbidden",
      },
    ],
  });

  const fargate = policy(platform, GUARD_POLICY_NAMES.fargate, {
    paramKind: { apiVersion: "v1", kind: "ConfigMap" },
    matchConstraints: { namespaceSelector: tenantNamespaces, resourceRules: POD_CARRIERS },
    variables: [
      { name: "spec", expression: POD_SPEC },
      { name: "labels", expression: POD_LABELS },
      {
        name: "workloads",
        expression:
          "has(params.data) && has(params.data.workloads) && params.data.workloads != '' ? params.data.workloads.split(' ') : []",
      },
      {
        name: "selectors",
        expression:
          "has(params.data) && has(params.data.selectors) && params.data.selectors != '' ? params.data.selectors.split(';').map(s, s.split(',')) : []",
      },
      {
        name: "onFargate",
        expression: `(has(variables.spec.schedulerName) && variables.spec.schedulerName == ${cel(FARGATE_SCHEDULER)}) || variables.selectors.exists(sel, sel.all(kv, kv.split('=')[0] in variables.labels && variables.labels[kv.split('=')[0]] == kv.split('=')[1]))`,
      },
      {
        name: "wasOnFargate",
        expression: `request.operation == 'UPDATE' && oldObject.kind != 'Pod' && (object.kind == 'CronJob' ? (has(oldObject.spec.jobTemplate.spec.template.metadata) && has(oldObject.spec.jobTemplate.spec.template.metadata.labels) && oldObject.spec.jobTemplate.spec.template.metadata.labels == variables.labels) : (has(oldObject.spec.template.metadata) && has(oldObject.spec.template.metadata.labels) && oldObject.spec.template.metadata.labels == variables.labels))`,
      },
      { name: "tenantUser", expression: TENANT_USER },
      {
        name: "workload",
        expression: `${cel(WORKLOAD_NAME_LABEL)} in variables.labels ? variables.labels[${cel(WORKLOAD_NAME_LABEL)}] : ''`,
      },
    ],
    validations: [
      {
        expression: "!variables.onFargate || variables.workload in variables.workloads",
        messageExpression:
          "'only the workloads platform.yaml puts on Fargate (' + (size(variables.workloads) == 0 ? 'none' : variables.workloads.join(', ')) + ') may carry the Fargate profile\\'s labels or scheduler: NetworkPolicies are not enforced there; set compute: fargate in platform.yaml'",
        reason: "Forbidden",
      },
      {
        expression: "!variables.onFargate || !variables.tenantUser || variables.wasOnFargate",
        message:
          "tenant users may not put pods on Fargate (NetworkPolicies are not enforced there); tenkai apply does it for workloads with compute: fargate in platform.yaml",
        reason: "Forbidden",
      },
    ],
  });

  return [
    pods,
    services,
    budgets,
    serviceAccounts,
    secrets,
    fargate,
    ...Object.values(GUARD_POLICY_NAMES)
      .filter((n) => n !== GUARD_POLICY_NAMES.fargate)
      .map((n) => binding(platform, n)),
  ];
}

const WORKLOAD_NAME_LABEL = "app.kubernetes.io/name";

export function fargateParamName(tenant: string): string {
  return `tenkai-fargate-${tenant}`;
}

/** Fargate profile selectors that can match a pod in the tenant's namespace, as `k=v,k=v` lists. */
export function fargateSelectors(platform: Platform, tenant: Tenant): string[][] {
  return platform.spec.fargate.profiles.flatMap((f) =>
    f.selectors
      .filter((s) => s.namespace === tenant.name)
      .map((s) =>
        Object.entries(s.labels)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`),
      ),
  );
}

/**
 * A tenant's Fargate workloads and the profile selectors that match its pods (params), and the
 * binding of `tenkai-fargate` to its namespace.
 */
export function tenantFargatePolicy(platform: Platform, tenant: Tenant): KubeObject[] {
  // A selector with no labels puts every pod of the namespace on Fargate: nothing to police there.
  // Tenants with no profile still get the binding: it refuses the Fargate scheduler.
  const selectors = fargateSelectors(platform, tenant).filter((s) => s.length > 0);
  const labels = baseLabels(platform, tenant.name);
  const name = fargateParamName(tenant.name);
  const workloads = [...tenant.services, ...tenant.cronJobs]
    .filter((w) => w.compute === "fargate")
    .map((w) => fargatePodLabels(w.name)[WORKLOAD_NAME_LABEL] ?? w.name);
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: SYSTEM_NAMESPACE, labels },
      data: { workloads: workloads.join(" "), selectors: selectors.map((s) => s.join(",")).join(";") },
    },
    {
      apiVersion: API,
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name, labels },
      spec: {
        policyName: GUARD_POLICY_NAMES.fargate,
        validationActions: ["Deny"],
        paramRef: { name, namespace: SYSTEM_NAMESPACE, parameterNotFoundAction: "Deny" },
        matchResources: {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": tenant.name } },
        },
      },
    },
  ];
}
