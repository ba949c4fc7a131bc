import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1NetworkPolicy } from "@kubernetes/client-node";
import { renderKubernetesPlane } from "../../kube/render/render.js";
import { loadPlatform } from "../../spec/load.js";
import { planProbes, type Source } from "./plan.js";
import { cidrContains, type Endpoint, evaluate } from "./policy-match.js";

/** Rendered manifests are plain objects (`from`, not the typed client's `_from`); both are read. */
function typed(o: unknown): V1NetworkPolicy {
  return o as V1NetworkPolicy;
}

describe("network policy evaluation on the rendered tenant policies", async () => {
  const platform = await loadPlatform(new URL("../../../examples/platform.yaml", import.meta.url).pathname);
  const rendered = renderKubernetesPlane(platform)
    .tenants.flatMap((t) => t.objects)
    .filter((o) => o.kind === "NetworkPolicy")
    .map(typed);
  const ns = (name: string) => ({ "kubernetes.io/metadata.name": name, "tenkai.dev/tenant": name });
  const pod = (namespace: string, name: string, ip: string): Endpoint => ({
    namespace,
    namespaceLabels: ns(namespace),
    podLabels: { "app.kubernetes.io/name": name },
    ip,
  });
  const shop = pod("shop", "catalog-api", "10.244.1.5");
  const users = pod("users", "users-api", "10.244.2.7");
  const shop2 = pod("shop", "cart-api", "10.244.3.9");

  const cases: { name: string; src: Endpoint; dst: Endpoint; port: number; allowed: boolean }[] = [
    { name: "another tenant's pod", src: shop, dst: users, port: 8080, allowed: false },
    { name: "a pod of the same tenant", src: shop, dst: shop2, port: 8080, allowed: true },
    {
      name: "a node address",
      src: shop,
      dst: { namespace: "", namespaceLabels: {}, ip: "10.64.1.2" },
      port: 10250,
      allowed: false,
    },
    {
      name: "instance metadata",
      src: shop,
      dst: { namespace: "", namespaceLabels: {}, ip: "169.254.169.254" },
      port: 80,
      allowed: false,
    },
    {
      name: "the ALB's subnets to a routed port",
      src: { namespace: "", namespaceLabels: {}, ip: "10.0.192.10" },
      dst: shop,
      port: 8080,
      allowed: true,
    },
  ];
  for (const c of cases) {
    it(`${c.allowed ? "allows" : "denies"} ${c.name}`, () => {
      assert.equal(evaluate(rendered, c.src, c.dst, c.port).allowed, c.allowed);
    });
  }

  it("names the planted policies that let another tenant in, one per direction", () => {
    const leak = [
      typed({
        metadata: { name: "leak-out", namespace: "shop" },
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "users" } } }] },
          ],
        },
      }),
      typed({
        metadata: { name: "leak-in", namespace: "users" },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } } }] },
          ],
        },
      }),
    ];
    const v = evaluate([...rendered, ...leak], shop, users, 8080);
    assert.equal(v.allowed, true);
    assert.deepEqual(v.egress, ["shop/leak-out"]);
    assert.deepEqual(v.ingress, ["users/leak-in"]);
    assert.equal(
      evaluate([...rendered, leak[1] as V1NetworkPolicy], shop, users, 8080).allowed,
      false,
      "one side alone is not enough",
    );
  });

  it("matches CIDRs bit by bit", () => {
    assert.ok(cidrContains("10.0.0.0/20", "10.0.15.255"));
    assert.ok(!cidrContains("10.0.0.0/20", "10.0.16.0"));
    assert.ok(cidrContains("0.0.0.0/0", "169.254.169.254"));
  });
});

describe("network probe plan", () => {
  const source: Source = {
    tenant: "a",
    pod: "a-1",
    container: "c",
    ip: "10.244.1.2",
    labels: { app: "x" },
    created: false,
  };
  const tenants = [
    {
      tenant: "a",
      pods: [
        { name: "a-1", ip: "10.244.1.2", labels: { app: "x" }, ports: [{ port: 8080 }] },
        { name: "a-2", ip: "10.244.2.2", labels: { app: "x" }, ports: [{ port: 8080 }] },
      ],
      services: [
        {
          name: "x",
          clusterIP: "10.96.0.10",
          ports: [{ port: 80, targetPort: 8080 }],
          selector: { app: "x" },
        },
      ],
    },
    {
      tenant: "b",
      pods: [{ name: "b-1", ip: "10.244.1.3", labels: { app: "y" }, ports: [{ name: "http", port: 3000 }] }],
      services: [
        {
          name: "y",
          clusterIP: "10.96.0.11",
          ports: [{ port: 3000, targetPort: "http" }],
          selector: { app: "y" },
        },
      ],
    },
  ];
  const probes = planProbes([source], tenants, [{ name: "n1", ip: "10.64.1.2" }]);
  const row = (kind: string) =>
    probes.filter((p) => p.kind === kind).map((p) => `${p.address}:${p.port} ${p.expect}`);

  it("probes every other tenant's pods and Services, nodes and metadata, all expected to fail", () => {
    assert.deepEqual(row("pod"), ["10.244.1.3:3000 fail"]);
    assert.deepEqual(row("service"), ["10.96.0.11:3000 fail"]);
    assert.deepEqual(row("node"), ["10.64.1.2:10250 fail"]);
    assert.deepEqual(row("metadata"), ["169.254.169.254:80 fail"]);
  });

  it("adds controls that must connect: another own pod, an own Service, DNS", () => {
    assert.deepEqual(row("own-pod"), ["10.244.2.2:8080 connect"]);
    assert.deepEqual(row("own-service"), ["10.96.0.10:80 connect"]);
    assert.equal(row("dns").length, 1);
  });
});
