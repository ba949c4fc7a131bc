/**
 * `tenkai upgrade run` against the real local control plane, kwok only (no real nodes, no lock):
 * staging first — an environment that another promotes to is refused until that one passed the
 * same target with a green verification, and the refusal names what is missing and what to run;
 * a red verification records nothing and the run resumes at it, compared with the baseline the
 * first run took before its first step. With real nodes the data path is in upgrade-run-local.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/api/client.js";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { rotationCluster } from "../../src/rotation/cluster.js";
import { isTenkaiError } from "../../src/shared/errors.js";
import { loadPlatform } from "../../src/spec/load.js";
import { LocalControlPlane, localAddons } from "../../src/upgrade/control-plane-local.js";
import { KubePromotionRecords } from "../../src/upgrade/promotion.js";
import { runUpgrade } from "../../src/upgrade/run.js";
import type { RunBaseline, UpgradeRunEvent, VerifyResult, VerifyStep } from "../../src/upgrade/run-types.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";
import { platformWithEnvironments, tenkaiJson } from "../support/upgrade-cli.js";

let cluster: TestCluster | undefined;
before(async () => {
  cluster = await startTestCluster();
});
after(() => cluster?.stop());

describe("upgrade run: staging first", () => {
  it("refuses production until staging passed the target green, naming what is missing and what to run", async (t) => {
    if (!cluster?.dir) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const context = cluster.kubeConfig.getCurrentContext();
    const file = platformWithEnvironments(
      context,
      "- { name: general, instanceTypes: [m6i.xlarge], min: 1, max: 3, desired: 1, activeSlot: blue }",
    );
    const base = ["upgrade", "run", "--to", "1.36", "-f", file, "--kubeconfig", cluster.kubeconfigPath];
    const refused = await tenkaiJson([...base, "-e", "production"]).done;
    assert.equal(refused.code, 1, refused.stderr);
    const err = refused.doc.error as { code: string; message: string; fix: string };
    assert.equal(err.code, "UPGRADE_PREDECESSOR_NOT_VERIFIED");
    assert.match(err.message, /production may start 1\.36 only after staging/);
    assert.match(err.message, /ConfigMap tenkai-system\/upgrade-verified in staging's cluster/);
    assert.match(
      err.fix,
      new RegExp(`tenkai upgrade run --to 1\\.36 -f ${file.replaceAll(".", "\\.")} -e staging`),
    );
    const promo = refused.events.find((e) => e.code === "upgrade.run.promotion");
    assert.equal(promo?.data.verified, false);

    const staging = await tenkaiJson([...base, "-e", "staging"]).done;
    assert.equal(staging.code, 0, staging.stdout + staging.stderr);
    assert.equal(staging.doc.phase, "done");
    assert.equal((staging.doc.verification as VerifyResult).ok, true);
    assert.ok(staging.events.some((e) => e.code === "upgrade.run.recorded"));
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ name: "upgrade-verified", namespace: "tenkai-system" });
    const rec = JSON.parse(cm.data?.["1.36"] ?? "{}");
    assert.equal(rec.environment, "staging");
    assert.match(rec.version, /^v1\.36\./);

    const production = await tenkaiJson([...base, "-e", "production"]).done;
    assert.equal(production.code, 0, production.stdout + production.stderr);
    assert.equal(production.events.find((e) => e.code === "upgrade.run.promotion")?.data.verified, true);
  });

  it("a red verification records nothing, stops the run, and the next run resumes at it", async (t) => {
    if (!cluster?.dir) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const context = cluster.kubeConfig.getCurrentContext();
    const file = platformWithEnvironments(
      context,
      "- { name: general, instanceTypes: [m6i.xlarge], min: 1, max: 3, desired: 1, activeSlot: blue }",
    );
    const platform = await loadPlatform(file, { environment: "staging" });
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core
      .deleteNamespacedConfigMap({ name: "upgrade-verified", namespace: "tenkai-system" })
      .catch(() => {});
    const events: UpgradeRunEvent[] = [];
    // The baseline is taken once, before the first step, and the resumed run compares with it.
    let baselines = 0;
    const seen: (RunBaseline | undefined)[] = [];
    const baseline = async () => {
      baselines++;
      return {
        ok: true,
        summary: "12 probes on n1, n2",
        baseline: { takenAt: "2026-12-02T04:00:00.000Z", summary: "12 probes on n1, n2", data: { n: 12 } },
      };
    };
    const deps = (verify: () => Promise<VerifyResult>) => ({
      cluster: rotationCluster(cluster?.kubeConfig ?? assert.fail()),
      planClient: new KubeClient(cluster?.kubeConfig ?? assert.fail()),
      controlPlane: new LocalControlPlane({
        kubeConfig: cluster?.kubeConfig ?? assert.fail(),
        clusterDir: cluster?.dir ?? "",
      }),
      addons: localAddons,
      providerFor: () => new KwokNodeProvider({ kubeConfig: cluster?.kubeConfig ?? assert.fail() }),
      verify: async (step: VerifyStep) => {
        seen.push(step.baseline);
        return verify();
      },
      baseline,
      promotions: new KubePromotionRecords({
        environment: "staging",
        core,
        coreFor: () => core,
        contextOf: () => context,
      }),
      sink: (e: UpgradeRunEvent) => events.push(e),
    });
    await assert.rejects(
      runUpgrade(
        { platform, environment: "staging", to: "1.36" },
        deps(async () => ({ ok: false, summary: "2 pod pairs lost on node n1" })),
      ),
      (e: unknown) =>
        isTenkaiError(e, "UPGRADE_VERIFY_FAILED") && /2 pod pairs lost on node n1/.test(e.message),
    );
    const failed = await core.readNamespacedConfigMap({ name: "upgrade-run", namespace: "tenkai-system" });
    assert.equal(failed.data?.phase, "failed");
    assert.equal(
      JSON.parse(failed.data?.["state.json"] ?? "{}").baseline?.takenAt,
      "2026-12-02T04:00:00.000Z",
    );
    await assert.rejects(
      core.readNamespacedConfigMap({ name: "upgrade-verified", namespace: "tenkai-system" }),
      "no record after a red verification",
    );
    const r = await runUpgrade(
      { platform, environment: "staging", to: "1.36" },
      deps(async () => ({ ok: true, summary: "all pairs reached" })),
    );
    assert.equal(r.resumed, true);
    assert.ok(events.some((e) => e.code === "upgrade.run.resumed"));
    assert.equal(baselines, 1, "the resumed run took no new baseline");
    assert.deepEqual(
      seen.map((b) => b?.data),
      [{ n: 12 }, { n: 12 }],
      "both verifications compared with it",
    );
    const cm = await core.readNamespacedConfigMap({ name: "upgrade-verified", namespace: "tenkai-system" });
    assert.equal(JSON.parse(cm.data?.["1.36"] ?? "{}").summary, "all pairs reached");
  });
});
