/**
 * `tenkai verify isolation`, network part: on a cluster with real nodes, opens real connections
 * from a pod of each tenant to every other tenant's pods and Services, to the node addresses and to
 * the instance metadata address, and checks that each one that must fail fails, while controls
 * within the tenant (and DNS) connect. A connection that got through is a breach, reported with the
 * NetworkPolicies that let it (or with none, which says the policy engine is not enforcing).
 * Emits events; never prints.
 */
import {
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  type V1NetworkPolicy,
  type V1Pod,
  type V1Service,
} from "@kubernetes/client-node";
import { PROVIDER_LABEL } from "../../providers/node-placement.js";
import { TenkaiError } from "../../shared/errors.js";
import { type EventSink, emitter, type TenkaiEvent } from "../../shared/events.js";
import { WORKLOAD_LABEL } from "../../shared/kube-names.js";
import type { Platform } from "../../spec/schema.js";
import { type PodExec, podExec } from "./exec.js";
import {
  DNS_CONTROL_NAME,
  matches,
  type PodInfo,
  type Probe,
  planProbes,
  type ServiceInfo,
  type Source,
  type TenantInventory,
} from "./plan.js";
import { type Endpoint, evaluate } from "./policy-match.js";
import { createProbePod, deleteProbePod, PROBE_POD_NAME } from "./probe-pod.js";

export interface NetworkCheckOptions {
  readonly platform: Platform;
  readonly kubeConfig: KubeConfig;
  /** The image with the `probe` binary (cluster/images/images.env PROBE_IMAGE). */
  readonly probeImage: string;
  /** Probes in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Connect timeout of each probe, as `probe connect --timeout`. Default `2s`. */
  readonly connectTimeout?: string;
  /** How long a created probe pod may take to be Ready. Default 120 000 ms. */
  readonly podReadyTimeoutMs?: number;
  /** Where events go (shared/events.ts). Default: nowhere. */
  readonly sink?: EventSink<NetworkEvent>;
  /** Default: exec through the API server. */
  readonly exec?: PodExec;
}

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

/** On the one event channel: breaches are `error`, the rest `info`. */
export type NetworkEvent =
  | Ev<"verify.network.start", { sources: number; probes: number }>
  | Ev<"verify.network.source", { tenant: string; pod: string; created: boolean }>
  | Ev<"verify.network.breach", { breach: NetworkBreach }>;

export interface ProbeResult {
  readonly from: string;
  readonly tenant: string;
  readonly kind: Probe["kind"];
  readonly target: string;
  readonly address: string;
  readonly port: number;
  readonly expect: "fail" | "connect";
  readonly connected: boolean;
  readonly ok: boolean;
  /** The probe's own words: the connect error, or the exec failure. */
  readonly detail: string;
}

export interface NetworkBreach {
  readonly from: string;
  readonly tenant: string;
  readonly kind: Probe["kind"];
  readonly target: string;
  readonly address: string;
  readonly port: number;
  /** `namespace/name` of the NetworkPolicies that admit it (egress on the source side, ingress on the target's). */
  readonly allowedBy: readonly string[];
  readonly message: string;
}

export interface NetworkReport {
  readonly ok: boolean;
  readonly probes: readonly ProbeResult[];
  readonly breaches: readonly NetworkBreach[];
  /** Controls that did not connect: the check cannot tell isolation from a broken network. */
  readonly controlFailures: readonly ProbeResult[];
  readonly realNodes: readonly string[];
  readonly ms: number;
}

/**
 * Runs the network probes.
 * @throws TenkaiError `VERIFY_NO_REAL_NODES` when the cluster has no real nodes (nothing can run a
 *   probe), `VERIFY_PROBE_POD_FAILED` when a tenant without workload pods cannot get a probe pod.
 */
export async function verifyNetworkIsolation(o: NetworkCheckOptions): Promise<NetworkReport> {
  const started = Date.now();
  const emit = emitter<NetworkEvent>(o.sink);
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const net = o.kubeConfig.makeApiClient(NetworkingV1Api);
  const exec = o.exec ?? podExec(o.kubeConfig);
  const timeout = o.connectTimeout ?? "2s";

  const nodes = (await core.listNode({ labelSelector: `${PROVIDER_LABEL}=local` })).items
    .map((n) => ({
      name: n.metadata?.name ?? "",
      ip: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "",
    }))
    .filter((n) => n.ip);
  if (nodes.length === 0)
    throw new TenkaiError(
      "VERIFY_NO_REAL_NODES",
      "the cluster has no real nodes, so no connection can be tried (kwok pods carry no traffic)",
      "bring the platform up with real nodes (node group local: { nodes: real }, tenkai local up), or skip the network probes with --checks access",
    );
  const realNodes = new Set(nodes.map((n) => n.name));

  const tenants = o.platform.spec.tenants.map((t) => t.name);
  const namespaceLabels = new Map<string, Record<string, string>>();
  const inventory: TenantInventory[] = [];
  const podsByTenant = new Map<string, V1Pod[]>();
  for (const tenant of tenants) {
    const [ns, pods, services] = await Promise.all([
      core.readNamespace({ name: tenant }),
      core.listNamespacedPod({ namespace: tenant }),
      core.listNamespacedService({ namespace: tenant }),
    ]);
    namespaceLabels.set(tenant, ns.metadata?.labels ?? {});
    const live = pods.items.filter(
      (p) => isReady(p) && realNodes.has(p.spec?.nodeName ?? "") && p.status?.podIP,
    );
    podsByTenant.set(tenant, live);
    inventory.push({
      tenant,
      pods: live.filter((p) => p.metadata?.name !== PROBE_POD_NAME).map(podInfo),
      services: services.items.map(serviceInfo),
    });
  }

  // Sources: a pod of each workload that runs the probe image, else a probe pod of our own.
  const sources: Source[] = [];
  const created: string[] = [];
  try {
    for (const tenant of tenants) {
      const byWorkload = new Map<string, V1Pod>();
      for (const p of podsByTenant.get(tenant) ?? []) {
        const w = p.metadata?.labels?.[WORKLOAD_LABEL];
        const c = p.spec?.containers.find((x) => x.image === o.probeImage);
        if (w && c && !byWorkload.has(w)) byWorkload.set(w, p);
      }
      for (const p of byWorkload.values()) {
        const container = p.spec?.containers.find((x) => x.image === o.probeImage)?.name ?? "";
        sources.push(sourceOf(tenant, p, container, false));
      }
      if (byWorkload.size === 0) {
        created.push(tenant);
        const p = await createProbePod(core, {
          namespace: tenant,
          image: o.probeImage,
          timeoutMs: o.podReadyTimeoutMs ?? 120_000,
        });
        sources.push(sourceOf(tenant, p, "probe", true));
      }
    }
    for (const s of sources)
      emit(
        "info",
        "verify.network.source",
        `network: probing from ${s.tenant}/${s.pod}${s.created ? " (a probe pod: the tenant has no workload pod with the probe image)" : ""}`,
        { tenant: s.tenant, pod: s.pod, created: s.created },
      );

    const probes = planProbes(sources, inventory, nodes);
    emit(
      "info",
      "verify.network.start",
      `network: ${probes.length} connection(s) from ${sources.length} pod(s) over ${nodes.length} real node(s)`,
      { sources: sources.length, probes: probes.length },
    );
    const results = await mapLimit(probes, o.concurrency ?? 8, (p) => runProbe(exec, p, timeout));

    const policies = (await net.listNetworkPolicyForAllNamespaces()).items;
    const allPods = [...podsByTenant.values()].flat();
    const breaches: NetworkBreach[] = [];
    results.forEach((r, i) => {
      const p = probes[i] as Probe;
      if (r.ok || r.expect !== "fail") return;
      const b = explain(p, r, policies, namespaceLabels, allPods, inventory);
      breaches.push(b);
      emit("error", "verify.network.breach", b.message, { breach: b });
    });
    const controlFailures = results.filter((r) => r.expect === "connect" && !r.ok);
    return {
      ok: breaches.length === 0 && controlFailures.length === 0,
      probes: results,
      breaches,
      controlFailures,
      realNodes: [...realNodes].sort(),
      ms: Date.now() - started,
    };
  } finally {
    await Promise.all(created.map((ns) => deleteProbePod(core, ns)));
  }
}

async function runProbe(exec: PodExec, p: Probe, timeout: string): Promise<ProbeResult> {
  const cmd =
    p.kind === "dns"
      ? ["/probe", "dns", DNS_CONTROL_NAME, "--timeout", timeout]
      : ["/probe", "connect", "--tcp", `${p.address}:${p.port}`, "--timeout", timeout];
  const r = await exec(p.source.tenant, p.source.pod, p.source.container, cmd, 30_000);
  // exit 0: connected (or resolved); 1: could not; anything else: the probe itself failed.
  const connected = r.exitCode === 0;
  const ran = r.exitCode === 0 || r.exitCode === 1;
  const detail = !ran
    ? `probe did not run: ${r.error ?? `exit ${r.exitCode}`} ${r.stderr}`.trim()
    : (parseProbeError(r.stdout) ?? (connected ? "connected" : "failed"));
  const ok = ran && (p.expect === "fail" ? !connected : connected);
  return {
    from: `${p.source.tenant}/${p.source.pod}`,
    tenant: p.source.tenant,
    kind: p.kind,
    target: p.target,
    address: p.address,
    port: p.port,
    expect: p.expect,
    connected,
    ok,
    detail,
  };
}

export function parseProbeError(stdout: string): string | undefined {
  try {
    const v = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as { error?: string; connected?: boolean };
    return v.error;
  } catch {
    return undefined;
  }
}

/** The breach, with the policies that let it through. */
function explain(
  p: Probe,
  r: ProbeResult,
  policies: readonly V1NetworkPolicy[],
  namespaceLabels: ReadonlyMap<string, Record<string, string>>,
  pods: readonly V1Pod[],
  inventory: readonly TenantInventory[],
): NetworkBreach {
  const src: Endpoint = {
    namespace: p.source.tenant,
    namespaceLabels: namespaceLabels.get(p.source.tenant) ?? {},
    podLabels: p.source.labels,
    ip: p.source.ip,
  };
  let dst: Endpoint = { namespace: "", namespaceLabels: {}, ip: p.address };
  let port = p.port;
  let named: Record<string, number> = {};
  if (p.kind === "pod" || p.kind === "service") {
    const tenant = p.targetTenant ?? "";
    const name = p.target.split("/")[1] ?? "";
    let pod =
      p.kind === "pod"
        ? pods.find((x) => x.metadata?.namespace === tenant && x.metadata?.name === name)
        : undefined;
    if (p.kind === "service") {
      // kube-proxy rewrites the ClusterIP to a backend pod before policy applies: judge by a backend.
      const svc = inventory.find((t) => t.tenant === tenant)?.services.find((s) => s.name === name);
      pod = pods.find(
        (x) => x.metadata?.namespace === tenant && svc && matches(svc.selector, x.metadata?.labels ?? {}),
      );
      const sp = svc?.ports.find((x) => x.port === p.port);
      const info = pod ? podInfo(pod) : undefined;
      if (sp && info)
        port =
          typeof sp.targetPort === "number"
            ? sp.targetPort
            : (info.ports.find((x) => x.name === sp.targetPort)?.port ?? port);
    }
    if (pod) {
      const info = podInfo(pod);
      named = Object.fromEntries(info.ports.filter((x) => x.name).map((x) => [x.name as string, x.port]));
      dst = {
        namespace: tenant,
        namespaceLabels: namespaceLabels.get(tenant) ?? {},
        podLabels: info.labels,
        ip: info.ip,
      };
    }
  }
  const v = evaluate(policies, src, dst, port, "TCP", named);
  const allowedBy = [...v.egress.map((n) => `${n} (egress)`), ...v.ingress.map((n) => `${n} (ingress)`)];
  const what =
    p.kind === "metadata"
      ? `the instance metadata address ${p.address}:${p.port}`
      : `${p.kind} ${p.target} ${p.address}:${p.port}`;
  const why =
    allowedBy.length > 0
      ? `allowed by NetworkPolicy ${allowedBy.join(", ")}`
      : v.egressIsolated || v.ingressIsolated
        ? "no NetworkPolicy allows it: the NetworkPolicy engine is not enforcing on this path (check its agent on the nodes)"
        : "no NetworkPolicy isolates these pods at all (is the tenant's default-deny applied?)";
  return {
    from: r.from,
    tenant: r.tenant,
    kind: p.kind,
    target: p.target,
    address: p.address,
    port: p.port,
    allowedBy: [...v.egress, ...v.ingress],
    message: `BREACH network: ${r.from} (${p.source.ip}) reached ${what}: ${why}`,
  };
}

function sourceOf(tenant: string, p: V1Pod, container: string, created: boolean): Source {
  return {
    tenant,
    pod: p.metadata?.name ?? "",
    container,
    ip: p.status?.podIP ?? "",
    labels: p.metadata?.labels ?? {},
    created,
  };
}

function podInfo(p: V1Pod): PodInfo {
  return {
    name: p.metadata?.name ?? "",
    ip: p.status?.podIP ?? "",
    labels: p.metadata?.labels ?? {},
    ports: (p.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? [])
        .filter((x) => (x.protocol ?? "TCP") === "TCP")
        .map((x) => ({ ...(x.name ? { name: x.name } : {}), port: x.containerPort })),
    ),
  };
}

function serviceInfo(s: V1Service): ServiceInfo {
  return {
    name: s.metadata?.name ?? "",
    clusterIP: s.spec?.clusterIP ?? "",
    ports: (s.spec?.ports ?? [])
      .filter((x) => (x.protocol ?? "TCP") === "TCP")
      .map((x) => ({ port: x.port, targetPort: (x.targetPort as number | string | undefined) ?? x.port })),
    selector: s.spec?.selector ?? {},
  };
}

function isReady(p: V1Pod): boolean {
  return (
    !p.metadata?.deletionTimestamp &&
    p.status?.phase === "Running" &&
    (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)
  );
}

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
