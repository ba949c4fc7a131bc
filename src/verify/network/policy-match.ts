/**
 * Which NetworkPolicies allow a connection: the Kubernetes NetworkPolicy semantics
 * (kubernetes.io/docs/concepts/services-networking/network-policies) evaluated as data, so a
 * connection that should have failed and did not is reported with the policies that let it
 * through. Pure; unit-tested.
 *
 * A connection from pod S to pod D on port P is allowed when both sides allow it: S's namespace
 * has no Egress policy selecting S, or one of them has a rule admitting D:P; and D's namespace has
 * no Ingress policy selecting D, or one of them has a rule admitting S on P.
 */

import type {
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
} from "@kubernetes/client-node";
import { labelSelectorMatches } from "../../shared/label-selector.js";

/** One end of a connection. */
export interface Endpoint {
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /** Undefined for an address outside the cluster's pods (a node, the metadata address). */
  readonly podLabels?: Readonly<Record<string, string>>;
  readonly ip: string;
}

export interface Verdict {
  readonly allowed: boolean;
  /** `namespace/name` of the policies whose rules admit it, per direction. */
  readonly egress: readonly string[];
  readonly ingress: readonly string[];
  /** Whether any policy isolates the source for egress / the destination for ingress. */
  readonly egressIsolated: boolean;
  readonly ingressIsolated: boolean;
}

export function selectorMatches(
  sel: V1LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return sel ? labelSelectorMatches(sel, labels) : true;
}

function ipToInt(ip: string): number | undefined {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const b = ipToInt(base ?? "");
  const a = ipToInt(ip);
  const bits = Number(bitsText ?? "32");
  if (b === undefined || a === undefined || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

/** Whether a peer (`from` or `to` entry) of a policy in namespace `policyNs` covers endpoint `e`. */
export function peerMatches(peer: V1NetworkPolicyPeer, policyNs: string, e: Endpoint): boolean {
  if (peer.ipBlock) {
    if (!cidrContains(peer.ipBlock.cidr, e.ip)) return false;
    return !(peer.ipBlock.except ?? []).some((x) => cidrContains(x, e.ip));
  }
  // Pod and namespace selectors only ever match pods.
  if (!e.podLabels) return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, e.namespaceLabels)
    : e.namespace === policyNs;
  return nsOk && (!peer.podSelector || selectorMatches(peer.podSelector, e.podLabels));
}

/** Named ports are matched by name against the destination's container ports. */
export function portMatches(
  ports: readonly V1NetworkPolicyPort[] | undefined,
  port: number,
  protocol: string,
  namedPorts: Readonly<Record<string, number>> = {},
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    const n =
      typeof p.port === "number"
        ? p.port
        : Number.isNaN(Number(p.port))
          ? namedPorts[p.port]
          : Number(p.port);
    if (n === undefined) return false;
    return p.endPort !== undefined ? port >= n && port <= p.endPort : port === n;
  });
}

/**
 * An ingress rule's `from`: the typed client calls it `_from` (a reserved word in its generator);
 * plain manifests call it `from`. Both are read, so rendered objects evaluate the same as live ones.
 */
function fromOf(r: V1NetworkPolicyIngressRule): V1NetworkPolicyPeer[] {
  return r._from ?? (r as { from?: V1NetworkPolicyPeer[] }).from ?? [];
}

function types(p: V1NetworkPolicy): string[] {
  if (p.spec?.policyTypes && p.spec.policyTypes.length > 0) return p.spec.policyTypes;
  return p.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"];
}

function nameOf(p: V1NetworkPolicy): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}

/**
 * Evaluates a TCP/UDP connection `src -> dst:port` against every policy given (all namespaces).
 * `dstNamedPorts` maps the destination pod's named container ports to numbers.
 */
export function evaluate(
  policies: readonly V1NetworkPolicy[],
  src: Endpoint,
  dst: Endpoint,
  port: number,
  protocol = "TCP",
  dstNamedPorts: Readonly<Record<string, number>> = {},
): Verdict {
  const egress: string[] = [];
  const ingress: string[] = [];
  let egressIsolated = false;
  let ingressIsolated = false;
  for (const p of policies) {
    const ns = p.metadata?.namespace ?? "";
    const t = types(p);
    if (
      src.podLabels &&
      ns === src.namespace &&
      t.includes("Egress") &&
      selectorMatches(p.spec?.podSelector, src.podLabels)
    ) {
      egressIsolated = true;
      const ok = (p.spec?.egress ?? []).some(
        (r) =>
          (!r.to || r.to.length === 0 || r.to.some((peer) => peerMatches(peer, ns, dst))) &&
          portMatches(r.ports, port, protocol, dstNamedPorts),
      );
      if (ok) egress.push(nameOf(p));
    }
    if (
      dst.podLabels &&
      ns === dst.namespace &&
      t.includes("Ingress") &&
      selectorMatches(p.spec?.podSelector, dst.podLabels)
    ) {
      ingressIsolated = true;
      const ok = (p.spec?.ingress ?? []).some(
        (r) =>
          (fromOf(r).length === 0 || fromOf(r).some((peer) => peerMatches(peer, ns, src))) &&
          portMatches(r.ports, port, protocol, dstNamedPorts),
      );
      if (ok) ingress.push(nameOf(p));
    }
  }
  const allowed = (!egressIsolated || egress.length > 0) && (!ingressIsolated || ingress.length > 0);
  return { allowed, egress, ingress, egressIsolated, ingressIsolated };
}
