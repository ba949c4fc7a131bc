/**
 * The data path on real nodes (cluster/node.sh: containerd, kubelet, kube-proxy and kube-router
 * in a network namespace each, CoreDNS as pods): pods reach pods on their node and across nodes,
 * a Service ClusterIP through kube-proxy, names through CoreDNS, the Kubernetes plane's tenant
 * NetworkPolicies enforced (tenant A reaches A, not B; the ALB subnets' allow admits its traffic),
 * readiness gates Endpoints, termination runs preStop and honours the grace period.
 *
 * Every check runs the probe binary (cluster/images/probe) in a real pod, or in a client network
 * namespace with an address in a public subnet (cluster/client.sh) for the ALB's traffic.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, DiscoveryV1Api, type V1Pod } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/api/client.js";
import { networkPolicies } from "../../src/kube/render/network-policies.js";
import { WORKLOAD_LABEL } from "../../src/shared/kube-names.js";
import { loadPlatform } from "../../src/spec/load.js";
import { subnetPlan } from "../../src/spec/network.js";
import {
  clusterImages,
  createNamespace,
  probeBinary,
  runClusterScript,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../support/cluster.js";

const example = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
const PROBE = clusterImages().PROBE_IMAGE ?? "tenkai.local/probe:0.1.0";
let cluster: TestCluster | undefined;
let core: CoreV1Api;

before(async () => {
  cluster = await startTestCluster({ realNodes: [{ name: "node-a" }, { name: "node-b" }] });
  if (!cluster) return;
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});
after(async () => {
  await cluster?.stop();
});

const skipped = (t: { skip: (m: string) => void }) => {
  if (cluster) return false;
  t.skip(`no local cluster with real nodes: ${testClusterUnavailableReason()}`);
  return true;
};

interface ServeOptions {
  labels?: Record<string, string>;
  args?: string[];
  readinessProbe?: boolean;
  grace?: number;
  preStop?: string[];
}

/** A probe server pod on `node`; resolves once it is Running (and Ready, with a readiness probe: not waited). */
async function serve(ns: string, name: string, node: string, opts: ServeOptions = {}): Promise<V1Pod> {
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels: { ...opts.labels, "test.tenkai.dev/pod": name } },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": node },
        terminationGracePeriodSeconds: opts.grace ?? 2,
        containers: [
          {
            name: "probe",
            image: PROBE,
            imagePullPolicy: "Never",
            args: ["serve", "--http", ":8080", "--tcp", ":9000", ...(opts.args ?? [])],
            env: [
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            ],
            ports: [{ containerPort: 8080 }, { containerPort: 9000 }],
            ...(opts.readinessProbe
              ? {
                  readinessProbe: {
                    httpGet: { path: "/readyz", port: 8080 },
                    periodSeconds: 1,
                    failureThreshold: 1,
                  },
                }
              : {}),
            ...(opts.preStop ? { lifecycle: { preStop: { exec: { command: opts.preStop } } } } : {}),
          },
        ],
      },
    },
  });
  return waitFor(`pod ${ns}/${name} running`, 120_000, async () => {
    const pod = await core.readNamespacedPod({ namespace: ns, name });
    return pod.status?.phase === "Running" && pod.status.podIP ? pod : undefined;
  });
}

interface ProbeResult {
  ok: boolean;
  out: Record<string, unknown>;
}

/** Runs `probe ARGS...` once in a new pod on `node`; ok = exit 0. */
async function probeFrom(
  ns: string,
  node: string,
  args: string[],
  labels: Record<string, string> = {},
): Promise<ProbeResult> {
  const name = `probe-${randomBytes(4).toString("hex")}`;
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": node },
        restartPolicy: "Never",
        terminationGracePeriodSeconds: 0,
        containers: [{ name: "probe", image: PROBE, imagePullPolicy: "Never", args }],
      },
    },
  });
  const phase = await waitFor(`probe pod ${ns}/${name} finished`, 120_000, async () => {
    const pod = await core.readNamespacedPod({ namespace: ns, name });
    const p = pod.status?.phase;
    return p === "Succeeded" || p === "Failed" ? p : undefined;
  });
  const log = await core.readNamespacedPodLog({ namespace: ns, name, container: "probe" });
  await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
  const last = `${log}`.trim().split("\n").at(-1) ?? "{}";
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(last) as Record<string, unknown>;
  } catch {
    out = { raw: log };
  }
  return { ok: phase === "Succeeded", out };
}

/** Retries `probeFrom` until its outcome is `want` (policy engines and Endpoints converge). */
async function probeUntil(
  want: boolean,
  ns: string,
  node: string,
  args: string[],
  labels: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<ProbeResult> {
  let last: ProbeResult | undefined;
  await waitFor(
    `probe ${args.join(" ")} from ${ns} on ${node} to ${want ? "succeed" : "fail"}`,
    timeoutMs,
    async () => {
      last = await probeFrom(ns, node, args, labels);
      return last.ok === want;
    },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last answer: ${JSON.stringify(last?.out)}`);
  });
  return last as ProbeResult;
}

describe("real nodes: cluster/node.sh input", () => {
  it("refuses, before starting anything, a label the NodeRestriction admission forbids a kubelet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenkai-node-args-"));
    try {
      const r = await runClusterScript("node.sh", [
        "up",
        "--dir",
        dir,
        "--name",
        "n1",
        "--label",
        "topology.kubernetes.io/zone=ap-northeast-1a",
        "--label",
        "node-role.kubernetes.io/worker=true",
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /may not set the label node-role\.kubernetes\.io\/worker on its own Node \(NodeRestriction/,
      );
      assert.match(r.stderr, /kubectl label node n1 node-role\.kubernetes\.io\/worker=true/);
      const bad = await runClusterScript("node.sh", [
        "up",
        "--dir",
        dir,
        "--name",
        "n1",
        "--taint",
        "a=b:Sometimes",
      ]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /--taint a=b:Sometimes: want key\[=value\]:NoSchedule\|PreferNoSchedule\|NoExecute/,
      );
      assert.deepEqual(readdirSync(dir), [], "nothing was made");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("real nodes: pods and Services", () => {
  const ns = "net";
  let a1: V1Pod;
  let a2: V1Pod;
  let b1: V1Pod;

  before(async () => {
    if (!cluster) return;
    await createNamespace(cluster.kubeConfig, ns);
    [a1, a2, b1] = await Promise.all([
      serve(ns, "a1", "node-a", { labels: { app: "echo" } }),
      serve(ns, "a2", "node-a"),
      serve(ns, "b1", "node-b", { labels: { app: "echo" } }),
    ]);
  });

  it("every real node is Ready with its own pod CIDR, and pods get addresses from it", async (t) => {
    if (skipped(t)) return;
    const c = cluster as TestCluster;
    assert.equal(c.realNodes.length, 2);
    const cidrs = new Set(c.realNodes.map((n) => n.podCIDR));
    assert.equal(cidrs.size, 2, `distinct pod CIDRs: ${[...cidrs].join(", ")}`);
    const prefix = (cidr: string) => cidr.split(".").slice(0, 3).join(".");
    const nodeA = c.realNodes.find((n) => n.name === "node-a");
    const nodeB = c.realNodes.find((n) => n.name === "node-b");
    assert.ok(nodeA && nodeB);
    assert.equal(prefix(a1.status?.podIP ?? ""), prefix(nodeA.podCIDR));
    assert.equal(prefix(b1.status?.podIP ?? ""), prefix(nodeB.podCIDR));
  });

  it("a pod reaches a pod on its own node (HTTP and TCP)", async (t) => {
    if (skipped(t)) return;
    const http = await probeFrom(ns, "node-a", ["http", `http://${a2.status?.podIP}:8080/`]);
    assert.ok(http.ok, JSON.stringify(http.out));
    assert.equal((http.out.body as Record<string, string>).pod, "a2");
    assert.equal((http.out.body as Record<string, string>).node, "node-a");
    const tcp = await probeFrom(ns, "node-a", ["connect", "--tcp", `${a2.status?.podIP}:9000`]);
    assert.ok(tcp.ok, JSON.stringify(tcp.out));
  });

  it("a pod reaches a pod on another node, and sees the caller's pod address (no NAT)", async (t) => {
    if (skipped(t)) return;
    const res = await probeFrom(ns, "node-b", ["http", `http://${a1.status?.podIP}:8080/`]);
    assert.ok(res.ok, JSON.stringify(res.out));
    const body = res.out.body as Record<string, string>;
    assert.equal(body.pod, "a1");
    assert.equal(body.node, "node-a");
    const nodeB = cluster?.realNodes.find((n) => n.name === "node-b");
    const callerPrefix = body.remote?.split(".").slice(0, 3).join(".");
    assert.equal(callerPrefix, nodeB?.podCIDR.split(".").slice(0, 3).join("."), `remote ${body.remote}`);
  });

  it("a Service ClusterIP reaches its pods on both nodes through kube-proxy", async (t) => {
    if (skipped(t)) return;
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: "echo" },
        spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const ip = svc.spec?.clusterIP;
    assert.ok(ip);
    const seen = new Set<string>();
    await waitFor("both echo pods answered through the ClusterIP", 120_000, async () => {
      const res = await probeFrom(ns, "node-b", ["http", `http://${ip}/`]);
      if (res.ok) seen.add((res.out.body as Record<string, string>).pod ?? "");
      return seen.has("a1") && seen.has("b1");
    });
    assert.deepEqual([...seen].sort(), ["a1", "b1"]);
  });

  it("names resolve through CoreDNS (the kube-dns Service), and a Service answers by name", async (t) => {
    if (skipped(t)) return;
    const svc = await core.readNamespacedService({ namespace: ns, name: "echo" });
    const dns = await probeUntil(true, ns, "node-a", ["dns", "echo.net.svc.cluster.local"]);
    assert.deepEqual(dns.out.addresses, [svc.spec?.clusterIP]);
    const api = await probeFrom(ns, "node-b", ["dns", "kubernetes.default"]);
    assert.ok(api.ok, JSON.stringify(api.out));
    assert.deepEqual(api.out.addresses, ["10.96.0.1"]);
    const byName = await probeFrom(ns, "node-a", ["http", "http://echo/"]);
    assert.ok(byName.ok, JSON.stringify(byName.out));
    const missing = await probeFrom(ns, "node-a", ["dns", "no-such-service.net.svc.cluster.local"]);
    assert.equal(missing.ok, false, "an unknown name does not resolve");
  });

  it("readiness gates Endpoints: not ready until the probe passes, then served", async (t) => {
    if (skipped(t)) return;
    const discovery = (cluster as TestCluster).kubeConfig.makeApiClient(DiscoveryV1Api);
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: "slow" },
        spec: { selector: { app: "slow" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    const readyAfterS = 8;
    const pod = await serve(ns, "slow", "node-b", {
      labels: { app: "slow" },
      args: ["--ready-after", `${readyAfterS}s`],
      readinessProbe: true,
    });
    const endpoint = async () => {
      const slices = await discovery.listNamespacedEndpointSlice({
        namespace: ns,
        labelSelector: "kubernetes.io/service-name=slow",
      });
      return slices.items
        .flatMap((s) => s.endpoints ?? [])
        .find((e) => e.addresses.includes(pod.status?.podIP ?? ""));
    };
    // Running, not ready: the endpoint is listed as not ready, and the Service has nothing to serve.
    const early = await endpoint();
    assert.notEqual(early?.conditions?.ready, true, "not ready while --ready-after runs");
    const before = await probeFrom(ns, "node-a", ["http", "--timeout", "2s", "http://slow/"]);
    assert.equal(
      before.ok,
      false,
      `no answer through the Service before ready: ${JSON.stringify(before.out)}`,
    );
    await waitFor("slow endpoint ready", 90_000, async () => (await endpoint())?.conditions?.ready === true);
    const live = await core.readNamespacedPod({ namespace: ns, name: "slow" });
    const started = live.status?.containerStatuses?.[0]?.state?.running?.startedAt;
    const readyAt = live.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
    assert.ok(started && readyAt);
    const waited = (new Date(readyAt).getTime() - new Date(started).getTime()) / 1000;
    // Condition times have whole-second precision.
    assert.ok(waited >= readyAfterS - 1, `Ready ${waited}s after start; --ready-after ${readyAfterS}s`);
    const afterReady = await probeUntil(true, ns, "node-a", ["http", "http://slow/"]);
    assert.equal((afterReady.out.body as Record<string, string>).pod, "slow");
  });

  it("termination runs preStop, delivers SIGTERM, and kills at the end of the grace period", async (t) => {
    if (skipped(t)) return;
    const recorder = await serve(ns, "recorder", "node-a");
    const recorderUrl = `http://${recorder.status?.podIP}:8080`;
    const grace = 8;
    // Ignores SIGTERM for 10 minutes (keeps serving): only the grace period's SIGKILL ends it.
    await serve(ns, "stubborn", "node-b", {
      args: ["--shutdown-delay", "600s"],
      grace,
      preStop: ["/probe", "http", `${recorderUrl}/prestop/stubborn`],
    });
    // Stops 1 s after SIGTERM: done long before its 30 s grace period.
    await serve(ns, "prompt", "node-b", { args: ["--shutdown-delay", "1s"], grace: 30 });
    const gone = async (name: string) => {
      const t0 = Date.now();
      await core.deleteNamespacedPod({ namespace: ns, name });
      await waitFor(`pod ${name} gone`, 120_000, async () => {
        try {
          await core.readNamespacedPod({ namespace: ns, name });
          return false;
        } catch {
          return true;
        }
      });
      return (Date.now() - t0) / 1000;
    };
    const [stubborn, prompt] = await Promise.all([gone("stubborn"), gone("prompt")]);
    assert.ok(stubborn >= grace, `stubborn pod gone after ${stubborn}s, grace ${grace}s`);
    assert.ok(
      stubborn < grace + 20,
      `stubborn pod gone after ${stubborn}s, grace ${grace}s (killed at the end)`,
    );
    assert.ok(
      prompt < 15,
      `prompt pod gone after ${prompt}s: SIGTERM reached it, its 30 s grace was not waited out`,
    );
    const log = `${await core.readNamespacedPodLog({ namespace: ns, name: "recorder" })}`;
    assert.match(log, /"path":"\/prestop\/stubborn"/, "the preStop hook called the recorder");
  });
});

describe("real nodes: tenant NetworkPolicies (the Kubernetes plane's) are enforced", () => {
  const shop = example.spec.tenants.find((x) => x.name === "shop");
  const users = example.spec.tenants.find((x) => x.name === "users");
  const albAddress = (() => {
    const cidr = subnetPlan(example.spec.network).public[0] ?? "10.0.192.0/21";
    const [a, b, c] = cidr.split("/")[0]?.split(".") ?? [];
    return `${a}.${b}.${c}.10`;
  })();
  let shopServer: V1Pod;
  let usersServer: V1Pod;

  before(async () => {
    if (!cluster || !shop || !users) return;
    const kc = cluster.kubeConfig;
    // Raw JSON through tenkai's own client, as apply sends it (the generated client-node models
    // would drop the ingress rules' `from`: their attribute is `_from`).
    const client = new KubeClient(kc);
    try {
      for (const tenant of [shop, users]) {
        await createNamespace(kc, tenant.name);
        for (const p of networkPolicies(example, tenant)) {
          await client.request({
            method: "POST",
            path: `/apis/networking.k8s.io/v1/namespaces/${tenant.name}/networkpolicies`,
            body: p,
          });
        }
      }
    } finally {
      client.close();
    }
    await createNamespace(kc, "outsider");
    [shopServer, usersServer] = await Promise.all([
      serve("shop", "catalog", "node-a", { labels: { [WORKLOAD_LABEL]: "catalog-api" } }),
      serve("users", "users-api", "node-a", { labels: { [WORKLOAD_LABEL]: "users-api" } }),
    ]);
  });

  it("the example's tenants have the policies this test relies on", (t) => {
    if (skipped(t)) return;
    assert.ok(shop && users);
    const names = networkPolicies(example, shop).map((p) => p.metadata.name);
    for (const n of ["default-deny", "allow-same-tenant", "allow-from-alb"]) assert.ok(names.includes(n), n);
  });

  it("another namespace's pod cannot connect to a tenant's pod (ingress default deny)", async (t) => {
    if (skipped(t)) return;
    const res = await probeUntil(false, "outsider", "node-b", [
      "connect",
      "--timeout",
      "3s",
      "--tcp",
      `${shopServer.status?.podIP}:8080`,
    ]);
    assert.equal(res.out.connected, false);
  });

  it("a tenant's pod connects to its own tenant's pods, on the same node and across nodes", async (t) => {
    if (skipped(t)) return;
    const labels = { [WORKLOAD_LABEL]: "cart-api" };
    for (const node of ["node-a", "node-b"]) {
      const res = await probeUntil(
        true,
        "shop",
        node,
        ["connect", "--retry-for", "30s", "--tcp", `${shopServer.status?.podIP}:8080`],
        labels,
      );
      assert.equal(res.out.connected, true, node);
    }
  });

  it("tenant A's pod cannot connect to tenant B's pod, nor B's to A's", async (t) => {
    if (skipped(t)) return;
    const aToB = await probeUntil(
      false,
      "shop",
      "node-b",
      ["connect", "--timeout", "3s", "--tcp", `${usersServer.status?.podIP}:8080`],
      {
        [WORKLOAD_LABEL]: "cart-api",
      },
    );
    assert.equal(aToB.out.connected, false);
    const bToA = await probeUntil(
      false,
      "users",
      "node-b",
      ["connect", "--timeout", "3s", "--tcp", `${shopServer.status?.podIP}:8080`],
      {
        [WORKLOAD_LABEL]: "auth-api",
      },
    );
    assert.equal(bToA.out.connected, false);
    // And the denial is stable, not a race: the same pair again, right after an allowed probe.
    const again = await probeFrom(
      "shop",
      "node-b",
      ["connect", "--timeout", "3s", "--tcp", `${usersServer.status?.podIP}:8080`],
      {
        [WORKLOAD_LABEL]: "cart-api",
      },
    );
    assert.equal(again.ok, false, JSON.stringify(again.out));
  });

  it("traffic from the ALB subnets reaches the routed port and nothing else", async (t) => {
    if (skipped(t)) return;
    const dir = (cluster as TestCluster).dir as string;
    const up = await runClusterScript("client.sh", [
      "up",
      "--dir",
      dir,
      "--name",
      "alb",
      "--address",
      albAddress,
    ]);
    assert.equal(up.code, 0, up.stderr);
    const probe = probeBinary();
    const from = (target: string) =>
      spawnSync(
        "bash",
        [
          new URL("../../cluster/client.sh", import.meta.url).pathname,
          "exec",
          "--dir",
          dir,
          "--name",
          "alb",
          "--",
          probe,
          "connect",
          "--timeout",
          "3s",
          "--tcp",
          target,
        ],
        { encoding: "utf8" },
      );
    // The routed service port (8080) is admitted from the ALB's subnet ...
    await waitFor(
      "ALB subnet -> catalog-api:8080 admitted",
      60_000,
      async () => from(`${shopServer.status?.podIP}:8080`).status === 0,
    );
    const ok = from(`${shopServer.status?.podIP}:8080`);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`"local":"${albAddress.replaceAll(".", "\\.")}:`),
      "the connection came from the ALB subnet address",
    );
    // ... a port no route uses is not; another tenant's routed service is admitted too (one shared ALB).
    const otherPort = from(`${shopServer.status?.podIP}:9000`);
    assert.equal(otherPort.status, 1, `port 9000 must be denied: ${otherPort.stdout}`);
    const usersRouted = from(`${usersServer.status?.podIP}:8080`);
    assert.equal(usersRouted.status, 0, `users-api is routed too: ${usersRouted.stdout}`);
  });
});
