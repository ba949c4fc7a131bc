/**
 * The add-on table: its shape (the upgrade planner reads it too), the versions plan lists, and
 * the combinations validate refuses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eksVersions } from "../shared/data.js";
import { addonTable, incompatibility, MANAGED_ADDONS, plannedAddons } from "./addons.js";
import { definePlatform } from "./define.js";

const NOW = new Date("2026-11-28T00:00:00Z");
const platform = (version: string, addonVersions: Record<string, string> = {}) =>
  definePlatform(
    {
      apiVersion: "tenkai.dev/v1alpha1",
      kind: "Platform",
      metadata: { name: "ad" },
      spec: {
        aws: { account: "123456789012", region: "us-east-1" },
        cluster: { version, creatorAdmin: true, addonVersions },
        nodeGroups: [{ name: "g", instanceTypes: ["m6i.large"], min: 2, max: 4 }],
      },
    },
    { now: NOW },
  );

describe("data/eks-addons.json", () => {
  it("is dated, sourced, and pins every managed add-on per listed Kubernetes minor", () => {
    const t = addonTable();
    assert.match(t.asOf, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(t.source.length > 0);
    const minors = new Set(eksVersions().versions.map((v) => v.version));
    for (const name of [
      ...MANAGED_ADDONS,
      "aws-load-balancer-controller",
      "cluster-autoscaler",
      "fluent-bit",
    ]) {
      const a = t.addons[name];
      assert.ok(a, `${name} listed`);
      for (const [k8s, v] of Object.entries(a.versions)) {
        assert.ok(minors.has(k8s), `${name}: ${k8s} is a Kubernetes version EKS offers`);
        if (a.kind === "eks-addon") assert.match(v, /^v\d+\.\d+\.\d+-eksbuild\.\d+$/, `${name} ${k8s}`);
      }
    }
    for (const i of t.incompatible) {
      assert.ok(t.addons[i.addon], `incompatible names a listed add-on: ${i.addon}`);
      assert.ok(i.kubernetes === "*" || minors.has(i.kubernetes));
      assert.ok(i.reason.length > 0);
    }
  });

  it("plans the table's version for the cluster's Kubernetes version, or the spec's override", () => {
    const byName = (p: ReturnType<typeof platform>) =>
      Object.fromEntries(plannedAddons(p).map((a) => [a.name, [a.version, a.from]]));
    const table = addonTable();
    const planned = byName(platform("1.34"));
    assert.deepEqual(planned["vpc-cni"], [table.addons["vpc-cni"]?.versions["1.34"], "table"]);
    assert.deepEqual(planned["kube-proxy"], [table.addons["kube-proxy"]?.versions["1.34"], "table"]);
    const over = byName(platform("1.34", { coredns: "v1.13.2-eksbuild.4" }));
    assert.deepEqual(over.coredns, ["v1.13.2-eksbuild.4", "spec"]);
  });

  it("validate refuses a combination the table marks incompatible, naming the reason and the fix", () => {
    const bad = addonTable().incompatible.find((i) => i.kubernetes !== "*");
    assert.ok(bad, "the table lists at least one version-specific incompatibility");
    assert.ok(incompatibility(bad.addon, bad.version, bad.kubernetes));
    assert.throws(
      () => platform(bad.kubernetes, { [bad.addon]: bad.version }),
      (e: Error & { problems?: { code: string; message: string; fix?: string }[] }) => {
        const p = e.problems?.find((x) => x.code === "SPEC_ADDON_INCOMPATIBLE");
        assert.ok(p, JSON.stringify(e.problems));
        assert.match(
          p.message,
          new RegExp(`${bad.addon} ${bad.version}.*${bad.kubernetes.replace(".", "\\.")}`),
        );
        assert.match(p.fix ?? "", /eks-addons\.json/);
        return true;
      },
    );
    assert.throws(
      () => platform("1.35", { "no-such-addon": "v1.0.0" }),
      (e: Error & { problems?: { code: string }[] }) =>
        e.problems?.some((p) => p.code === "SPEC_UNKNOWN_ADDON") ?? false,
    );
  });
});
