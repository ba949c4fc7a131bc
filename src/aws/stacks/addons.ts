/**
 * EKS managed add-ons at the versions of `data/eks-addons.json` (or the spec's overrides).
 *
 * DaemonSet add-ons (VPC CNI, kube-proxy, Pod Identity agent) go in the cluster stack: nodes
 * need the CNI to become Ready. Deployment add-ons (CoreDNS, metrics-server) go in the add-ons
 * stack, which deploys after the node stacks: CloudFormation waits for an add-on to be ACTIVE,
 * and their pods cannot run before there are nodes.
 *
 * The VPC CNI runs with its network policy agent on (`enableNetworkPolicy`), so the tenants'
 * NetworkPolicies are enforced on EKS (EKS user guide, "Limit Pod traffic with Kubernetes network
 * policies"; needs VPC CNI v1.14 or later).
 */
import type { StackProps } from "aws-cdk-lib";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import type { Construct } from "constructs";
import { clusterName } from "../../shared/aws-names.js";
import { TenkaiError } from "../../shared/errors.js";
import { plannedAddons } from "../../spec/addons.js";
import type { Platform } from "../../spec/schema.js";
import { TenkaiStack } from "./shared.js";

/** Add-ons in the cluster stack, before any node joins. */
export const CLUSTER_STACK_ADDONS = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"] as const;
/** Add-ons in the add-ons stack, after the node groups. */
export const AFTER_NODES_ADDONS = ["coredns", "metrics-server"] as const;

/** Configuration values tenkai sets per add-on (the add-on's JSON configuration schema). */
const CONFIGURATION: Readonly<Record<string, Record<string, unknown>>> = {
  "vpc-cni": { enableNetworkPolicy: "true" },
};

/** Adds the named EKS managed add-ons to a stack, each pinned; returns them in order. */
export function addManagedAddons(
  scope: Construct,
  platform: Platform,
  names: readonly string[],
): eks.CfnAddon[] {
  const planned = plannedAddons(platform);
  return names.map((name) => {
    const version = planned.find((a) => a.name === name)?.version;
    if (!version) {
      throw new TenkaiError(
        "AWS_ADDON_UNPINNED",
        `no ${name} version for Kubernetes ${platform.spec.cluster.version} in data/eks-addons.json`,
        `pin one under spec.cluster.addonVersions.${name}, or add the version to data/eks-addons.json`,
      );
    }
    const config = CONFIGURATION[name];
    return new eks.CfnAddon(scope, `Addon-${name}`, {
      clusterName: clusterName(platform),
      addonName: name,
      addonVersion: version,
      // EKS installs self-managed vpc-cni, kube-proxy and CoreDNS with every cluster; the
      // managed add-on takes them over.
      resolveConflicts: "OVERWRITE",
      ...(config ? { configurationValues: JSON.stringify(config) } : {}),
    });
  });
}

/** The add-ons that need nodes: CoreDNS and metrics-server (HorizontalPodAutoscalers read it). */
export class AddonsStack extends TenkaiStack {
  constructor(scope: Construct, id: string, platform: Platform, props: StackProps) {
    super(scope, id, props);
    addManagedAddons(this, platform, AFTER_NODES_ADDONS);
  }
}
