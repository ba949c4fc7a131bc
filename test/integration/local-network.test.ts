/**
 * `tenkai local up` on real nodes, then `tenkai verify isolation --checks network` on it: first on
 * the platform as rendered (every cross-tenant, node and metadata connection must fail, controls
 * connect), then with a planted breach (NetworkPolicies that let tenant alpha reach tenant beta),
 * which must exit 1 naming both policies. Real kubelets, real pods, real packets; skips with the
 * printed reason where the machine cannot run real nodes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CoreV1Api, NetworkingV1Api } from "@kubernetes/client-node";
import { localImages } from "../../src/providers/local/images.js";
import { loadPlatform } from "../../src/spec/load.js";
import { verifyNetworkIsolation } from "../../src/verify/network/network.js";
import { tenkai as cli, localPlatform, realNodeSkip } from "../support/local-platform.js";

const SPEC = `apiVersion: tenkai.dev/v1alpha1
kind: Platform
metadata: { name: nettest }
spec:
  target: local
  aws: { account: "123456789012", region: ap-northeast-1 }
  cluster: { version: "1.35" }
  network: { azs: 2 }
  nodeGroups:
    - { name: general, instanceTypes: [m6i.large], min: 2, max: 4, desired: 2, local: { nodes: real } }
  tenants:
    - name: alpha
      quota: { cpu: "2", memory: 2Gi, pods: 10 }
      services:
        - { name: web, image: web, tag: "1.0.0", port: 8080, replicas: 2, resources: { cpu: 50m, memory: 64Mi } }
    - name: beta
      quota: { cpu: "2", memory: 2Gi, pods: 10 }
      services:
        - { name: api, image: api, tag: "1.0.0", port: 3000, replicas: 2, resources: { cpu: 50m, memory: 64Mi } }
`;

const skip = realNodeSkip("local-network");

describe("tenkai local up and network isolation on real nodes", { skip: skip ?? false }, () => {
  const lp = localPlatform(SPEC, "local-net");
  const { file, events } = lp;

  it("local up starts real nodes, DNS, and every workload on the probe image, and says so", async () => {
    const up = lp.up;
    assert.deepEqual(
      up.nodeGroups.map((g) => [g.nodegroupName, g.provider, g.nodes.length]),
      [["general-blue", "local", 2]],
    );
    assert.equal(up.dns, true);
    const probe = localImages().probe;
    assert.deepEqual(up.replaced.map((r) => r.workload).sort(), ["alpha/web", "beta/api"]);
    assert.ok(events.some((e) => e.code === "local.image" && e.message.includes(probe)));
    const pods = await lp.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "beta" });
    const ready = pods.items.filter((p) =>
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    assert.equal(ready.length, 2, "beta's two pods run and are Ready on real nodes");
    assert.ok(ready.every((p) => p.spec?.containers[0]?.image === probe && p.status?.podIP));
  });

  it("every connection that must fail fails, and the controls connect", async () => {
    const platform = await loadPlatform(file);
    const report = await verifyNetworkIsolation({
      platform,
      kubeConfig: lp.kc,
      probeImage: localImages().probe,
    });
    const kinds = (k: string) => report.probes.filter((p) => p.kind === k);
    for (const k of ["pod", "service", "node", "metadata", "own-pod", "own-service", "dns"])
      assert.ok(kinds(k).length > 0, `probes of kind ${k} ran`);
    assert.deepEqual(
      report.probes.filter((p) => !p.ok).map((p) => `${p.from} -> ${p.kind} ${p.target}: ${p.detail}`),
      [],
    );
    assert.equal(report.ok, true);
  });

  it("a planted cross-tenant allow is a breach: the command exits 1 naming both policies", async () => {
    const net = lp.kc.makeApiClient(NetworkingV1Api);
    await net.createNamespacedNetworkPolicy({
      namespace: "alpha",
      body: {
        metadata: { name: "leak-to-beta" },
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "beta" } } }] },
          ],
        },
      },
    });
    await net.createNamespacedNetworkPolicy({
      namespace: "beta",
      body: {
        metadata: { name: "let-alpha-in" },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [
            { _from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "alpha" } } }] },
          ],
        },
      },
    });
    // The policy agents apply new policies asynchronously: the command is run until it sees the breach.
    const deadline = Date.now() + 60_000;
    let r = await cli(["verify", "isolation", file, "--checks", "network", "--kubeconfig", lp.up.kubeconfig]);
    while (r.code === 0 && Date.now() < deadline) {
      r = await cli(["verify", "isolation", file, "--checks", "network", "--kubeconfig", lp.up.kubeconfig]);
    }
    assert.equal(r.code, 1, `exit code (stdout: ${r.stdout}\nstderr: ${r.stderr})`);
    assert.match(r.stdout, /BREACH network: alpha\/web-[a-z0-9-]+ \([\d.]+\) reached pod beta\/api-/);
    assert.match(
      r.stdout,
      /allowed by NetworkPolicy alpha\/leak-to-beta \(egress\), beta\/let-alpha-in \(ingress\)/,
    );
    assert.match(r.stdout, /reached service beta\/api 10\.96\.[\d.]+:3000/);
    assert.doesNotMatch(r.stdout, /BREACH network: beta\//, "beta still cannot reach alpha");
  });
});
