/**
 * Which node provider a spec node group uses: on `target: aws` always `eks`; on `target: local`
 * the group's `local.nodes` says `real` (the `local` provider) or `kwok` (the default).
 */
import type { NodeGroup, Platform } from "../spec/schema.js";

export type ProviderName = "eks" | "kwok" | "local";

export function providerForGroup(platform: Platform, group: NodeGroup): ProviderName {
  if (platform.spec.target !== "local") return "eks";
  return group.local?.nodes === "real" ? "local" : "kwok";
}

/**
 * Whether kwok nodes should carry the `kwok.x-k8s.io/node=fake:NoSchedule` taint: yes when the
 * platform also has real nodes, so its workloads land where they really run, not on simulated
 * nodes whose pods only look Ready.
 */
export function taintKwokNodes(platform: Platform): boolean {
  return platform.spec.nodeGroups.some((g) => g.local?.nodes === "real");
}
