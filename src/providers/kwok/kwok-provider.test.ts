/**
 * Runs the shared NodeProvider conformance suite against kwok in a local cluster
 * (test/support/cluster.ts; skips with the printed reason where Go or the binaries are missing).
 */
import { after } from "node:test";
import {
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
} from "../../../test/support/cluster.js";
import { nodeProviderConformance } from "../../../test/support/provider-conformance.js";
import { KwokNodeProvider } from "./kwok-provider.js";

let cluster: TestCluster | undefined;
after(async () => {
  await cluster?.stop();
});

nodeProviderConformance("kwok", async () => {
  cluster = await startTestCluster();
  if (!cluster) return `no local cluster: ${testClusterUnavailableReason()}`;
  return {
    provider: new KwokNodeProvider({ kubeConfig: cluster.kubeConfig }),
    kubeConfig: cluster.kubeConfig,
    zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    instanceTypes: ["m6i.large", "c7i.xlarge"],
    kubernetesVersion: "1.36",
    readyTimeoutMs: 20_000,
    goneTimeoutMs: 20_000,
  };
});
