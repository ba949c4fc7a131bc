/**
 * The EKS control plane and add-on moves against a mocked EKS API (aws-sdk-client-mock: moto does
 * not run cluster version updates or add-on updates).
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  ListUpdatesCommand,
  UpdateAddonCommand,
  UpdateClusterVersionCommand,
} from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { FakeClock } from "../../test/support/fake-clock.js";
import { isTenkaiError } from "../shared/errors.js";
import { EksAddons, EksControlPlane } from "./control-plane-eks.js";

const eks = mockClient(EKSClient);
const opts = () => ({
  client: new EKSClient({ region: "ap-northeast-1" }),
  clusterName: "web",
  pollMs: 30_000,
});

describe("EKS control plane upgrade", () => {
  beforeEach(() => eks.reset());

  it("calls UpdateClusterVersion once and polls DescribeUpdate until Successful", async () => {
    let version = "1.35";
    eks.on(DescribeClusterCommand).callsFake(() => ({ cluster: { name: "web", version } }));
    eks.on(ListUpdatesCommand).resolves({ updateIds: [] });
    eks.on(UpdateClusterVersionCommand).resolves({ update: { id: "u-1", status: "InProgress" } });
    let polls = 0;
    eks.on(DescribeUpdateCommand, { name: "web", updateId: "u-1" }).callsFake(() => {
      polls++;
      if (polls < 3) return { update: { id: "u-1", status: "InProgress", type: "VersionUpdate" } };
      version = "1.36";
      return { update: { id: "u-1", status: "Successful", type: "VersionUpdate" } };
    });
    const clock = new FakeClock();
    const after = await new EksControlPlane({ ...opts(), clock }).upgrade("1.36", 60 * 60_000);
    assert.equal(after, "1.36");
    const calls = eks.commandCalls(UpdateClusterVersionCommand);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.args[0].input, { name: "web", version: "1.36" });
    assert.equal(polls, 3);
    assert.deepEqual(clock.sleeps, [30_000, 30_000]);
  });

  it("on the target already, changes nothing", async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { version: "1.36" } });
    assert.equal(await new EksControlPlane(opts()).upgrade("1.36", 1000), "1.36");
    assert.equal(eks.commandCalls(UpdateClusterVersionCommand).length, 0);
  });

  it("a run killed while waiting waits for the update under way instead of starting another", async () => {
    let version = "1.35";
    eks.on(DescribeClusterCommand).callsFake(() => ({ cluster: { version } }));
    eks.on(ListUpdatesCommand).resolves({ updateIds: ["old", "u-7"] });
    eks.on(DescribeUpdateCommand, { name: "web", updateId: "old" }).resolves({
      update: { id: "old", status: "Successful", type: "EndpointAccessUpdate" },
    });
    let seen = 0;
    eks.on(DescribeUpdateCommand, { name: "web", updateId: "u-7" }).callsFake(() => {
      seen++;
      if (seen === 1) return { update: { id: "u-7", status: "InProgress", type: "VersionUpdate" } };
      version = "1.36";
      return { update: { id: "u-7", status: "Successful", type: "VersionUpdate" } };
    });
    await new EksControlPlane({ ...opts(), clock: new FakeClock() }).upgrade("1.36", 60 * 60_000);
    assert.equal(eks.commandCalls(UpdateClusterVersionCommand).length, 0);
  });

  it("a Failed update is UPGRADE_CONTROL_PLANE_FAILED with EKS's errors; a slow one UPGRADE_STEP_TIMEOUT", async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { version: "1.35" } });
    eks.on(ListUpdatesCommand).resolves({ updateIds: [] });
    eks.on(UpdateClusterVersionCommand).resolves({ update: { id: "u-2" } });
    eks.on(DescribeUpdateCommand).resolves({
      update: {
        id: "u-2",
        status: "Failed",
        errors: [{ errorCode: "NodeCreationFailure", errorMessage: "nodes behind" }],
      },
    });
    await assert.rejects(
      new EksControlPlane({ ...opts(), clock: new FakeClock() }).upgrade("1.36", 60_000),
      (e: unknown) =>
        isTenkaiError(e, "UPGRADE_CONTROL_PLANE_FAILED") &&
        /NodeCreationFailure: nodes behind/.test(e.message),
    );
    eks.on(DescribeUpdateCommand).resolves({ update: { id: "u-2", status: "InProgress" } });
    await assert.rejects(
      new EksControlPlane({ ...opts(), clock: new FakeClock() }).upgrade("1.36", 90_000),
      (e: unknown) => isTenkaiError(e, "UPGRADE_STEP_TIMEOUT"),
    );
  });

  it("gives node slots the minor (the node group API's version)", () => {
    assert.equal(new EksControlPlane(opts()).nodeVersion("1.36"), "1.36");
    assert.equal(new EksControlPlane(opts()).nodeVersion("v1.36.2-eks-1"), "1.36");
  });
});

describe("EKS add-on update", () => {
  beforeEach(() => eks.reset());

  it("UpdateAddon to the plan's version, preserving the operator's settings, then DescribeUpdate", async () => {
    eks
      .on(DescribeAddonCommand)
      .resolves({ addon: { addonName: "vpc-cni", addonVersion: "v1.20.0-eksbuild.1", status: "ACTIVE" } });
    eks.on(ListUpdatesCommand).resolves({ updateIds: [] });
    eks.on(UpdateAddonCommand).resolves({ update: { id: "a-1" } });
    eks.on(DescribeUpdateCommand, { name: "web", updateId: "a-1", addonName: "vpc-cni" }).resolves({
      update: { id: "a-1", status: "Successful", type: "AddonUpdate" },
    });
    const r = await new EksAddons({ ...opts(), clock: new FakeClock() }).update(
      { name: "vpc-cni", kind: "eks-addon", to: "v1.21.1-eksbuild.3" },
      60_000,
    );
    assert.deepEqual(r, { outcome: "moved" });
    assert.deepEqual(eks.commandCalls(UpdateAddonCommand)[0]?.args[0].input, {
      clusterName: "web",
      addonName: "vpc-cni",
      addonVersion: "v1.21.1-eksbuild.3",
      resolveConflicts: "PRESERVE",
    });
  });

  it("leaves an add-on on the version alone, skips one not installed as an EKS add-on, refuses a chart", async () => {
    eks.on(DescribeAddonCommand, { addonName: "coredns" }).resolves({
      addon: { addonVersion: "v1.12.1-eksbuild.2", status: "ACTIVE" },
    });
    const err = Object.assign(new Error("No addon: kube-proxy found"), { name: "ResourceNotFoundException" });
    eks.on(DescribeAddonCommand, { addonName: "kube-proxy" }).rejects(err);
    const addons = new EksAddons(opts());
    assert.deepEqual(
      await addons.update({ name: "coredns", kind: "eks-addon", to: "v1.12.1-eksbuild.2" }, 1000),
      {
        outcome: "moved",
      },
    );
    const skipped = await addons.update(
      { name: "kube-proxy", kind: "eks-addon", to: "v1.36.0-eksbuild.1" },
      1000,
    );
    assert.equal(skipped.outcome, "skipped");
    assert.equal(eks.commandCalls(UpdateAddonCommand).length, 0);
    await assert.rejects(
      addons.update({ name: "aws-load-balancer-controller", kind: "chart", to: "3.5.0" }, 1000),
      (e: unknown) => isTenkaiError(e, "UPGRADE_ADDON_MANUAL"),
    );
  });
});
