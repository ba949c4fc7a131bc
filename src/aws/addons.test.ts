/**
 * EKS add-ons and Cluster Autoscaler's role in the synthesized templates: each add-on pinned to
 * the table's version for the cluster's Kubernetes version, the VPC CNI enforcing network
 * policies, the Deployment add-ons after the node stacks, and the autoscaler confined to this
 * cluster's node groups.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CfnTemplate,
  policyDocument,
  readTemplates,
  resourcesOfType,
} from "../../test/support/aws-fixtures.js";
import { stackNames } from "../shared/aws-names.js";
import { addonTable } from "../spec/addons.js";
import { loadPlatform } from "../spec/load.js";
import type { Platform } from "../spec/schema.js";
import { synthesizeAwsPlane } from "./synth.js";

const NOW = new Date("2026-11-28T00:00:00Z");
let dir: string;
let platform: Platform;
let templates: Map<string, CfnTemplate>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tenkai-addons-"));
  platform = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname, {
    now: NOW,
  });
  templates = readTemplates((await synthesizeAwsPlane(platform, { outdir: dir })).assemblyDir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const addonsIn = (stack: string) =>
  Object.fromEntries(
    resourcesOfType(templates.get(stack) as CfnTemplate, "AWS::EKS::Addon").map(([, r]) => [
      r.Properties?.AddonName as string,
      r.Properties ?? {},
    ]),
  );

describe("EKS add-ons", () => {
  it("pins every managed add-on to the table's version for the cluster's Kubernetes version", () => {
    const k8s = platform.spec.cluster.version;
    const table = addonTable();
    const cluster = addonsIn(stackNames.cluster(platform));
    const later = addonsIn(stackNames.addons(platform));
    assert.deepEqual(Object.keys(cluster).sort(), ["eks-pod-identity-agent", "kube-proxy", "vpc-cni"]);
    assert.deepEqual(Object.keys(later).sort(), ["coredns", "metrics-server"]);
    for (const [name, props] of Object.entries({ ...cluster, ...later })) {
      assert.equal(props.AddonVersion, table.addons[name]?.versions[k8s], name);
      assert.equal(props.ResolveConflicts, "OVERWRITE", name);
    }
  });

  it("turns on the VPC CNI's network policy agent, so tenants' NetworkPolicies are enforced", () => {
    const cni = addonsIn(stackNames.cluster(platform))["vpc-cni"];
    assert.deepEqual(JSON.parse(String(cni?.ConfigurationValues)), { enableNetworkPolicy: "true" });
  });

  it("creates CoreDNS and metrics-server only after every node group stack", async () => {
    const { buildAwsPlane } = await import("./synth.js");
    const { stacks } = buildAwsPlane(platform, { outdir: join(dir, "deps") });
    const addons = stacks.find((s) => s.stackName === stackNames.addons(platform));
    const deps = addons?.dependencies.map((d) => d.stackName) ?? [];
    for (const g of platform.spec.nodeGroups) assert.ok(deps.includes(stackNames.nodes(platform, g.name)));
  });

  it("gives Cluster Autoscaler its own IRSA role that scales only this cluster's node groups", () => {
    const cluster = templates.get(stackNames.cluster(platform)) as CfnTemplate;
    const role = resourcesOfType(cluster, "AWS::IAM::Role").find(
      ([, r]) => r.Properties?.RoleName === `${platform.metadata.name}-cluster-autoscaler`,
    );
    assert.ok(role, "cluster-autoscaler role");
    const trust = JSON.stringify(role[1].Properties?.AssumeRolePolicyDocument);
    assert.match(trust, /system:serviceaccount:kube-system:cluster-autoscaler/);
    const [policy] = (role[1].Properties?.Policies ?? []) as { PolicyDocument: unknown }[];
    const scale = policyDocument(policy?.PolicyDocument).Statement.find((s) =>
      JSON.stringify(s.Action).includes("SetDesiredCapacity"),
    );
    assert.deepEqual(scale?.Condition, {
      StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${platform.metadata.name}`]: "owned" },
    });
  });
  it("holds the draining slot at its size while a group rotates, so Cluster Autoscaler cannot grow it", async () => {
    const rotated = readTemplates(
      (await synthesizeAwsPlane(platform, { outdir: join(dir, "rotating"), rotating: ["general"] }))
        .assemblyDir,
    );
    const g = platform.spec.nodeGroups.find((n) => n.name === "general");
    assert.ok(g);
    const scaling = Object.fromEntries(
      resourcesOfType(
        rotated.get(stackNames.nodes(platform, "general")) as CfnTemplate,
        "AWS::EKS::Nodegroup",
      ).map(([, r]) => [r.Properties?.NodegroupName as string, r.Properties?.ScalingConfig]),
    );
    const other = g.activeSlot === "blue" ? "green" : "blue";
    const desired = g.desired ?? g.min;
    assert.deepEqual(scaling[`general-${g.activeSlot}`], {
      MinSize: g.min,
      MaxSize: desired,
      DesiredSize: desired,
    });
    assert.deepEqual(scaling[`general-${other}`], { MinSize: g.min, MaxSize: g.max, DesiredSize: desired });
  });
});
