/**
 * Which checks `tenkai verify network` runs, from the probe pods, CoreDNS pods and Service
 * addresses it found: every ordered pair of probe pods (same node and across nodes), a lookup from
 * every probe pod to every CoreDNS pod and to the kube-dns Service address, and a connection from
 * every probe pod to the probe Service's ClusterIP. Keys name nodes and roles, never pod names, so
 * they survive churn and compare with a baseline. Pure; unit-tested.
 */
import type { DatapathEnd, DatapathKind } from "./datapath-types.js";

export interface ProbePodRef {
  readonly node: string;
  readonly set: string;
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
}

export interface PlannedCheck {
  readonly key: string;
  readonly kind: DatapathKind;
  /** The probe pod the check is run from. */
  readonly source: ProbePodRef;
  readonly from: DatapathEnd;
  readonly to: DatapathEnd;
  readonly port: number;
  readonly scope?: "same-node" | "cross-node";
}

export interface DatapathTargets {
  readonly probes: readonly ProbePodRef[];
  readonly coredns: readonly { readonly node: string; readonly pod: string; readonly ip: string }[];
  /** `namespace/name` and ClusterIP of the kube-dns Service, when there is one. */
  readonly dnsService?: { readonly name: string; readonly ip: string };
  readonly probeService?: { readonly name: string; readonly ip: string; readonly port: number };
  readonly probePort: number;
}

function end(p: ProbePodRef): DatapathEnd {
  return { node: p.node, pod: `${p.namespace}/${p.name}`, role: p.set, ip: p.ip };
}

/** CoreDNS pods are keyed by node and their rank on it (pod names change on every rollout). */
function corednsRoles(coredns: DatapathTargets["coredns"]): Map<string, string> {
  const byNode = new Map<string, string[]>();
  for (const c of [...coredns].sort((x, y) => x.pod.localeCompare(y.pod)))
    byNode.set(c.node, [...(byNode.get(c.node) ?? []), c.pod]);
  const roles = new Map<string, string>();
  for (const [, pods] of byNode)
    pods.forEach((p, i) => roles.set(p, i === 0 ? "coredns" : `coredns${i + 1}`));
  return roles;
}

export function planDatapath(t: DatapathTargets): PlannedCheck[] {
  const out: PlannedCheck[] = [];
  const probes = [...t.probes].sort((x, y) => `${x.node}/${x.set}`.localeCompare(`${y.node}/${y.set}`));
  for (const s of probes)
    for (const d of probes) {
      if (s === d) continue;
      out.push({
        key: `pod-pair ${s.node}/${s.set} -> ${d.node}/${d.set}`,
        kind: "pod-pair",
        source: s,
        from: end(s),
        to: end(d),
        port: t.probePort,
        scope: s.node === d.node ? "same-node" : "cross-node",
      });
    }
  const roles = corednsRoles(t.coredns);
  for (const s of probes) {
    for (const c of t.coredns) {
      const role = roles.get(c.pod) ?? "coredns";
      out.push({
        key: `dns-pod ${s.node}/${s.set} -> ${c.node}/${role}`,
        kind: "dns-pod",
        source: s,
        from: end(s),
        to: { node: c.node, pod: c.pod, role, ip: c.ip },
        port: 53,
        scope: s.node === c.node ? "same-node" : "cross-node",
      });
    }
    if (t.dnsService)
      out.push({
        key: `dns-service ${s.node}/${s.set} -> ${t.dnsService.name}`,
        kind: "dns-service",
        source: s,
        from: end(s),
        to: { pod: t.dnsService.name, role: "service", ip: t.dnsService.ip },
        port: 53,
      });
    if (t.probeService)
      out.push({
        key: `service ${s.node}/${s.set} -> ${t.probeService.name}`,
        kind: "service",
        source: s,
        from: end(s),
        to: { pod: t.probeService.name, role: "service", ip: t.probeService.ip },
        port: t.probeService.port,
      });
  }
  return out;
}
