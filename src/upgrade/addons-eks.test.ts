/** eksAddonTable against a mocked EKS API (aws-sdk-client-mock: moto does not serve add-on versions). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DescribeAddonVersionsCommand, EKSClient } from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import type { AddonTable } from "./addons.js";
import { eksAddonTable } from "./addons-eks.js";

const base: AddonTable = {
  asOf: "2026-12-01",
  source: "fixture table",
  addons: {
    "kube-proxy": { kind: "eks-addon", versions: { "1.35": "v1.35.3-eksbuild.2" } },
    "aws-load-balancer-controller": { kind: "chart", versions: { "1.35": "3.5.0", "1.36": "3.5.0" } },
  },
  incompatible: [],
};

describe("add-on versions from EKS DescribeAddonVersions", () => {
  it("takes EKS's default version per minor for EKS add-ons and keeps chart versions", async () => {
    const eks = mockClient(EKSClient);
    eks.on(DescribeAddonVersionsCommand, { addonName: "kube-proxy", kubernetesVersion: "1.36" }).resolves({
      addons: [
        {
          addonName: "kube-proxy",
          addonVersions: [
            {
              addonVersion: "v1.36.2-eksbuild.1",
              compatibilities: [{ clusterVersion: "1.36", defaultVersion: false }],
            },
            {
              addonVersion: "v1.36.1-eksbuild.3",
              compatibilities: [{ clusterVersion: "1.36", defaultVersion: true }],
            },
          ],
        },
      ],
    });
    eks
      .on(DescribeAddonVersionsCommand, { addonName: "kube-proxy", kubernetesVersion: "1.37" })
      .resolves({ addons: [] });
    const t = await eksAddonTable(
      new EKSClient({ region: "ap-northeast-1" }),
      base,
      ["1.36", "1.37"],
      new Date("2026-12-02T00:00:00Z"),
    );
    assert.deepEqual(t.addons["kube-proxy"]?.versions, {
      "1.35": "v1.35.3-eksbuild.2",
      "1.36": "v1.36.1-eksbuild.3",
    });
    assert.deepEqual(
      t.addons["aws-load-balancer-controller"]?.versions,
      base.addons["aws-load-balancer-controller"]?.versions,
    );
    assert.equal(t.asOf, "2026-12-02");
    assert.equal(eks.commandCalls(DescribeAddonVersionsCommand).length, 2, "charts are not asked for");
    eks.restore();
  });

  it("a failed call is an error with a code and a fix", async () => {
    const eks = mockClient(EKSClient);
    eks.on(DescribeAddonVersionsCommand).rejects(new Error("Could not load credentials from any providers"));
    await assert.rejects(
      eksAddonTable(new EKSClient({ region: "ap-northeast-1" }), base, ["1.36"]),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, "UPGRADE_EKS_ADDONS_UNAVAILABLE");
        assert.match((err as Error).message, /credentials/);
        return true;
      },
    );
    eks.restore();
  });
});
