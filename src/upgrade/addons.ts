/**
 * Add-ons against each step of the upgrade, from the dated table `data/eks-addons.json` (or, when
 * AWS credentials exist, from EKS DescribeAddonVersions, see addons-eks.ts). For every add-on the
 * table knows, the planner compares what runs now (the image tag of its workload) with the version
 * the table pins for each minor on the path, and orders the move: controllers rendered from charts
 * (they talk to the API) before the control plane moves, EKS add-ons after it — kube-proxy must
 * never be newer than the control plane (version skew policy), and EKS recommends updating
 * vpc-cni, CoreDNS and kube-proxy once the control plane runs the new minor.
 */
import { readData } from "../shared/data.js";
import type { Finding } from "./types.js";

export interface AddonTable {
  readonly asOf: string;
  readonly source: string;
  readonly addons: Readonly<
    Record<
      string,
      {
        readonly kind: "eks-addon" | "chart";
        readonly versions: Readonly<Record<string, string>>;
        readonly notes?: string;
      }
    >
  >;
  readonly incompatible: readonly {
    readonly addon: string;
    readonly version: string;
    /** A minor, or "*" for every minor. */
    readonly kubernetes: string;
    readonly reason: string;
  }[];
}

export function addonTable(): AddonTable {
  return readData<AddonTable>("eks-addons.json");
}

/** Where each add-on's workload runs, to read the version in use from its image tag. */
export const ADDON_WORKLOADS: Readonly<
  Record<string, { kind: "Deployment" | "DaemonSet"; namespace: string; name: string }>
> = {
  "vpc-cni": { kind: "DaemonSet", namespace: "kube-system", name: "aws-node" },
  coredns: { kind: "Deployment", namespace: "kube-system", name: "coredns" },
  "kube-proxy": { kind: "DaemonSet", namespace: "kube-system", name: "kube-proxy" },
  "eks-pod-identity-agent": { kind: "DaemonSet", namespace: "kube-system", name: "eks-pod-identity-agent" },
  "metrics-server": { kind: "Deployment", namespace: "kube-system", name: "metrics-server" },
  "aws-load-balancer-controller": {
    kind: "Deployment",
    namespace: "kube-system",
    name: "aws-load-balancer-controller",
  },
  "cluster-autoscaler": { kind: "Deployment", namespace: "kube-system", name: "cluster-autoscaler" },
  "fluent-bit": { kind: "DaemonSet", namespace: "tenkai-system", name: "fluent-bit" },
};

/** The tag of an image reference (`repo:tag` or `repo@sha256:…` → undefined). */
export function imageTag(image: string): string | undefined {
  if (image.includes("@")) return undefined;
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  return colon > slash ? image.slice(colon + 1) : undefined;
}

/** `v1.21.1-eksbuild.7` and `1.21.1` compare equal on their release; build suffixes are ignored. */
export function sameRelease(a: string, b: string): boolean {
  const core = (v: string) => /^v?(\d+(?:\.\d+){0,2})/.exec(v)?.[1];
  return core(a) !== undefined && core(a) === core(b);
}

export interface AddonStep {
  readonly addon: string;
  readonly kind: "eks-addon" | "chart";
  readonly minor: string;
  readonly from?: string;
  readonly to: string;
  /** Before or after the control plane moves to `minor`. */
  readonly when: "before" | "after";
}

export interface AddonDecision {
  readonly findings: Finding[];
  readonly steps: AddonStep[];
  /** Add-on → the version seen running, or undefined when it is not installed. */
  readonly installed: Readonly<Record<string, string | undefined>>;
}

/**
 * Decides the add-on moves along `path` (the minors the control plane passes through).
 * `installed` maps add-on name to the version running now (undefined: not installed, so only the
 * table's coverage is checked).
 */
export function decideAddons(
  table: AddonTable,
  path: readonly string[],
  installed: Readonly<Record<string, string | undefined>>,
  source = "data/eks-addons.json",
): AddonDecision {
  const findings: Finding[] = [];
  const steps: AddonStep[] = [];
  for (const [name, entry] of Object.entries(table.addons).sort(([a], [b]) => a.localeCompare(b))) {
    let running = installed[name];
    const missing: string[] = [];
    for (const minor of path) {
      const want = entry.versions[minor];
      if (!want) {
        missing.push(minor);
        continue;
      }
      for (const bad of table.incompatible) {
        if (bad.addon !== name || (bad.kubernetes !== "*" && bad.kubernetes !== minor)) continue;
        if (running && sameRelease(running, bad.version)) {
          findings.push({
            id: "ADDON_INCOMPATIBLE",
            severity: "blocker",
            area: "addon",
            message: `${name} ${running} does not work with Kubernetes ${minor}: ${bad.reason}`,
            fix: `move ${name} to ${want} ${entry.kind === "chart" ? "before" : "with"} the ${minor} step`,
            object: `addon ${name}`,
            step: minor,
          });
        }
      }
      if (running !== undefined && !sameRelease(running, want)) {
        steps.push({
          addon: name,
          kind: entry.kind,
          minor,
          from: running,
          to: want,
          when: entry.kind === "chart" ? "before" : "after",
        });
        running = want;
      }
    }
    if (missing.length > 0) {
      findings.push({
        id: "ADDON_NO_VERSION",
        severity: installed[name] !== undefined ? "blocker" : "warning",
        area: "addon",
        message: `${source} (as of ${table.asOf}) pins no ${name} version for Kubernetes ${missing.join(", ")}${installed[name] ? `; ${installed[name]} runs now` : " (not seen running)"}`,
        fix: `find the ${name} version for ${missing.join(", ")} (aws eks describe-addon-versions --addon-name ${name} --kubernetes-version ${missing[missing.length - 1]}, or the chart's compatibility notes) and add it to the table`,
        object: `addon ${name}`,
        step: missing[0] as string,
      });
    }
  }
  return { findings, steps, installed };
}
