/**
 * `tenkai verify network`: proves the data path with real packets between probe pods, two on every
 * real node (probe-daemonset.ts): every pair on the same node and across nodes, DNS to every CoreDNS
 * pod and to the kube-dns Service address, the probe Service's ClusterIP, and (with a spec) from
 * each tenant namespace what its NetworkPolicies must allow and refuse (network.ts, the probes of
 * `verify isolation --checks network`). Optionally re-creates one probe set first (churn), repeats
 * over a soak window, and compares with a baseline, naming nodes and pod pairs. Emits events;
 * never prints.
 */
import { AppsV1Api, CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { localImages } from "../../providers/local/images.js";
import { PROVIDER_LABEL } from "../../providers/node-placement.js";
import { type Clock, systemClock } from "../../shared/clock.js";
import { TenkaiError } from "../../shared/errors.js";
import { emitter } from "../../shared/events.js";
import { SYSTEM_NAMESPACE } from "../../shared/kube-names.js";
import { diffBaseline, lossesOf, toBaseline } from "./baseline.js";
import { type PlannedCheck, type ProbePodRef, planDatapath } from "./datapath-plan.js";
import type {
  DatapathCheck,
  NetworkBaseline,
  NetworkVerification,
  NetworkVerifyEvent,
  NetworkVerifyOptions,
} from "./datapath-types.js";
import { type PodExec, podExec } from "./exec.js";
import { mapLimit, type NetworkReport, parseProbeError, verifyNetworkIsolation } from "./network.js";
import { DNS_CONTROL_NAME } from "./plan.js";
import {
  churnProbes,
  ensureProbes,
  isReady,
  listProbePods,
  PROBE_PORT,
  PROBE_SERVICE,
  PROBE_SETS,
  SET_LABEL,
} from "./probe-daemonset.js";

const DNS_NAMESPACE = "kube-system";
const DNS_LABEL = "k8s-app=kube-dns";
const DNS_SERVICE = "kube-dns";

/**
 * Runs the network verification.
 * @throws TenkaiError `VERIFY_PROBES_FAILED` when the probe DaemonSets cannot be created,
 *   `VERIFY_NO_REAL_NODES` when no node can run a probe pod (kwok only).
 */
export async function verifyNetwork(o: NetworkVerifyOptions): Promise<NetworkVerification> {
  const clock: Clock = o.clock ?? systemClock;
  const started = clock.now();
  const emit = emitter<NetworkVerifyEvent>(o.sink, clock);
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const apps = o.kubeConfig.makeApiClient(AppsV1Api);
  const exec = o.exec ?? podExec(o.kubeConfig);
  const namespace = o.namespace ?? SYSTEM_NAMESPACE;
  const image = o.probeImage ?? localImages().probe;
  const timeout = o.connectTimeout ?? "2s";

  const allNodes = (await core.listNode()).items;
  const skippedNodes = allNodes
    .filter((n) => n.metadata?.labels?.[PROVIDER_LABEL] === "kwok")
    .map((n) => ({
      node: n.metadata?.name ?? "",
      reason: "kwok node: it runs no containers, so no probe pod",
    }));
  const realNodes = allNodes
    .filter((n) => n.metadata?.labels?.[PROVIDER_LABEL] !== "kwok")
    .map((n) => n.metadata?.name ?? "")
    .sort();
  if (realNodes.length === 0) {
    throw new TenkaiError(
      "VERIFY_NO_REAL_NODES",
      `the cluster has no real nodes (${skippedNodes.length} kwok node(s)), so no packet can be sent`,
      "bring the platform up with real nodes (node group local: { nodes: real }, tenkai local up)",
    );
  }
  emit(
    "info",
    "verify.datapath.probes",
    `network: probe DaemonSets in ${namespace} on ${realNodes.length} real node(s)${skippedNodes.length ? `; ${skippedNodes.length} kwok node(s) not probed` : ""}`,
    { namespace, nodes: realNodes.length, skipped: skippedNodes.length },
  );
  await ensureProbes(core, apps, namespace, image);

  let churnedAway = new Set<string>();
  if (o.churn) {
    churnedAway = new Set(await churnProbes(core, namespace));
    emit(
      "info",
      "verify.datapath.churn",
      `network: churn: deleted ${churnedAway.size} probe pod(s) of set a; the DaemonSet re-creates them beside set b`,
      { deleted: churnedAway.size },
    );
  }

  const ready = await waitForProbes(
    core,
    namespace,
    realNodes,
    churnedAway,
    o.readyTimeoutMs ?? 180_000,
    clock,
    o.signal,
  );
  emit("info", "verify.datapath.ready", `network: ${ready.pods.length} probe pod(s) ready`, {
    pods: ready.pods.length,
    ms: clock.now() - started,
  });

  const [dnsPods, dnsService, probeService] = await Promise.all([
    core.listNamespacedPod({ namespace: DNS_NAMESPACE, labelSelector: DNS_LABEL }),
    core.readNamespacedService({ name: DNS_SERVICE, namespace: DNS_NAMESPACE }).catch(() => undefined),
    core.readNamespacedService({ name: PROBE_SERVICE, namespace }),
  ]);
  const planned = planDatapath({
    probes: ready.pods,
    coredns: dnsPods.items
      .filter((p) => isReady(p) && realNodes.includes(p.spec?.nodeName ?? ""))
      .map((p) => ({
        node: p.spec?.nodeName ?? "",
        pod: `${DNS_NAMESPACE}/${p.metadata?.name}`,
        ip: p.status?.podIP ?? "",
      })),
    ...(dnsService?.spec?.clusterIP && dnsService.spec.clusterIP !== "None"
      ? { dnsService: { name: `${DNS_NAMESPACE}/${DNS_SERVICE}`, ip: dnsService.spec.clusterIP } }
      : {}),
    ...(probeService.spec?.clusterIP
      ? { probeService: { name: `${namespace}/${PROBE_SERVICE}`, ip: probeService.spec.clusterIP, port: 80 } }
      : {}),
    probePort: PROBE_PORT,
  });

  // Rounds: one, or as many as fit in the soak window.
  const soakMs = (o.soakSeconds ?? 0) * 1000;
  const soakEnd = clock.now() + soakMs;
  const tally = new Map<string, { failures: number; last: string; failDetail?: string }>();
  let rounds = 0;
  let failedRounds = 0;
  do {
    o.signal?.throwIfAborted();
    rounds++;
    const results = await mapLimit(planned, o.concurrency ?? 8, (c) => runCheck(exec, c, timeout));
    let failed = 0;
    results.forEach((r, i) => {
      const c = planned[i] as PlannedCheck;
      const t = tally.get(c.key) ?? { failures: 0, last: "" };
      t.last = r.detail;
      if (!r.ok) {
        failed++;
        t.failures++;
        t.failDetail = r.detail;
      }
      tally.set(c.key, t);
    });
    if (failed > 0) failedRounds++;
    emit(
      failed > 0 ? "warn" : "info",
      "verify.datapath.round",
      `network: round ${rounds}: ${planned.length - failed}/${planned.length} check(s) connected`,
      { round: rounds, checks: planned.length, failed },
    );
  } while (clock.now() < soakEnd);

  const checks: DatapathCheck[] = planned.map((c) => {
    const t = tally.get(c.key) ?? { failures: 0, last: "" };
    return {
      key: c.key,
      kind: c.kind,
      from: c.from,
      to: c.to,
      port: c.port,
      ...(c.scope ? { scope: c.scope } : {}),
      ok: t.failures === 0,
      detail: t.failDetail ?? t.last,
      rounds,
      failures: t.failures,
    };
  });

  let tenants: NetworkReport | undefined;
  if (o.spec && o.spec.spec.tenants.length > 0)
    tenants = await verifyNetworkIsolation({
      platform: o.spec,
      kubeConfig: o.kubeConfig,
      probeImage: image,
      exec,
      ...(o.sink ? { sink: o.sink } : {}),
    });

  const losses = lossesOf(checks);
  for (const l of losses)
    emit(
      "error",
      "verify.datapath.loss",
      `network: LOST on ${l.node}: ${l.kind} ${l.pair}: ${l.detail}${rounds > 1 ? ` (${l.failures}/${l.rounds} rounds)` : ""}`,
      { loss: l },
    );
  const diff = o.baseline ? diffBaseline(o.baseline, checks, realNodes) : undefined;
  for (const c of diff?.changes ?? [])
    emit(
      c.change === "lost" ? "error" : "info",
      "verify.datapath.change",
      `network: ${c.change} since the baseline of ${diff?.takenAt}: ${c.key} (${c.from.pod} ${c.from.ip} -> ${c.to.pod} ${c.to.ip}): ${c.detail}`,
      { change: c },
    );
  const tenantCounts = tenants ? tenantSummary(tenants) : undefined;
  const baseline: NetworkBaseline = toBaseline(
    checks,
    realNodes,
    new Date(clock.now()).toISOString(),
    tenantCounts,
  );
  const ok =
    losses.length === 0 &&
    ready.missing.length === 0 &&
    (tenants?.ok ?? true) &&
    (diff ? diff.changes.every((c) => c.change !== "lost") && diff.kindsGone.length === 0 : true);
  emit(
    ok ? "info" : "error",
    "verify.datapath.done",
    `network: ${ok ? "green" : "LOSS"}: ${checks.length} check(s), ${losses.length} loss(es)`,
    {
      ok,
      checks: checks.length,
      losses: losses.length,
    },
  );
  return {
    ok,
    checks,
    losses,
    nodes: realNodes,
    skippedNodes,
    nodesWithoutProbes: ready.missing,
    ...(tenants ? { tenants } : {}),
    churned: !!o.churn,
    ...(soakMs > 0 ? { soak: { seconds: soakMs / 1000, rounds, failedRounds } } : {}),
    ...(diff ? { diff } : {}),
    baseline,
    ms: clock.now() - started,
  };
}

function tenantSummary(r: NetworkReport): Record<string, { ok: number; total: number }> {
  const out: Record<string, { ok: number; total: number }> = {};
  for (const p of r.probes) {
    const t = out[p.tenant] ?? { ok: 0, total: 0 };
    t.total++;
    if (p.ok) t.ok++;
    out[p.tenant] = t;
  }
  return out;
}

/**
 * Waits until every real node runs a ready pod of each probe set (for set `a` after churn: a pod
 * that is not one of those deleted). A node still without one at the deadline is reported, not
 * thrown: it is a loss by itself.
 */
async function waitForProbes(
  core: CoreV1Api,
  namespace: string,
  nodes: readonly string[],
  churnedAway: ReadonlySet<string>,
  timeoutMs: number,
  clock: Clock,
  signal: AbortSignal | undefined,
): Promise<{ pods: ProbePodRef[]; missing: { node: string; reason: string }[] }> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const pods = await listProbePods(core, namespace);
    const found: ProbePodRef[] = [];
    const missing: { node: string; reason: string }[] = [];
    for (const node of nodes)
      for (const set of PROBE_SETS) {
        const mine = pods.filter(
          (p) =>
            p.spec?.nodeName === node &&
            p.metadata?.labels?.[SET_LABEL] === set &&
            !churnedAway.has(p.metadata?.name ?? ""),
        );
        const ready = mine.find(isReady);
        if (ready) found.push(ref(ready, node, set, namespace));
        else missing.push({ node, reason: `no ready probe pod of set ${set}${describe(mine)}` });
      }
    if (missing.length === 0 || clock.now() > deadline) return { pods: found, missing };
    await clock.sleep(500, signal);
  }
}

function ref(p: V1Pod, node: string, set: string, namespace: string): ProbePodRef {
  return { node, set, namespace, name: p.metadata?.name ?? "", ip: p.status?.podIP ?? "" };
}

function describe(pods: readonly V1Pod[]): string {
  if (pods.length === 0) return " (none scheduled: is the node Ready?)";
  const p = pods[0] as V1Pod;
  const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
  return ` (${p.metadata?.name}: ${p.status?.phase}${waiting ? `, ${waiting.reason}` : ""})`;
}

async function runCheck(
  exec: PodExec,
  c: PlannedCheck,
  timeout: string,
): Promise<{ ok: boolean; detail: string }> {
  const cmd =
    c.kind === "dns-pod" || c.kind === "dns-service"
      ? ["/probe", "dns", DNS_CONTROL_NAME, "--server", c.to.ip, "--timeout", timeout]
      : ["/probe", "connect", "--tcp", `${c.to.ip}:${c.port}`, "--timeout", timeout];
  let r = await exec(c.source.namespace, c.source.name, "probe", cmd, 30_000);
  // The exec itself failing (a busy API server, a closed stream) says nothing about the data path: once more.
  if (r.exitCode !== 0 && r.exitCode !== 1)
    r = await exec(c.source.namespace, c.source.name, "probe", cmd, 30_000);
  if (r.exitCode === 0) return { ok: true, detail: c.kind.startsWith("dns") ? "resolved" : "connected" };
  if (r.exitCode === 1) return { ok: false, detail: parseProbeError(r.stdout) ?? "failed" };
  return { ok: false, detail: `probe did not run: ${r.error ?? `exit ${r.exitCode}`} ${r.stderr}`.trim() };
}
