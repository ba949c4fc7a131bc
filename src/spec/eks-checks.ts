/**
 * Checks of what only matters on EKS: someone can administer the cluster, the add-on versions
 * are ones the table does not mark incompatible, and pods stop slower than the ALB drains them.
 */
import { addonTable, incompatibility, MANAGED_ADDONS, plannedAddons } from "./addons.js";
import type { Platform } from "./schema.js";
import { shutdownTiming } from "./shutdown.js";

type Emit = (
  severity: "error" | "warning",
  code: string,
  path: readonly (string | number)[],
  message: string,
  fix: string,
) => void;

export function checkEks(p: Platform, emit: Emit): void {
  checkAdmins(p, emit);
  checkAddons(p, emit);
  checkShutdown(p, emit);
}

/**
 * Access entries are the only way in (authentication mode API): with no admin role and no
 * creator admin, nobody could ever administer the cluster, and only deleting it would recover.
 */
function checkAdmins(p: Platform, emit: Emit): void {
  if (p.spec.target !== "aws") return;
  const { adminRoles, creatorAdmin } = p.spec.cluster;
  if (adminRoles.length === 0 && !creatorAdmin) {
    emit(
      "error",
      "SPEC_NO_ADMIN",
      ["spec", "cluster", "adminRoles"],
      "no one could administer the cluster: spec.cluster.adminRoles is empty and creatorAdmin is false (access entries are the only way in)",
      "list the platform team's IAM role under spec.cluster.adminRoles (or set spec.cluster.creatorAdmin: true)",
    );
  }
}

function checkAddons(p: Platform, emit: Emit): void {
  const table = addonTable();
  const k8s = p.spec.cluster.version;
  for (const name of Object.keys(p.spec.cluster.addonVersions)) {
    if (!table.addons[name]) {
      emit(
        "error",
        "SPEC_UNKNOWN_ADDON",
        ["spec", "cluster", "addonVersions"],
        `"${name}" is not an add-on tenkai installs`,
        `use one of ${Object.keys(table.addons).join(", ")}`,
      );
    }
  }
  for (const a of plannedAddons(p, table)) {
    const path = ["spec", "cluster", "addonVersions"];
    if (a.version === undefined) {
      if (p.spec.target !== "aws" || !(MANAGED_ADDONS as readonly string[]).includes(a.name)) continue;
      emit(
        "warning",
        "SPEC_ADDON_UNPINNED",
        path,
        `data/eks-addons.json (as of ${table.asOf}) pins no ${a.name} version for Kubernetes ${k8s}; EKS will pick its default`,
        `pin one under spec.cluster.addonVersions.${a.name} (aws eks describe-addon-versions --addon-name ${a.name} --kubernetes-version ${k8s})`,
      );
      continue;
    }
    const reason = incompatibility(a.name, a.version, k8s, table);
    if (reason) {
      emit(
        "error",
        "SPEC_ADDON_INCOMPATIBLE",
        path,
        `${a.name} ${a.version} must not run on Kubernetes ${k8s}: ${reason}`,
        `use ${table.addons[a.name]?.versions[k8s] ?? "a compatible version"} (data/eks-addons.json) or remove the override`,
      );
    }
  }
}

function checkShutdown(p: Platform, emit: Emit): void {
  p.spec.tenants.forEach((t, ti) =>
    t.services.forEach((s, si) => {
      if (!s.shutdown) return;
      const timing = shutdownTiming(p, s);
      const path = ["spec", "tenants", ti, "services", si, "shutdown"];
      if (timing.preStopSeconds <= timing.deregistrationDelaySeconds) {
        emit(
          "error",
          "SPEC_PRESTOP_TOO_SHORT",
          [...path, "preStopSeconds"],
          `preStopSeconds ${timing.preStopSeconds} does not outlast the ALB deregistration delay (${timing.deregistrationDelaySeconds} s): requests still in flight to a stopping pod would fail`,
          `set preStopSeconds above ${timing.deregistrationDelaySeconds} (or lower spec.ingress.deregistrationDelaySeconds)`,
        );
      }
      if (timing.gracePeriodSeconds <= timing.preStopSeconds) {
        emit(
          "error",
          "SPEC_GRACE_TOO_SHORT",
          [...path, "gracePeriodSeconds"],
          `gracePeriodSeconds ${timing.gracePeriodSeconds} ends before the preStop sleep (${timing.preStopSeconds} s) does: the kubelet would kill the container while it still serves`,
          `set gracePeriodSeconds to at least ${timing.preStopSeconds + 5}`,
        );
      }
    }),
  );
}
