/**
 * Which connections the network isolation check tries, and what each must do, decided as data
 * from what is in the cluster (STYLE.md 5). Pure; unit-tested.
 *
 * From a pod of every workload of each tenant (or a probe pod when the tenant has none):
 * - every other tenant's pods and Services: must fail (default deny, no cross-tenant allow);
 * - every real node's address (the kubelet port): must fail (no tenant egress to hosts);
 * - the instance metadata address 169.254.169.254:80: must fail (credentials live there on EC2);
 * - controls that must connect, so "everything failed" cannot pass for isolation: another pod of
 *   the same tenant and one of its Services, and a DNS lookup through kube-dns.
 */

export const METADATA_ADDRESS = "169.254.169.254";
export const METADATA_PORT = 80;
/** The kubelet's port, open on every node. */
export const KUBELET_PORT = 10250;
/** A name every cluster resolves. */
export const DNS_CONTROL_NAME = "kubernetes.default.svc.cluster.local";

export interface PodInfo {
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Container ports, named and numbered. */
  readonly ports: readonly { readonly name?: string; readonly port: number }[];
}

export interface ServiceInfo {
  readonly name: string;
  readonly clusterIP: string;
  readonly ports: readonly { readonly port: number; readonly targetPort: number | string }[];
  readonly selector: Readonly<Record<string, string>>;
}

export interface TenantInventory {
  readonly tenant: string;
  /** Running, Ready pods on real nodes. */
  readonly pods: readonly PodInfo[];
  readonly services: readonly ServiceInfo[];
}

export interface Source {
  readonly tenant: string;
  readonly pod: string;
  readonly container: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  /** A pod the check created (deleted afterwards) rather than a workload's. */
  readonly created: boolean;
}

export type TargetKind = "pod" | "service" | "node" | "metadata" | "own-pod" | "own-service" | "dns";

export interface Probe {
  readonly source: Source;
  readonly kind: TargetKind;
  /** What is probed: `tenant/pod`, `tenant/service`, a node name, `instance metadata`, or a DNS name. */
  readonly target: string;
  /** The other tenant for pod/service probes. */
  readonly targetTenant?: string;
  readonly address: string;
  readonly port: number;
  readonly expect: "fail" | "connect";
}

export function planProbes(
  sources: readonly Source[],
  tenants: readonly TenantInventory[],
  nodes: readonly { readonly name: string; readonly ip: string }[],
): Probe[] {
  const probes: Probe[] = [];
  for (const source of sources) {
    for (const other of tenants) {
      if (other.tenant === source.tenant) continue;
      for (const pod of other.pods) {
        for (const p of uniquePorts(pod)) {
          probes.push({
            source,
            kind: "pod",
            target: `${other.tenant}/${pod.name}`,
            targetTenant: other.tenant,
            address: pod.ip,
            port: p,
            expect: "fail",
          });
        }
      }
      for (const svc of other.services) {
        if (!svc.clusterIP || svc.clusterIP === "None") continue;
        for (const p of svc.ports) {
          probes.push({
            source,
            kind: "service",
            target: `${other.tenant}/${svc.name}`,
            targetTenant: other.tenant,
            address: svc.clusterIP,
            port: p.port,
            expect: "fail",
          });
        }
      }
    }
    for (const n of nodes)
      probes.push({
        source,
        kind: "node",
        target: n.name,
        address: n.ip,
        port: KUBELET_PORT,
        expect: "fail",
      });
    probes.push({
      source,
      kind: "metadata",
      target: "instance metadata",
      address: METADATA_ADDRESS,
      port: METADATA_PORT,
      expect: "fail",
    });
    const own = tenants.find((t) => t.tenant === source.tenant);
    const peer = own?.pods.find((p) => p.name !== source.pod && uniquePorts(p).length > 0);
    if (peer) {
      probes.push({
        source,
        kind: "own-pod",
        target: `${source.tenant}/${peer.name}`,
        address: peer.ip,
        port: uniquePorts(peer)[0] ?? 0,
        expect: "connect",
      });
    }
    const svc = own?.services.find(
      (s) => s.clusterIP && s.clusterIP !== "None" && own.pods.some((p) => matches(s.selector, p.labels)),
    );
    if (svc?.ports[0]) {
      probes.push({
        source,
        kind: "own-service",
        target: `${source.tenant}/${svc.name}`,
        address: svc.clusterIP,
        port: svc.ports[0].port,
        expect: "connect",
      });
    }
    probes.push({ source, kind: "dns", target: DNS_CONTROL_NAME, address: "", port: 53, expect: "connect" });
  }
  return probes;
}

function uniquePorts(p: PodInfo): number[] {
  return [...new Set(p.ports.map((x) => x.port))];
}

export function matches(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}
