/**
 * Runs the shared NodeProvider conformance suite against real local nodes: a local control plane
 * (test/support/cluster.ts) and nodes started by cluster/node.sh (kubelet, containerd, kube-proxy
 * in a network namespace each). Skips with the printed reason where the machine cannot run real
 * nodes (not root, packages or binaries missing).
 */
import { after } from "node:test";
import {
  realNodePrerequisiteProblem,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
} from "../../../test/support/cluster.js";
import { nodeProviderConformance } from "../../../test/support/provider-conformance.js";
import { LocalNodeProvider } from "./local-provider.js";

let cluster: TestCluster | undefined;
after(async () => {
  await cluster?.stop();
});

nodeProviderConformance("local", async () => {
  const problem = realNodePrerequisiteProblem();
  if (problem) return `real nodes cannot run here: ${problem}`;
  cluster = await startTestCluster();
  if (!cluster) return `no local cluster: ${testClusterUnavailableReason()}`;
  if (!cluster.dir)
    return "TENKAI_TEST_KUBECONFIG reuses a cluster whose directory is unknown; real nodes need it";
  return {
    provider: new LocalNodeProvider({ kubeConfig: cluster.kubeConfig, clusterDir: cluster.dir }),
    kubeConfig: cluster.kubeConfig,
    zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    instanceTypes: ["m6i.large", "c7i.xlarge"],
    kubernetesVersion: "1.36",
    // Real kubelets on a shared 2-core machine: minutes, not seconds.
    readyTimeoutMs: 300_000,
    goneTimeoutMs: 120_000,
  };
});
