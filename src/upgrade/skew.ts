/**
 * Version skew, decided as data from the nodes' reported kubelet versions, the control plane's
 * version and the operator's kubectl (https://kubernetes.io/releases/version-skew-policy/):
 *
 * - a kubelet may not be newer than the API server, and at most three minors older (1.28+);
 * - EKS updates the control plane only when the managed node groups and Fargate pods run its
 *   minor already ("Update existing cluster to new Kubernetes version": node groups must be at the
 *   control plane's version first), so a group left behind is rotated before the next step;
 * - kubectl is supported within one minor of the API server;
 * - the control plane moves one minor per step.
 */
import type { Finding } from "./types.js";
import { compareMinor, formatMinor, type Minor, minorsBehind, parseMinor } from "./versions.js";

export { NODEGROUP_LABEL } from "../rotation/nodes.js";
export const COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type";

export interface NodeVersion {
  readonly name: string;
  readonly kubeletVersion: string;
  /** The managed node group (slot) it belongs to, from its label. */
  readonly nodegroup?: string;
  readonly fargate: boolean;
}

export interface SkewInput {
  readonly controlPlane: Minor;
  readonly target: Minor;
  readonly nodes: readonly NodeVersion[];
  /** The spec's node group names; a slot `<group>-blue`/`-green` belongs to `<group>`. */
  readonly nodeGroups: readonly string[];
  /** `kubectl version --client` of the operator, when known. */
  readonly kubectl?: string;
}

export interface NodeGroupVersion {
  readonly group: string;
  readonly nodegroup: string;
  readonly nodes: number;
  /** Oldest kubelet minor in the slot. */
  readonly oldest: string;
  readonly newest: string;
}

export interface SkewResult {
  readonly findings: Finding[];
  readonly nodeGroups: NodeGroupVersion[];
  /** Spec node groups whose nodes run behind the control plane: rotated before the first step. */
  readonly behind: string[];
  readonly fargateNodes: number;
  /** Nodes in no managed node group (self-managed, or local real nodes): upgraded outside tenkai. */
  readonly unmanaged: string[];
}

/** The spec group a node group slot belongs to: `general-blue` → `general`. */
export function groupOfSlot(nodegroup: string, groups: readonly string[]): string | undefined {
  return groups.find((g) => nodegroup === g || nodegroup === `${g}-blue` || nodegroup === `${g}-green`);
}

export function decideSkew(input: SkewInput): SkewResult {
  const findings: Finding[] = [];
  const cp = input.controlPlane;
  const cpText = formatMinor(cp);
  const bySlot = new Map<string, { group: string; minors: Minor[] }>();
  const unmanaged: string[] = [];
  let fargateNodes = 0;
  for (const n of input.nodes) {
    const v = parseMinor(n.kubeletVersion);
    if (!v) {
      findings.push({
        id: "SKEW_KUBELET_UNKNOWN",
        severity: "warning",
        area: "skew",
        message: `node ${n.name} reports no kubelet version ("${n.kubeletVersion}")`,
        fix: "check the node is registered and Ready (kubectl get node -o wide)",
        object: `Node ${n.name}`,
      });
      continue;
    }
    if (compareMinor(v, cp) > 0) {
      findings.push({
        id: "SKEW_KUBELET_NEWER",
        severity: "blocker",
        area: "skew",
        message: `node ${n.name} runs kubelet ${n.kubeletVersion}, newer than the control plane ${cpText}; the skew policy allows no kubelet newer than the API server`,
        fix: `replace the node with one at ${cpText} (tenkai nodes rotate), or upgrade the control plane first`,
        object: `Node ${n.name}`,
      });
    } else if (minorsBehind(cp, v) > 3) {
      findings.push({
        id: "SKEW_KUBELET_TOO_OLD",
        severity: "blocker",
        area: "skew",
        message: `node ${n.name} runs kubelet ${n.kubeletVersion}, ${minorsBehind(cp, v)} minors behind the control plane ${cpText} (the policy allows 3)`,
        fix: `rotate its node group onto ${cpText} before anything else`,
        object: `Node ${n.name}`,
      });
    }
    if (n.fargate) {
      fargateNodes++;
      continue;
    }
    const group = n.nodegroup ? groupOfSlot(n.nodegroup, input.nodeGroups) : undefined;
    if (!n.nodegroup || !group) {
      unmanaged.push(n.name);
      continue;
    }
    const slot = bySlot.get(n.nodegroup) ?? { group, minors: [] };
    slot.minors.push(v);
    bySlot.set(n.nodegroup, slot);
  }

  const nodeGroups: NodeGroupVersion[] = [];
  const behind = new Set<string>();
  for (const [nodegroup, { group, minors }] of [...bySlot].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...minors].sort(compareMinor);
    const oldest = sorted[0] as Minor;
    const newest = sorted[sorted.length - 1] as Minor;
    nodeGroups.push({
      group,
      nodegroup,
      nodes: minors.length,
      oldest: formatMinor(oldest),
      newest: formatMinor(newest),
    });
    if (compareMinor(oldest, cp) < 0 && compareMinor(cp, input.target) < 0) {
      behind.add(group);
      findings.push({
        id: "SKEW_NODEGROUP_BEHIND",
        severity: "warning",
        area: "skew",
        message: `node group ${nodegroup} runs ${formatMinor(oldest)}, behind the control plane ${cpText}; EKS moves the control plane only when its node groups are at its version`,
        fix: `the plan rotates ${group} onto ${cpText} first (tenkai nodes rotate ${group})`,
        object: `NodeGroup ${nodegroup}`,
        step: formatMinor(input.target),
      });
    }
  }
  if (unmanaged.length > 0) {
    findings.push({
      id: "SKEW_UNMANAGED_NODES",
      severity: "warning",
      area: "skew",
      message: `${unmanaged.length} node(s) belong to no node group of the spec (${unmanaged.slice(0, 5).join(", ")}${unmanaged.length > 5 ? ", …" : ""}); tenkai will not replace them`,
      fix: "upgrade them yourself after each control plane step, or move their pods onto a spec node group",
    });
  }
  if (input.kubectl) {
    const k = parseMinor(input.kubectl);
    if (k && Math.abs(minorsBehind(input.target, k)) > 1) {
      findings.push({
        id: "SKEW_KUBECTL",
        severity: "warning",
        area: "skew",
        message: `kubectl ${input.kubectl} is more than one minor from the target ${formatMinor(input.target)} (kubectl is supported within one minor of the API server)`,
        fix: `install kubectl ${formatMinor(input.target)} before the upgrade`,
      });
    }
  }
  return { findings, nodeGroups, behind: [...behind].sort(), fargateNodes, unmanaged };
}
