/**
 * `tenkai local up`: the whole platform on this machine. Builds the cluster binaries once (cached),
 * starts a local control plane (or reuses the one already running in the directory), creates every
 * node group's active slot (real nodes or kwok, per `local.nodes`), installs cluster DNS, and
 * applies the Kubernetes plane with each workload on the probe image (src/local/plane.ts).
 * Emits events; never prints.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type ApplySummary, applyObjects } from "../kube/api/apply.js";
import { KubeClient } from "../kube/api/client.js";
import { renderKubernetesPlane } from "../kube/render/render.js";
import { replicaBounds } from "../kube/render/workloads.js";
import { providerForGroup, taintKwokNodes } from "../providers/choose.js";
import { KwokNodeProvider } from "../providers/kwok/index.js";
import {
  clusterScriptPath,
  runClusterScript,
  type ScriptRunner,
  tail,
} from "../providers/local/cluster-scripts.js";
import { localImages } from "../providers/local/images.js";
import { LocalNodeProvider } from "../providers/local/index.js";
import type { NodeGroupSlotSpec, NodeProvider } from "../providers/node-provider.js";
import { nodegroupName } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import { type EventSink, emitter } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import { defaultClusterDir, isClusterDir, kubeconfigOf, tenkaiCache } from "./cluster-dir.js";
import type { LocalEvent, LocalUpEvent } from "./events.js";
import { type ImageReplacement, localPlane } from "./plane.js";

export interface LocalUpOptions {
  /** The loaded spec. Its `target` is taken as `local` whatever it says (and the output says so). */
  readonly platform: Platform;
  /** The spec file's path, for the next commands printed at the end. */
  readonly file: string;
  /** Cluster directory. Default `${TENKAI_CACHE:-~/.cache/tenkai}/local/<platform>`. */
  readonly clusterDir?: string;
  /** How long nodes may take to be Ready and workloads to roll out. Default 600 000 ms. */
  readonly timeoutMs?: number;
  /** Apply the Kubernetes plane. Default true. */
  readonly apply?: boolean;
  /** Where events go (shared/events.ts). Default: nowhere. */
  readonly sink?: EventSink<LocalUpEvent>;
  /** Runs `bash cluster/<script>`; default the package's scripts, their stderr as `local.script` events. */
  readonly runScript?: ScriptRunner;
}

export interface LocalNodeGroupResult {
  readonly group: string;
  readonly nodegroupName: string;
  readonly provider: "local" | "kwok";
  readonly nodes: readonly string[];
}

export interface LocalUpResult {
  readonly clusterDir: string;
  readonly kubeconfig: string;
  readonly reusedCluster: boolean;
  /** The spec's own target (`aws` when a cloud spec was brought up locally). */
  readonly specTarget: string;
  readonly nodeGroups: readonly LocalNodeGroupResult[];
  readonly dns: boolean;
  readonly probeImage: string;
  readonly replaced: readonly ImageReplacement[];
  readonly suspended: readonly string[];
  readonly left: readonly { readonly ref: string; readonly reason: string }[];
  readonly apply: ApplySummary | undefined;
  /** Commands to try next, in order. */
  readonly next: readonly string[];
  readonly durationMs: number;
}

/** The local form of a platform: target `local`, everything else as written. */
export function asLocal(platform: Platform): Platform {
  return { ...platform, spec: { ...platform.spec, target: "local" } };
}

/** Zones of the local node groups: `network.azs` zone names in the spec's region (`<region>a`, `b`, ...). */
export function localZones(platform: Platform): string[] {
  return Array.from(
    { length: platform.spec.network.azs },
    (_, i) => `${platform.spec.aws.region}${"abcdef"[i]}`,
  );
}

/** The active slot of a spec node group, as a provider creates it. */
export function activeSlotSpec(
  platform: Platform,
  group: Platform["spec"]["nodeGroups"][number],
): NodeGroupSlotSpec {
  return {
    group: group.name,
    slot: group.activeSlot,
    nodegroupName: nodegroupName(group.name, group.activeSlot),
    instanceTypes: group.instanceTypes,
    desired: group.desired ?? group.min,
    min: group.min,
    max: group.max,
    zones: localZones(platform),
    kubernetesVersion: platform.spec.cluster.version,
    labels: group.labels,
    taints: group.taints,
    capacityType: group.capacityType,
  };
}

export async function localUp(options: LocalUpOptions): Promise<LocalUpResult> {
  const started = Date.now();
  const emit = localEmit(options.sink);
  const run: ScriptRunner =
    options.runScript ??
    ((script, args) =>
      runClusterScript(script, args, (line) =>
        emit({ type: "local.script", message: `  ${script}: ${line}`, script, line }),
      ));
  const platform = asLocal(options.platform);
  const specTarget = options.platform.spec.target;
  if (specTarget !== "local") {
    emit({
      type: "local.target",
      message: `${options.file} says target ${specTarget}; tenkai local up runs it on the local target (no AWS: nothing is created in account ${platform.spec.aws.account})`,
      specTarget,
    });
  }
  const timeoutMs = options.timeoutMs ?? 600_000;
  const clusterDir = options.clusterDir ?? defaultClusterDir(platform.metadata.name);
  const kubeconfig = kubeconfigOf(clusterDir);

  // 1. Binaries (built once into the cache), then the control plane.
  const ensure = await run("ensure.sh", []);
  if (ensure.code !== 0)
    throw new TenkaiError(
      "LOCAL_BUILD_FAILED",
      `cluster/ensure.sh exited ${ensure.code} building the local cluster binaries:\n${tail(ensure.stderr)}`,
      "read the build log above; Go 1.26+ and the Go module proxy are needed (see cluster/README.md)",
    );
  const t0 = Date.now();
  const reused = isClusterDir(clusterDir) && (await apiReady(kubeconfig));
  if (!reused) {
    const up = await run("up.sh", ["--dir", clusterDir]);
    if (up.code !== 0)
      throw new TenkaiError(
        "LOCAL_CLUSTER_FAILED",
        `cluster/up.sh exited ${up.code} starting the local cluster in ${clusterDir}:\n${tail(up.stderr)}`,
        `read the component's log under ${clusterDir}/logs; tenkai local down then tenkai local up starts afresh`,
      );
  }
  emit({
    type: "local.cluster",
    message: `${reused ? "reusing the local cluster" : "local cluster started"} in ${clusterDir} (${Date.now() - t0} ms)`,
    clusterDir,
    reused,
    ms: Date.now() - t0,
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);

  // 2. Every node group's active slot, real or kwok.
  const real = new LocalNodeProvider({ kubeConfig, clusterDir, runScript: run });
  const kwok = new KwokNodeProvider({ kubeConfig, taintFakeNodes: taintKwokNodes(platform) });
  const nodeGroups: LocalNodeGroupResult[] = [];
  for (const group of platform.spec.nodeGroups) {
    const kind = providerForGroup(platform, group) === "local" ? "local" : "kwok";
    const provider: NodeProvider = kind === "local" ? real : kwok;
    const spec = activeSlotSpec(platform, group);
    emit({
      type: "local.nodegroup",
      message: `node group ${group.name}: ${spec.desired} ${kind === "local" ? "real" : "kwok"} node(s) in ${spec.nodegroupName} over ${spec.zones.join(", ")}`,
      group: group.name,
      nodegroupName: spec.nodegroupName,
      provider: kind,
      desired: spec.desired,
    });
    const g0 = Date.now();
    await provider.createSlot(spec);
    const nodes = await waitForSlot(provider, spec.nodegroupName, timeoutMs);
    emit({
      type: "local.nodegroup.ready",
      message: `node group ${group.name}: ${nodes.length} node(s) Ready (${((Date.now() - g0) / 1000).toFixed(1)} s)`,
      nodegroupName: spec.nodegroupName,
      nodes,
      ms: Date.now() - g0,
    });
    nodeGroups.push({ group: group.name, nodegroupName: spec.nodegroupName, provider: kind, nodes });
  }

  // 3. Cluster DNS, kube-proxy and the NetworkPolicy engine live on real nodes only.
  const dns = nodeGroups.some((g) => g.provider === "local" && g.nodes.length > 0);
  if (dns) {
    const addons = await run("addons.sh", ["--dir", clusterDir]);
    if (addons.code !== 0)
      throw new TenkaiError(
        "LOCAL_ADDONS_FAILED",
        `cluster/addons.sh exited ${addons.code} installing CoreDNS:\n${tail(addons.stderr)}`,
        `read ${clusterDir}/logs; then run tenkai local up again (it reuses the cluster)`,
      );
  }
  emit({
    type: "local.dns",
    message: dns
      ? "cluster DNS: CoreDNS pods behind the kube-dns Service; kube-proxy and the NetworkPolicy engine run on every real node"
      : "cluster DNS not installed: no node group has real nodes (set local: { nodes: real } on one)",
    installed: dns,
  });

  // 4. The Kubernetes plane, with the probe image standing in for every workload's image.
  const images = localImages();
  const plane = localPlane(renderKubernetesPlane(platform), images.probe);
  for (const r of plane.replaced) {
    emit({
      type: "local.image",
      message: `${r.kind} ${r.workload} runs ${r.to} in place of ${r.from}${plane.suspended.includes(r.workload) ? " (suspended)" : ""}`,
      workload: r.workload,
      from: r.from,
      to: r.to,
    });
  }
  for (const l of plane.left)
    emit({
      type: "local.left-out",
      message: `not run locally: ${l.ref}: ${l.reason}`,
      ref: l.ref,
      reason: l.reason,
    });
  let apply: ApplySummary | undefined;
  if (options.apply ?? true) {
    const client = new KubeClient(kubeConfig);
    try {
      apply = (
        await applyObjects(plane.objects, {
          client,
          applySetName: platform.metadata.name,
          waitTimeoutMs: timeoutMs,
          ...(options.sink ? { sink: options.sink } : {}),
        })
      ).summary;
    } finally {
      client.close();
    }
    // The HorizontalPodAutoscaler owns `replicas` (the Deployment is created at 1 and raised to
    // minReplicas after the rollout apply waits for): wait for every service's full count.
    await waitForReplicas(kubeConfig, platform, timeoutMs);
    emit({
      type: "local.workloads",
      message: `every service runs its replicas (${platform.spec.tenants.flatMap((t) => t.services).length} service(s))`,
      services: platform.spec.tenants.flatMap((t) => t.services).length,
    });
  }

  const f = options.file;
  const kc = `--kubeconfig ${kubeconfig}`;
  const rotatable = nodeGroups.find((g) => g.provider === "local") ?? nodeGroups[0];
  const next = [
    `export KUBECONFIG=${kubeconfig}`,
    `${kubectlPath()} get pods -A -o wide`,
    `tenkai verify isolation ${f} ${kc}`,
    ...(rotatable
      ? [
          `tenkai nodes rotate ${rotatable.group} -f ${f} ${kc}${specTarget === "local" ? "" : ` --provider ${rotatable.provider}`}`,
        ]
      : []),
    `tenkai local status ${f}`,
    `tenkai local down ${f}`,
  ];
  return {
    clusterDir,
    kubeconfig,
    reusedCluster: reused,
    specTarget,
    nodeGroups,
    dns,
    probeImage: images.probe,
    replaced: plane.replaced,
    suspended: plane.suspended,
    left: plane.left,
    apply,
    next,
    durationMs: Date.now() - started,
  };
}

/**
 * An emitter that takes `{ type, message, ...data }`: `local.script` lines at `debug`, the rest
 * at `info`, onto the one event channel.
 */
export function localEmit(sink: EventSink<LocalEvent> | undefined) {
  const raw = emitter<LocalEvent>(sink);
  return <C extends LocalEvent["code"]>(
    e: { type: C; message: string } & Extract<LocalEvent, { code: C }>["data"],
  ): void => {
    const { type, message, ...data } = e;
    raw(type === "local.script" ? "debug" : "info", type, message, data as never);
  };
}

/** Whether the apiserver behind a kubeconfig answers (a cluster already running there). */
export async function apiReady(kubeconfig: string): Promise<boolean> {
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    await kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 });
    return true;
  } catch {
    return false;
  }
}

/** Waits until every tenant service's Deployment has its HPA minimum of Ready replicas. */
async function waitForReplicas(kubeConfig: KubeConfig, platform: Platform, timeoutMs: number): Promise<void> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const tenant of platform.spec.tenants) {
    for (const s of tenant.services) {
      const want = replicaBounds(s).min;
      for (;;) {
        const d = await apps
          .readNamespacedDeployment({ name: s.name, namespace: tenant.name })
          .catch(() => undefined);
        const ready = d?.status?.readyReplicas ?? 0;
        if (ready >= want) break;
        if (Date.now() > deadline)
          throw new TenkaiError(
            "LOCAL_NODES_NOT_READY",
            `Deployment ${tenant.name}/${s.name} has ${ready} of ${want} replicas Ready after ${timeoutMs / 1000} s`,
            `kubectl describe deployment -n ${tenant.name} ${s.name}, and the pods' events`,
          );
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

/** Waits until the provider reports the slot ACTIVE with every node Ready; returns the node names. */
async function waitForSlot(
  provider: NodeProvider,
  nodegroupName: string,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await provider.describeSlot(nodegroupName);
    if (s?.status === "ACTIVE") return [...s.nodeNames];
    if (Date.now() > deadline)
      throw new TenkaiError(
        "LOCAL_NODES_NOT_READY",
        `node group ${nodegroupName} was not Ready after ${timeoutMs / 1000} s (status ${s?.status ?? "missing"}, nodes ${s?.nodeNames.join(", ") || "none"})`,
        "look at the nodes with kubectl describe node, and at the kubelet logs in the cluster directory",
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The kubectl the cluster scripts build (cluster/build/versions.env), else plain `kubectl`. */
export function kubectlPath(): string {
  try {
    const env = readFileSync(clusterScriptPath("build/versions.env"), "utf8");
    // The scripts' rule: TENKAI_KUBERNETES_VERSION, else the default version.
    const v = process.env.TENKAI_KUBERNETES_VERSION ?? /^KUBERNETES_DEFAULT_VERSION=(\S+)/m.exec(env)?.[1];
    if (v) return join(tenkaiCache(), "bin", `k8s-${v}`, "kubectl");
  } catch {
    // no cluster scripts: the user's kubectl
  }
  return "kubectl";
}
