/**
 * Staging first across two clusters: two local control planes (kwok nodes only, no real nodes, no
 * lock), both started on v1.35.4, one per environment, each reached through its own kubeconfig
 * context as platform.yaml names it (staging promotesTo production). `tenkai upgrade run --to 1.36`
 * as a user runs it (the CLI in a child process, -o json):
 *
 * 1. production is refused before staging ran: exit 1, UPGRADE_PREDECESSOR_NOT_VERIFIED, the message
 *    names staging and where its record is, the fix names the command to run; production is not
 *    touched (still v1.35.4, no run recorded in its cluster).
 * 2. staging passing another target (1.35, which it runs already: the run only verifies and records
 *    it) does not count for 1.36.
 * 3. staging's run to 1.36 with a red verification (a Deployment that cannot become available)
 *    records nothing for 1.36: production is still refused.
 * 4. staging's run resumes at the verification once the cluster is whole: green, v1.36.3, the record
 *    lands in staging's cluster (not production's).
 * 5. staging unreachable (production's kubeconfig sends staging's context to a closed port): refused
 *    with UPGRADE_PREDECESSOR_UNREADABLE, a different message naming staging and its context, even
 *    though staging's record exists: a record that cannot be read never counts as passed.
 * 6. an entry under 1.36 that is not a record of staging passing 1.36 does not count.
 * 7. production's run is then allowed (the promotion event says verified) and completes: control
 *    plane and its kwok node on v1.36.3, its own record in its own cluster.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, type KubeConfig, VersionApi } from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { mergePatch } from "../../src/rotation/cluster.js";
import {
  clusterPrerequisiteProblem,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../support/cluster.js";
import { type CliRun, platformWithEnvironments, tenkaiJson } from "../support/upgrade-cli.js";

const FROM = "v1.35.4";
const TO_RELEASE = /^v1\.36\.\d+$/;

let staging: TestCluster | undefined;
let production: TestCluster | undefined;
let why = "";
before(async () => {
  const problem = clusterPrerequisiteProblem(FROM) ?? clusterPrerequisiteProblem("v1.36.3");
  if (problem) why = problem;
  else {
    [staging, production] = await Promise.all([
      startTestCluster({ kubernetesVersion: FROM }),
      startTestCluster({ kubernetesVersion: FROM }),
    ]);
    if (!staging || !production) why = testClusterUnavailableReason();
  }
  if (why) process.stderr.write(`upgrade-staging-first: skipping: ${why}\n`);
});
after(async () => {
  await Promise.all([staging?.stop(), production?.stop()]);
});

/** One kubeconfig with both clusters, each under its environment's context. */
function kubeconfigFor(
  clusters: { context: string; kc: KubeConfig; server?: string }[],
  current: string,
): string {
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: clusters.map(({ context, kc, server }) => {
      const c = kc.getCurrentCluster() ?? assert.fail("no cluster in the test kubeconfig");
      return {
        name: context,
        cluster: { server: server ?? c.server, "certificate-authority": c.caFile },
      };
    }),
    users: clusters.map(({ context, kc }) => {
      const u = kc.getCurrentUser() ?? assert.fail("no user in the test kubeconfig");
      return { name: context, user: { "client-certificate": u.certFile, "client-key": u.keyFile } };
    }),
    contexts: clusters.map(({ context }) => ({
      name: context,
      context: { cluster: context, user: context },
    })),
    "current-context": current,
  };
  const file = join(mkdtempSync(join(tmpdir(), "tenkai-two-clusters-")), "kubeconfig");
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const version = async (c: TestCluster) => (await c.kubeConfig.makeApiClient(VersionApi).getCode()).gitVersion;

async function configMapData(c: TestCluster, name: string): Promise<Record<string, string> | undefined> {
  try {
    const cm = await c.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ name, namespace: "tenkai-system" });
    return cm.data ?? {};
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

function errorOf(r: CliRun): { code: string; message: string; fix: string } {
  assert.equal(r.code, 1, `exit code\n${r.stdout}\n${r.stderr}`);
  return r.doc.error as { code: string; message: string; fix: string };
}

describe("upgrade run: staging first across two clusters", () => {
  let file = "";
  let kubeconfig = "";
  const run = (env: "staging" | "production", extra: string[] = [], kcfg = kubeconfig) =>
    tenkaiJson([
      "upgrade",
      "run",
      "--to",
      "1.36",
      "-f",
      file,
      "-e",
      env,
      "--kubeconfig",
      kcfg,
      "--cluster-dir",
      (env === "staging" ? staging?.dir : production?.dir) ?? assert.fail(),
      "--timeout",
      "10m",
      ...extra,
    ]).done;

  before(async () => {
    if (!staging?.dir || !production?.dir) return;
    kubeconfig = kubeconfigFor(
      [
        { context: "staging-local", kc: staging.kubeConfig },
        { context: "production-local", kc: production.kubeConfig },
      ],
      "production-local",
    );
    file = platformWithEnvironments(
      "staging-local",
      "- { name: general, instanceTypes: [m6i.xlarge], min: 1, max: 3, desired: 1, activeSlot: blue }",
      "production-local",
    );
    // The node group as tenkai local up makes it: one kwok node on v1.35.4 in each cluster.
    for (const c of [staging, production]) {
      await new KwokNodeProvider({ kubeConfig: c.kubeConfig, taintFakeNodes: true }).createSlot({
        group: "general",
        slot: "blue",
        nodegroupName: "general-blue",
        instanceTypes: ["m6i.xlarge"],
        desired: 1,
        min: 1,
        max: 3,
        zones: ["ap-northeast-1a"],
        kubernetesVersion: FROM.slice(1),
        labels: {},
        taints: [],
        capacityType: "ON_DEMAND",
      });
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      await waitFor(`a Ready kwok node at ${FROM}`, 120_000, async () =>
        (await core.listNode()).items.some(
          (n) =>
            n.status?.nodeInfo?.kubeletVersion === FROM &&
            n.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True"),
        ),
      );
    }
  });

  it("refuses production before staging ran: names staging, where its record is, and what to run", async (t) => {
    if (!staging || !production) return t.skip(why);
    const r = await run("production");
    const err = errorOf(r);
    assert.equal(err.code, "UPGRADE_PREDECESSOR_NOT_VERIFIED");
    assert.match(err.message, /production may start 1\.36 only after staging \(promotesTo: production\)/);
    assert.match(
      err.message,
      /ConfigMap tenkai-system\/upgrade-verified in staging's cluster \(context staging-local\) has no record for 1\.36/,
    );
    assert.ok(err.fix.includes(`tenkai upgrade run --to 1.36 -f ${file} -e staging`), err.fix);
    assert.equal(r.events.find((e) => e.code === "upgrade.run.promotion")?.data.verified, false);
    assert.equal(await version(production), FROM, "production's control plane did not move");
    assert.equal(await configMapData(production, "upgrade-run"), undefined, "no run recorded in production");
  });

  it("staging passing another target (1.35) does not count for 1.36", async (t) => {
    if (!staging || !production) return t.skip(why);
    const s = await tenkaiJson([
      "upgrade",
      "run",
      "--to",
      "1.35",
      "-f",
      file,
      "-e",
      "staging",
      "--kubeconfig",
      kubeconfig,
      "--cluster-dir",
      staging.dir ?? "",
    ]).done;
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.equal(
      JSON.parse((await configMapData(staging, "upgrade-verified"))?.["1.35"] ?? "{}").version,
      FROM,
    );
    const err = errorOf(await run("production"));
    assert.equal(err.code, "UPGRADE_PREDECESSOR_NOT_VERIFIED");
    assert.match(err.message, /has no record for 1\.36/);
    assert.equal(await version(production), FROM);
  });

  it("a red staging verification to 1.36 records nothing: production is still refused", async (t) => {
    if (!staging || !production) return t.skip(why);
    // A Deployment that no node can run: the verification after the move is red.
    const core = staging.kubeConfig.makeApiClient(CoreV1Api);
    const apps = staging.kubeConfig.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: "stuck" } } });
    await apps.createNamespacedDeployment({
      namespace: "stuck",
      body: {
        metadata: { name: "nowhere" },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "nowhere" } },
          template: {
            metadata: { labels: { app: "nowhere" } },
            spec: { nodeSelector: { "example.com/none": "true" }, containers: [{ name: "a", image: "x:1" }] },
          },
        },
      },
    });
    const s = await run("staging");
    const err = errorOf(s);
    assert.equal(err.code, "UPGRADE_VERIFY_FAILED", err.message);
    assert.match(err.message, /Deployment stuck\/nowhere: 0\/1 available/);
    assert.match(await version(staging), TO_RELEASE, "staging's control plane moved before the verification");
    assert.equal((await configMapData(staging, "upgrade-verified"))?.["1.36"], undefined);
    const refused = errorOf(await run("production"));
    assert.equal(refused.code, "UPGRADE_PREDECESSOR_NOT_VERIFIED");
    assert.match(refused.message, /has no record for 1\.36/);
    assert.equal(await version(production), FROM);
    await apps.deleteNamespacedDeployment({ name: "nowhere", namespace: "stuck" });
  });

  it("staging resumes at the verification, goes green and records 1.36 in its own cluster", async (t) => {
    if (!staging || !production) return t.skip(why);
    const s = await run("staging");
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.equal(s.doc.phase, "done");
    assert.equal(s.doc.resumed, true);
    assert.ok(s.events.some((e) => e.code === "upgrade.run.recorded"));
    const rec = JSON.parse((await configMapData(staging, "upgrade-verified"))?.["1.36"] ?? "{}");
    assert.equal(rec.environment, "staging");
    assert.equal(rec.target, "1.36");
    assert.match(rec.version, TO_RELEASE);
    assert.equal(
      await configMapData(production, "upgrade-verified"),
      undefined,
      "nothing written in production",
    );
  });

  it("staging unreachable: refused with a different message, never counted as passed", async (t) => {
    if (!staging || !production) return t.skip(why);
    const unreachable = kubeconfigFor(
      [
        {
          context: "staging-local",
          kc: staging.kubeConfig,
          server: `https://127.0.0.1:${await closedPort()}`,
        },
        { context: "production-local", kc: production.kubeConfig },
      ],
      "production-local",
    );
    const r = await run("production", [], unreachable);
    const err = errorOf(r);
    assert.equal(err.code, "UPGRADE_PREDECESSOR_UNREADABLE", err.message);
    assert.match(
      err.message,
      /cannot read whether staging passed 1\.36 from ConfigMap tenkai-system\/upgrade-verified in staging's cluster \(context staging-local\)/,
    );
    assert.match(err.message, /never counts as passed/);
    assert.match(err.fix, /context staging-local/);
    assert.equal(await version(production), FROM);
    assert.equal(await configMapData(production, "upgrade-run"), undefined);
  });

  it("an entry under 1.36 that is not staging passing 1.36 does not count", async (t) => {
    if (!staging || !production) return t.skip(why);
    const core = staging.kubeConfig.makeApiClient(CoreV1Api);
    const good = (await configMapData(staging, "upgrade-verified"))?.["1.36"] ?? assert.fail();
    const patch = (value: string) =>
      core.patchNamespacedConfigMap(
        { name: "upgrade-verified", namespace: "tenkai-system", body: { data: { "1.36": value } } },
        mergePatch,
      );
    const cases: [string, RegExp][] = [
      [
        JSON.stringify({ ...JSON.parse(good), version: FROM }),
        /control plane version v1\.35\.4 is not on 1\.36/,
      ],
      [JSON.stringify({ ...JSON.parse(good), target: "1.35" }), /names target 1\.35, not 1\.36/],
      [JSON.stringify({ ...JSON.parse(good), environment: "qa" }), /written by qa, not staging/],
      ["passed", /not valid JSON/],
    ];
    try {
      for (const [value, reason] of cases) {
        await patch(value);
        const err = errorOf(await run("production"));
        assert.equal(err.code, "UPGRADE_PREDECESSOR_NOT_VERIFIED", err.message);
        assert.match(err.message, /does not count as staging passing it/);
        assert.match(err.message, reason);
      }
    } finally {
      await patch(good);
    }
    assert.equal(await version(production), FROM);
  });

  it("production is then allowed and completes on 1.36, recording its own pass in its own cluster", async (t) => {
    if (!staging || !production) return t.skip(why);
    const r = await run("production");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const promo = r.events.find((e) => e.code === "upgrade.run.promotion");
    assert.equal(promo?.data.verified, true);
    assert.match(String(promo?.data.where), /staging's cluster \(context staging-local\)/);
    assert.equal(r.doc.phase, "done");
    assert.match(await version(production), TO_RELEASE);
    const nodes = (await production.kubeConfig.makeApiClient(CoreV1Api).listNode()).items;
    assert.ok(nodes.length > 0);
    for (const n of nodes)
      assert.match(n.status?.nodeInfo?.kubeletVersion ?? "", TO_RELEASE, n.metadata?.name);
    const rec = JSON.parse((await configMapData(production, "upgrade-verified"))?.["1.36"] ?? "{}");
    assert.equal(rec.environment, "production");
  });
});
