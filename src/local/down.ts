/**
 * `tenkai local down` and `tenkai local status`: stop a local cluster (every process of it, real
 * nodes included: they all belong to the cluster directory) and say how one stands.
 */
import { existsSync } from "node:fs";
import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { runClusterScript, type ScriptRunner, tail } from "../providers/local/cluster-scripts.js";
import { parseNodeList } from "../providers/local/local-provider.js";
import { PROVIDER_LABEL } from "../providers/node-placement.js";
import { TenkaiError } from "../shared/errors.js";
import type { EventSink } from "../shared/events.js";
import { isClusterDir, kubeconfigOf } from "./cluster-dir.js";
import type { LocalEvent } from "./events.js";
import { apiReady, localEmit } from "./up.js";

export interface LocalDownResult {
  readonly clusterDir: string;
  readonly wasRunning: boolean;
  readonly purged: boolean;
}

/**
 * Stops the cluster in `clusterDir` (`cluster/down.sh`); `purge` also removes the directory
 * (tenkai wrote all of it). A directory with no cluster is not an error: there is nothing to stop.
 */
export async function localDown(options: {
  readonly clusterDir: string;
  readonly purge?: boolean;
  readonly sink?: EventSink<LocalEvent>;
  readonly runScript?: ScriptRunner;
}): Promise<LocalDownResult> {
  const { clusterDir } = options;
  const purge = options.purge ?? false;
  if (!existsSync(clusterDir)) return { clusterDir, wasRunning: false, purged: false };
  const wasRunning = isClusterDir(clusterDir) && (await apiReady(kubeconfigOf(clusterDir)));
  const run = options.runScript ?? ((s, a) => runClusterScript(s, a));
  const r = await run("down.sh", ["--dir", clusterDir, ...(purge ? ["--purge"] : [])]);
  if (r.code !== 0)
    throw new TenkaiError(
      "LOCAL_DOWN_FAILED",
      `cluster/down.sh exited ${r.code} stopping the cluster in ${clusterDir}:\n${tail(r.stderr)}`,
      `stop the processes listed in ${clusterDir}/run by hand, then run tenkai local down again`,
    );
  localEmit(options.sink)({
    type: "local.down",
    message: `local cluster in ${clusterDir} stopped${purge ? " and its directory removed" : ""}`,
    clusterDir,
    purged: purge,
  });
  return { clusterDir, wasRunning, purged: purge };
}

export interface LocalStatusNode {
  readonly name: string;
  readonly nodegroup: string;
  /** `local` (real), `kwok`, or `other`. */
  readonly provider: string;
  readonly ready: boolean;
  readonly address: string;
}

export interface LocalStatus {
  readonly clusterDir: string;
  readonly kubeconfig: string;
  /** `running` (the apiserver answers), `stopped` (a directory, no apiserver) or `absent`. */
  readonly state: "running" | "stopped" | "absent";
  readonly nodes: readonly LocalStatusNode[];
  /** Real nodes whose processes run (`node.sh list`). */
  readonly realNodeProcesses: readonly string[];
  /** Pods per namespace: Ready / all. */
  readonly pods: readonly { readonly namespace: string; readonly ready: number; readonly total: number }[];
}

export async function localStatus(options: {
  readonly clusterDir: string;
  readonly runScript?: ScriptRunner;
}): Promise<LocalStatus> {
  const { clusterDir } = options;
  const kubeconfig = kubeconfigOf(clusterDir);
  const base = { clusterDir, kubeconfig, nodes: [], realNodeProcesses: [], pods: [] };
  if (!existsSync(clusterDir)) return { ...base, state: "absent" };
  if (!isClusterDir(clusterDir) || !(await apiReady(kubeconfig))) return { ...base, state: "stopped" };
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const [nodes, pods] = await Promise.all([core.listNode(), core.listPodForAllNamespaces()]);
  const run = options.runScript ?? ((s, a) => runClusterScript(s, a));
  const list = await run("node.sh", ["list", "--dir", clusterDir]);
  const byNs = new Map<string, { ready: number; total: number }>();
  for (const p of pods.items) {
    const ns = p.metadata?.namespace ?? "";
    const e = byNs.get(ns) ?? { ready: 0, total: 0 };
    e.total++;
    if (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) e.ready++;
    byNs.set(ns, e);
  }
  return {
    ...base,
    state: "running",
    nodes: nodes.items.map(statusNode),
    realNodeProcesses: list.code === 0 ? parseNodeList(list.stdout).map((n) => n.name) : [],
    pods: [...byNs].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, c]) => ({ namespace, ...c })),
  };
}

function statusNode(n: V1Node): LocalStatusNode {
  const labels = n.metadata?.labels ?? {};
  return {
    name: n.metadata?.name ?? "",
    nodegroup: labels["eks.amazonaws.com/nodegroup"] ?? "",
    provider: labels[PROVIDER_LABEL] ?? "other",
    ready: n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    address: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "",
  };
}
