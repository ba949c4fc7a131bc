/**
 * The add-ons a platform runs and their pinned versions, from the dated table
 * `data/eks-addons.json`: EKS managed add-ons (created by the cluster stack) and the upstream
 * charts tenkai renders itself. `spec.cluster.addonVersions` may pin another version; the table's
 * `incompatible` list says which add-on version must not run on which Kubernetes version.
 */
import { readData } from "../shared/data.js";
import type { Platform } from "./schema.js";

export type AddonKind = "eks-addon" | "chart";

export interface AddonTable {
  readonly asOf: string;
  readonly source: string;
  readonly addons: Readonly<
    Record<
      string,
      {
        readonly kind: AddonKind;
        readonly versions: Readonly<Record<string, string>>;
        readonly notes?: string;
      }
    >
  >;
  readonly incompatible: readonly {
    readonly addon: string;
    readonly version: string;
    /** A Kubernetes minor like `1.34`, or `*` for every version. */
    readonly kubernetes: string;
    readonly reason: string;
  }[];
}

export const ADDON_TABLE = "eks-addons.json";

export function addonTable(): AddonTable {
  return readData<AddonTable>(ADDON_TABLE);
}

/** The EKS managed add-ons every cluster gets (the cluster stack creates them in this order). */
export const MANAGED_ADDONS = [
  "vpc-cni",
  "kube-proxy",
  "coredns",
  "eks-pod-identity-agent",
  "metrics-server",
] as const;

export interface PlannedAddon {
  readonly name: string;
  readonly kind: AddonKind;
  /** Undefined when the table pins no version for this Kubernetes version and the spec none. */
  readonly version: string | undefined;
  /** Where the version comes from. */
  readonly from: "table" | "spec" | "none";
}

/** Every add-on in the table with the version this platform runs, in table order. */
export function plannedAddons(platform: Platform, table: AddonTable = addonTable()): PlannedAddon[] {
  const k8s = platform.spec.cluster.version;
  return Object.entries(table.addons).map(([name, a]) => {
    const pinned = platform.spec.cluster.addonVersions[name];
    if (pinned) return { name, kind: a.kind, version: pinned, from: "spec" as const };
    const version = a.versions[k8s];
    return { name, kind: a.kind, version, from: version ? ("table" as const) : ("none" as const) };
  });
}

/** The table's reason an add-on version must not run on a Kubernetes version, if any. */
export function incompatibility(
  addon: string,
  version: string,
  kubernetes: string,
  table: AddonTable = addonTable(),
): string | undefined {
  return table.incompatible.find(
    (i) =>
      i.addon === addon && i.version === version && (i.kubernetes === "*" || i.kubernetes === kubernetes),
  )?.reason;
}
