/**
 * The data-path verification of `upgrade run` without a cluster: a check after the node rotation
 * is held to the baseline by what it is (the nodes are new), the losses name the node and the pod
 * pair, a kwok-only cluster is said not probed, and the baseline is one round without churn while
 * the verification churns and soaks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeConfig } from "@kubernetes/client-node";
import { TenkaiError } from "../shared/errors.js";
import type { DatapathCheck, NetworkVerification, NetworkVerifyOptions } from "../verify/network/index.js";
import { lossesOf, toBaseline } from "../verify/network/index.js";
import type { VerifyStep } from "./run-types.js";
import {
  classOfCheck,
  classOfKey,
  compareWithBaseline,
  datapathBaseline,
  datapathVerify,
} from "./verify-datapath.js";

function pair(from: string, fromSet: string, to: string, toSet: string, ok = true): DatapathCheck {
  return {
    key: `pod-pair ${from}/${fromSet} -> ${to}/${toSet}`,
    kind: "pod-pair",
    from: {
      node: from,
      pod: `tenkai-system/p-${fromSet}-${from}`,
      role: fromSet,
      ip: `10.0.${from.length}.${fromSet === "a" ? 2 : 3}`,
    },
    to: {
      node: to,
      pod: `tenkai-system/p-${toSet}-${to}`,
      role: toSet,
      ip: `10.0.${to.length}.${toSet === "a" ? 2 : 3}`,
    },
    port: 8080,
    scope: from === to ? "same-node" : "cross-node",
    ok,
    detail: ok ? "connected" : "dial tcp: i/o timeout",
    rounds: 1,
    failures: ok ? 0 : 1,
  };
}

function checksOn(nodes: string[], lost: (c: DatapathCheck) => boolean = () => false): DatapathCheck[] {
  const out: DatapathCheck[] = [];
  for (const s of nodes)
    for (const ss of ["a", "b"])
      for (const d of nodes)
        for (const ds of ["a", "b"]) {
          if (s === d && ss === ds) continue;
          const c = pair(s, ss, d, ds);
          out.push(lost(c) ? pair(s, ss, d, ds, false) : c);
        }
  const dns: DatapathCheck = {
    key: `dns-pod ${nodes[0]}/a -> ${nodes[0]}/coredns2`,
    kind: "dns-pod",
    from: { node: nodes[0] as string, pod: "tenkai-system/p", role: "a", ip: "10.0.0.2" },
    to: { node: nodes[0] as string, pod: "kube-system/coredns-x", role: "coredns2", ip: "10.0.0.9" },
    port: 53,
    scope: "same-node",
    ok: true,
    detail: "resolved",
    rounds: 1,
    failures: 0,
  };
  return [...out, dns];
}

function verification(checks: DatapathCheck[], nodes: string[]): NetworkVerification {
  const losses = lossesOf(checks);
  return {
    ok: losses.length === 0,
    checks,
    losses,
    nodes,
    skippedNodes: [{ node: "general-blue-0", reason: "kwok node" }],
    nodesWithoutProbes: [],
    churned: true,
    soak: { seconds: 10, rounds: 3, failedRounds: losses.length ? 1 : 0 },
    baseline: toBaseline(checks, nodes, "2026-12-02T04:00:00.000Z"),
    ms: 1,
  };
}

const kubeConfig = {} as KubeConfig;
const step: VerifyStep = { minor: "1.36", target: "1.36" };

describe("upgrade run: the data path against the baseline", () => {
  it("a key of the baseline and a check of today name the same class whatever the nodes", () => {
    const nodes = ["web-blue-0", "web-blue-1"];
    for (const c of checksOn(nodes)) assert.equal(classOfKey(c.key, nodes), classOfCheck(c), c.key);
    assert.equal(classOfKey("pod-pair web-blue-0/a -> web-blue-0/b", nodes), "pod-pair same-node a -> b");
    assert.equal(classOfKey("pod-pair web-blue-0/a -> web-blue-1/b", nodes), "pod-pair cross-node a -> b");
    assert.equal(
      classOfKey("service web-blue-0/a -> tenkai-system/tenkai-netprobe", nodes),
      "service a -> tenkai-system/tenkai-netprobe",
    );
    assert.equal(classOfKey("not a key", nodes), undefined);
  });

  it("after the rotation a same-node pair lost on a new node is named by node and pod pair", () => {
    const before = toBaseline(checksOn(["web-blue-0", "web-blue-1"]), ["web-blue-0", "web-blue-1"], "T0");
    const now = ["web-green-0", "web-green-1"];
    const checks = checksOn(now, (c) => c.scope === "same-node" && c.from.node === "web-green-1");
    const cmp = compareWithBaseline(before, verification(checks, now));
    assert.deepEqual(cmp.lost.map((r) => r.key).sort(), [
      "pod-pair web-green-1/a -> web-green-1/b",
      "pod-pair web-green-1/b -> web-green-1/a",
    ]);
    assert.deepEqual(cmp.lost[0]?.nodes, ["web-green-1"]);
    assert.match(cmp.lost[0]?.pair ?? "", /^tenkai-system\/p-\w-web-green-1 \([\d.]+ on web-green-1\) -> /);
    assert.deepEqual(cmp.stillFailing, []);
    assert.deepEqual(cmp.classesGone, []);
    assert.deepEqual(cmp.nodesBefore, ["web-blue-0", "web-blue-1"]);
  });

  it("a class that failed in the baseline is reported as still failing, not as lost; a class gone is named", () => {
    const nodes = ["n1", "n2"];
    const before = toBaseline(
      checksOn(nodes, (c) => c.scope === "cross-node" && c.from.role === "a" && c.to.role === "a"),
      nodes,
      "T0",
    );
    const now = checksOn(nodes, (c) => c.scope === "cross-node" && c.from.role === "a" && c.to.role === "a");
    const cmp = compareWithBaseline(
      before,
      verification(
        now.filter((c) => c.kind !== "dns-pod"),
        nodes,
      ),
    );
    assert.deepEqual(cmp.lost, []);
    assert.equal(cmp.stillFailing.length, 2);
    assert.deepEqual(cmp.classesGone, ["dns-pod same-node a -> coredns"]);
  });

  it("the baseline is one round without churn; the verification churns, soaks and compares", async () => {
    const calls: NetworkVerifyOptions[] = [];
    const blue = ["web-blue-0"];
    const green = ["web-green-0"];
    let next = verification(checksOn(blue), blue);
    const fake = async (o: NetworkVerifyOptions) => {
      calls.push(o);
      return next;
    };
    const b = await datapathBaseline({ kubeConfig, verifyNetwork: fake })();
    assert.equal(b.ok, true);
    assert.match(b.summary, /3 probes on 1 real node\(s\) \(web-blue-0\), all connected/);
    assert.equal(calls[0]?.churn, false);
    assert.equal(calls[0]?.soakSeconds, undefined);

    next = verification(
      checksOn(green, (c) => c.scope === "same-node" && c.kind === "pod-pair"),
      green,
    );
    const v = await datapathVerify({ kubeConfig, verifyNetwork: fake, soakSeconds: 10 })({
      ...step,
      ...(b.baseline ? { baseline: b.baseline } : {}),
    });
    assert.equal(calls[1]?.churn, true);
    assert.equal(calls[1]?.soakSeconds, 10);
    assert.equal(calls[1]?.baseline?.kind, "NetworkBaseline");
    assert.equal(v.ok, false);
    assert.match(v.summary, /after churn, 3 round\(s\) over 10 s/);
    assert.match(
      v.summary,
      /2 lost since the baseline of 2026-12-02T04:00:00.000Z: web-green-0: pod-pair web-green-0\/a -> web-green-0\/b \(tenkai-system\/p-a-web-green-0/,
    );

    next = verification(checksOn(green), green);
    const green2 = await datapathVerify({ kubeConfig, verifyNetwork: fake })({
      ...step,
      ...(b.baseline ? { baseline: b.baseline } : {}),
    });
    assert.equal(green2.ok, true);
    assert.match(green2.summary, /0 lost; baseline of 2026-12-02T04:00:00.000Z on web-blue-0/);
  });

  it("a baseline with a loss is not green, naming the node and the pair", async () => {
    const nodes = ["n1"];
    const fake = async () =>
      verification(
        checksOn(nodes, (c) => c.from.role === "b" && c.kind === "pod-pair"),
        nodes,
      );
    const b = await datapathBaseline({ kubeConfig, verifyNetwork: fake })();
    assert.equal(b.ok, false);
    assert.match(b.summary, /1 loss\(es\) before the upgrade: n1: pod-pair n1\/b -> n1\/a/);
  });

  it("a kwok-only cluster: the data path is said not probed, and that is not a failure", async () => {
    const fake = async (): Promise<NetworkVerification> => {
      throw new TenkaiError("VERIFY_NO_REAL_NODES", "the cluster has no real nodes (3 kwok node(s))", "x");
    };
    const b = await datapathBaseline({ kubeConfig, verifyNetwork: fake })();
    assert.deepEqual([b.ok, b.baseline], [true, undefined]);
    assert.match(b.summary, /^data path not probed: the cluster has no real nodes/);
    const v = await datapathVerify({ kubeConfig, verifyNetwork: fake })(step);
    assert.equal(v.ok, true);
    assert.match(v.summary, /^data path not probed/);
  });
});
