/**
 * A verification `upgrade run` can always run, read from the API: the control plane serves the
 * step's minor, every node is Ready and runs a kubelet of that minor, every Deployment and
 * DaemonSet has all its replicas available, and no PodDisruptionBudget is below its desired
 * healthy count. It proves the cluster came back whole; it does not probe the data path — that is
 * `tenkai verify network` (src/verify/network), which the CLI passes as the run's verification
 * when it is there (see the README, "tenkai upgrade run").
 */
import type { ClusterClients } from "../rotation/cluster.js";
import type { Verify, VerifyResult } from "./run-types.js";
import { parseMinor } from "./versions.js";

export interface ClusterHealthDetails {
  readonly version: string;
  readonly nodes: number;
  readonly problems: readonly string[];
}

export function clusterHealthVerify(clients: ClusterClients, version: () => Promise<string>): Verify {
  return async (step): Promise<VerifyResult> => {
    const problems: string[] = [];
    const v = await version();
    const minorOf = (s: string | undefined) => {
      const m = parseMinor(s);
      return m ? `${m.major}.${m.minor}` : "?";
    };
    if (minorOf(v) !== step.minor) problems.push(`the API server reports ${v}, not ${step.minor}`);
    const nodes = (await clients.core.listNode()).items;
    for (const n of nodes) {
      const name = n.metadata?.name ?? "?";
      const kubelet = n.status?.nodeInfo?.kubeletVersion;
      if (minorOf(kubelet) !== step.minor)
        problems.push(`node ${name} runs kubelet ${kubelet}, not ${step.minor}`);
      if (!n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
        problems.push(`node ${name} is not Ready`);
    }
    for (const d of (await clients.apps.listDeploymentForAllNamespaces()).items) {
      const want = d.spec?.replicas ?? 1;
      const have = d.status?.availableReplicas ?? 0;
      if (have < want)
        problems.push(`Deployment ${d.metadata?.namespace}/${d.metadata?.name}: ${have}/${want} available`);
    }
    for (const ds of (await clients.apps.listDaemonSetForAllNamespaces()).items) {
      const want = ds.status?.desiredNumberScheduled ?? 0;
      const have = ds.status?.numberAvailable ?? 0;
      if (have < want)
        problems.push(`DaemonSet ${ds.metadata?.namespace}/${ds.metadata?.name}: ${have}/${want} available`);
    }
    for (const b of (await clients.policy.listPodDisruptionBudgetForAllNamespaces()).items) {
      const healthy = b.status?.currentHealthy ?? 0;
      const desired = b.status?.desiredHealthy ?? 0;
      if (healthy < desired)
        problems.push(
          `PodDisruptionBudget ${b.metadata?.namespace}/${b.metadata?.name}: ${healthy} healthy, ${desired} desired`,
        );
    }
    const details: ClusterHealthDetails = { version: v, nodes: nodes.length, problems };
    return {
      ok: problems.length === 0,
      summary:
        problems.length === 0
          ? `control plane ${v}; ${nodes.length} node(s) Ready on ${step.minor}; every Deployment, DaemonSet and budget whole`
          : `${problems.length} problem(s): ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; ..." : ""}`,
      details,
    };
  };
}
