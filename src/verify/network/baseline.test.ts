import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TenkaiError } from "../../shared/errors.js";
import { diffBaseline, lossesOf, parseBaseline, toBaseline } from "./baseline.js";
import { planDatapath } from "./datapath-plan.js";
import type { DatapathCheck } from "./datapath-types.js";

const probes = [
  { node: "n1", set: "a", namespace: "tenkai-system", name: "p-a-1", ip: "10.128.0.5" },
  { node: "n1", set: "b", namespace: "tenkai-system", name: "p-b-1", ip: "10.128.0.6" },
  { node: "n2", set: "a", namespace: "tenkai-system", name: "p-a-2", ip: "10.128.1.5" },
  { node: "n2", set: "b", namespace: "tenkai-system", name: "p-b-2", ip: "10.128.1.6" },
];

describe("planDatapath", () => {
  const plan = planDatapath({
    probes,
    coredns: [{ node: "n2", pod: "kube-system/coredns-x", ip: "10.128.1.2" }],
    dnsService: { name: "kube-system/kube-dns", ip: "10.96.0.10" },
    probeService: { name: "tenkai-system/tenkai-netprobe", ip: "10.96.0.50", port: 80 },
    probePort: 8080,
  });
  const keys = (kind: string) => plan.filter((c) => c.kind === kind).map((c) => c.key);

  it("every ordered pair of probe pods, same node and across, keyed by node and set", () => {
    assert.equal(keys("pod-pair").length, 12);
    assert.deepEqual(
      plan.filter((c) => c.scope === "same-node" && c.kind === "pod-pair").map((c) => c.key),
      ["pod-pair n1/a -> n1/b", "pod-pair n1/b -> n1/a", "pod-pair n2/a -> n2/b", "pod-pair n2/b -> n2/a"],
    );
    assert.ok(
      plan.every((c) => !c.key.includes("p-a-")),
      "keys never name pods (they change on churn)",
    );
  });

  it("DNS to every CoreDNS pod and to the Service address, and the Service VIP, from every probe pod", () => {
    assert.equal(keys("dns-pod").length, 4);
    assert.equal(keys("dns-service").length, 4);
    assert.deepEqual(keys("service").slice(0, 1), ["service n1/a -> tenkai-system/tenkai-netprobe"]);
    assert.equal(plan.find((c) => c.kind === "dns-pod")?.to.ip, "10.128.1.2");
  });
});

function check(key: string, ok: boolean, from = probes[0], to = probes[1]): DatapathCheck {
  const end = (p: (typeof probes)[number] | undefined) => ({
    node: p?.node ?? "",
    pod: `tenkai-system/${p?.name}`,
    role: p?.set ?? "",
    ip: p?.ip ?? "",
  });
  return {
    key,
    kind: key.split(" ")[0] as DatapathCheck["kind"],
    from: end(from),
    to: end(to),
    port: 8080,
    ok,
    detail: ok ? "connected" : "dial tcp 10.128.0.6:8080: i/o timeout",
    rounds: 1,
    failures: ok ? 0 : 1,
  };
}

describe("baseline", () => {
  const before = toBaseline(
    [
      check("pod-pair n1/a -> n1/b", true),
      check("dns-pod n1/a -> n2/coredns", true),
      check("service n1/b -> s", false),
    ],
    ["n2", "n1"],
    "2026-12-02T00:00:00.000Z",
  );

  it("keeps the outcome by key, the nodes sorted, and reads back what it wrote", () => {
    assert.deepEqual(before.nodes, ["n1", "n2"]);
    assert.deepEqual(parseBaseline(JSON.stringify(before), "b.json"), before);
  });

  it("a file that is not a baseline is bad input naming the file and the field", () => {
    assert.throws(
      () => parseBaseline(JSON.stringify({ ...before, checks: { x: "yes" } }), "b.json"),
      (e: unknown) =>
        e instanceof TenkaiError && e.code === "CLI_BAD_BASELINE" && /b\.json.*checks\.x/.test(e.message),
    );
    assert.throws(() => parseBaseline("{", "b.json"), /b\.json is not JSON/);
  });

  it("names what was lost and what came back, nodes gone and new, and kinds of check gone", () => {
    const d = diffBaseline(
      before,
      [
        check("pod-pair n1/a -> n1/b", false),
        check("service n1/b -> s", true),
        check("pod-pair n3/a -> n3/b", true),
      ],
      ["n1", "n3"],
    );
    assert.deepEqual(
      d.changes.map((c) => [c.change, c.key, c.nodes]),
      [
        ["lost", "pod-pair n1/a -> n1/b", ["n1"]],
        ["regained", "service n1/b -> s", ["n1"]],
      ],
    );
    assert.deepEqual(d.nodesGone, ["n2"]);
    assert.deepEqual(d.nodesNew, ["n3"]);
    assert.deepEqual(d.kindsGone, ["dns-pod"]);
  });

  it("losses name the node and the pods with their addresses; a cross-node loss is listed under both nodes", () => {
    const l = lossesOf([
      check("pod-pair n1/a -> n1/b", false),
      check("pod-pair n1/a -> n2/b", false, probes[0], probes[3]),
      check("pod-pair n2/a -> n2/b", true, probes[2], probes[3]),
    ]);
    assert.deepEqual(
      l.map((x) => [x.node, x.key]),
      [
        ["n1", "pod-pair n1/a -> n1/b"],
        ["n1", "pod-pair n1/a -> n2/b"],
        ["n2", "pod-pair n1/a -> n2/b"],
      ],
    );
    assert.equal(
      l[0]?.pair,
      "tenkai-system/p-a-1 (10.128.0.5 on n1) -> tenkai-system/p-b-1 (10.128.0.6 on n1)",
    );
  });
});
