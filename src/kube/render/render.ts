/**
 * The Kubernetes plane: the platform model as Kubernetes objects. Pure and deterministic: the same
 * platform always gives the same objects in the same order, with no cluster access
 * (the `KubernetesPlane` contract of src/shared/planes.ts).
 */
import { TenkaiError } from "../../shared/errors.js";
import { baseLabels, SYSTEM_NAMESPACE } from "../../shared/kube-names.js";
import type { KubeObject, KubernetesPlane } from "../../shared/planes.js";
import { type AlbGroupPlan, planAlbGroups } from "../../spec/alb-groups.js";
import type { Platform, Tenant } from "../../spec/schema.js";
import { platformAdmissionPolicies } from "./admission-policies.js";
import { albController } from "./alb-controller.js";
import { clusterAutoscaler } from "./cluster-autoscaler.js";
import { serviceIngress, tenantIngressClass } from "./ingress.js";
import { fargateLogging, fluentBit } from "./logging.js";
import { networkPolicies } from "./network-policies.js";
import { tenantRbac } from "./rbac.js";
import { routeAdmissionPolicy } from "./route-admission.js";
import { tenantFargatePolicy, tenantGuardPolicies } from "./tenant-guards.js";
import {
  defaultServiceAccount,
  limitRange,
  priorityQuota,
  resourceQuota,
  tenantNamespace,
  tenantPriorityClass,
} from "./tenant-namespace.js";
import { cronJobObjects, serviceObjects } from "./workloads.js";

export function renderKubernetesPlane(platform: Platform): KubernetesPlane {
  const plane = renderKubernetesPlaneLazily(platform);
  return { platform: plane.platform, tenants: [...plane.tenants] };
}

/** The plane with each tenant's objects made as they are read (plan writes and drops them one by one). */
export interface LazyKubernetesPlane {
  readonly platform: readonly KubeObject[];
  readonly tenants: Iterable<KubernetesPlane["tenants"][number]>;
}

/**
 * The same objects as renderKubernetesPlane, the tenants' rendered only when iterated: on 8,000
 * tenants the objects of all of them held at once were 230 MB of heap that plan only writes out.
 */
export function renderKubernetesPlaneLazily(platform: Platform): LazyKubernetesPlane {
  const groups = albGroupsOrThrow(platform);
  const platformObjects: KubeObject[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: SYSTEM_NAMESPACE, labels: baseLabels(platform) },
    },
    ...albController(platform),
    ...clusterAutoscaler(platform),
    tenantPriorityClass(platform),
    ...platformAdmissionPolicies(platform),
    ...routeAdmissionPolicy(platform),
    ...tenantGuardPolicies(platform),
    ...fluentBit(platform),
    ...fargateLogging(platform),
  ];
  return {
    platform: platformObjects,
    tenants: {
      *[Symbol.iterator]() {
        for (const t of platform.spec.tenants)
          yield { tenant: t.name, objects: renderTenant(platform, t, groups) };
      },
    },
  };
}

export function renderTenant(
  platform: Platform,
  tenant: Tenant,
  groups: AlbGroupPlan = albGroupsOrThrow(platform),
): KubeObject[] {
  const group = groups.groupOf[tenant.name] ?? platform.spec.ingress.groupName;
  return [
    tenantNamespace(platform, tenant),
    resourceQuota(platform, tenant),
    priorityQuota(platform, tenant),
    limitRange(platform, tenant),
    defaultServiceAccount(platform, tenant),
    ...networkPolicies(platform, tenant),
    ...tenantRbac(platform, tenant),
    ...tenantIngressClass(platform, tenant, group),
    ...tenantFargatePolicy(platform, tenant),
    ...tenant.services.flatMap((s) => {
      const ingress = serviceIngress(platform, tenant, s);
      return [...serviceObjects(platform, tenant, s), ...(ingress ? [ingress] : [])];
    }),
    ...tenant.cronJobs.flatMap((c) => cronJobObjects(platform, tenant, c)),
  ];
}

function albGroupsOrThrow(platform: Platform): AlbGroupPlan {
  const plan = planAlbGroups(platform);
  const first = plan.problems[0];
  if (first) throw new TenkaiError(first.code, first.message, first.fix);
  return plan;
}

/** Every object of a rendered plane, platform objects first. */
export function allObjects(plane: KubernetesPlane): KubeObject[] {
  return [...plane.platform, ...plane.tenants.flatMap((t) => t.objects)];
}
