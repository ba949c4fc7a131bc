/** The planner's pure decisions, table-driven: what the user would read in the plan. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AddonTable, decideAddons, imageTag, sameRelease } from "./addons.js";
import { type ApiContext, liveObjectFindings, manifestFindings } from "./api-findings.js";
import { ApiRuleIndex, apiRuleTable } from "./api-rules.js";
import { decideEksCaveats } from "./eks-caveats.js";
import { decodeHelmRelease, encodeHelmRelease } from "./helm.js";
import { manifestDocs } from "./manifests.js";
import { decideSkew } from "./skew.js";
import { parseMinor } from "./versions.js";

const v = (s: string) => parseMinor(s)!;
const ctx = (from: string, to: string): ApiContext => ({
  rules: new ApiRuleIndex(apiRuleTable().rules),
  current: v(from),
  target: v(to),
});

describe("API findings", () => {
  it("a manifest on a version the target removes is a blocker naming file:line and the replacement", () => {
    const docs = manifestDocs(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: fs}\n",
      "x.yaml",
    );
    const f = docs.flatMap((d) => manifestFindings(ctx("1.31", "1.33"), d.doc, "file", d.location));
    assert.equal(f.length, 1);
    assert.equal(f[0]?.id, "API_REMOVED");
    assert.equal(f[0]?.severity, "blocker");
    assert.equal(f[0]?.location, "x.yaml:5");
    assert.equal(f[0]?.replacement, "flowcontrol.apiserver.k8s.io/v1");
    assert.equal(f[0]?.step, "1.32");
  });

  it("reads the last-applied annotation and every client's managed-fields entry, not the control plane's", () => {
    const found = liveObjectFindings(ctx("1.35", "1.36"), "Deployment", {
      name: "api",
      namespace: "shop",
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({
          apiVersion: "extensions/v1beta1",
          kind: "Deployment",
        }),
      },
      managedFields: [
        { manager: "old-ci", operation: "Update", apiVersion: "apps/v1beta2", time: "2019-01-01T00:00:00Z" },
        { manager: "kube-controller-manager", operation: "Update", apiVersion: "apps/v1beta1" },
        { manager: "kubectl", operation: "Apply", apiVersion: "apps/v1" },
      ],
    });
    assert.deepEqual(
      found.map((f) => [f.id, f.source, f.apiVersion, f.location]),
      [
        ["API_GONE", "live:last-applied", "extensions/v1beta1", undefined],
        ["API_GONE", "live:managed-fields", "apps/v1beta2", "old-ci"],
      ],
    );
    assert.match(found[1]!.fix, /field manager "old-ci"/);
    assert.match(found[1]!.message, /last write 2019-01-01/);
  });

  it("a deprecated version still served is a warning (v1 Endpoints written by a client)", () => {
    const found = liveObjectFindings(ctx("1.35", "1.36"), "Endpoints", {
      name: "legacy",
      namespace: "shop",
      managedFields: [
        { manager: "legacy-ops", operation: "Apply", apiVersion: "v1" },
        { manager: "endpoint-controller", operation: "Update", apiVersion: "v1" },
      ],
    });
    assert.deepEqual(
      found.map((f) => [f.id, f.severity, f.location, f.replacement]),
      [["API_DEPRECATED", "warning", "legacy-ops", "discovery.k8s.io/v1"]],
    );
  });

  it("unfolds kind: List", () => {
    const docs = manifestDocs(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: policy/v1beta1\n  kind: PodDisruptionBudget\n  metadata: {name: p}\n",
      "l.yaml",
    );
    assert.equal(docs.length, 1);
    assert.equal(docs[0]?.location, "l.yaml:1 items[0]");
  });
});

describe("Helm release records", () => {
  it("round-trips the base64(gzip(JSON)) encoding Helm stores", () => {
    const data = encodeHelmRelease({
      name: "legacy",
      namespace: "shop",
      version: 3,
      manifest: "---\napiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n",
      chart: { metadata: { name: "legacy-chart", version: "1.2.3" } },
    });
    const r = decodeHelmRelease(data, "Secret shop/sh.helm.release.v1.legacy.v3");
    assert.equal(r.revision, 3);
    assert.equal(r.chart, "legacy-chart-1.2.3");
    assert.match(r.manifest, /autoscaling\/v2beta2/);
  });
  it("a record that is not a release is an error with a code", () => {
    assert.throws(
      () => decodeHelmRelease(Buffer.from("garbage").toString("base64"), "x"),
      /cannot be decoded/,
    );
  });
});

describe("version skew", () => {
  const nodes = [
    { name: "a", kubeletVersion: "v1.35.2", nodegroup: "general-blue", fargate: false },
    { name: "b", kubeletVersion: "v1.34.1", nodegroup: "general-blue", fargate: false },
    { name: "c", kubeletVersion: "v1.36.0", nodegroup: "batch-green", fargate: false },
    { name: "d", kubeletVersion: "v1.31.9", fargate: false },
    { name: "e", kubeletVersion: "v1.35.0-eks-fargate", fargate: true },
  ];
  const r = decideSkew({
    controlPlane: v("1.35"),
    target: v("1.37"),
    nodes,
    nodeGroups: ["general", "batch"],
    kubectl: "v1.34.0",
  });
  const ids = r.findings.map((f) => `${f.id} ${f.object ?? ""}`.trim()).sort();
  it("kubelets newer than the control plane or more than 3 minors older are blockers", () => {
    assert.ok(ids.includes("SKEW_KUBELET_NEWER Node c"), ids.join("\n"));
    assert.ok(ids.includes("SKEW_KUBELET_TOO_OLD Node d"), ids.join("\n"));
    assert.equal(r.findings.find((f) => f.id === "SKEW_KUBELET_NEWER")?.severity, "blocker");
  });
  it("a node group behind the control plane is rotated first; unmanaged nodes and kubectl are flagged", () => {
    assert.deepEqual(r.behind, ["general"]);
    assert.ok(ids.includes("SKEW_NODEGROUP_BEHIND NodeGroup general-blue"));
    assert.deepEqual(r.unmanaged, ["d"]);
    assert.ok(ids.includes("SKEW_KUBECTL"), "kubectl 1.34 is three minors from 1.37");
    assert.equal(r.fargateNodes, 1);
  });
});

describe("add-ons", () => {
  const table: AddonTable = {
    asOf: "2026-12-01",
    source: "fixture",
    addons: {
      "kube-proxy": {
        kind: "eks-addon",
        versions: { "1.36": "v1.36.1-eksbuild.1", "1.37": "v1.37.0-eksbuild.1" },
      },
      "aws-load-balancer-controller": { kind: "chart", versions: { "1.36": "3.5.0" } },
      coredns: {
        kind: "eks-addon",
        versions: { "1.36": "v1.14.2-eksbuild.4", "1.37": "v1.14.2-eksbuild.4" },
      },
    },
    incompatible: [{ addon: "coredns", version: "v1.11.1", kubernetes: "*", reason: "fixture reason" }],
  };
  const d = decideAddons(table, ["1.36", "1.37"], {
    "kube-proxy": "v1.35.3-eksbuild.2",
    "aws-load-balancer-controller": "v2.13.0",
    coredns: "v1.11.1-eksbuild.1",
  });
  it("orders moves: charts before the control plane, EKS add-ons after it, one per minor", () => {
    assert.deepEqual(
      d.steps.map((s) => `${s.minor} ${s.when} ${s.addon} ${s.from} → ${s.to}`),
      [
        "1.36 before aws-load-balancer-controller v2.13.0 → 3.5.0",
        "1.36 after coredns v1.11.1-eksbuild.1 → v1.14.2-eksbuild.4",
        "1.36 after kube-proxy v1.35.3-eksbuild.2 → v1.36.1-eksbuild.1",
        "1.37 after kube-proxy v1.36.1-eksbuild.1 → v1.37.0-eksbuild.1",
      ],
    );
  });
  it("an installed add-on with no version for a minor, or an incompatible one, blocks", () => {
    const byId = d.findings.map((f) => `${f.id} ${f.object} ${f.severity}`);
    assert.ok(byId.includes("ADDON_NO_VERSION addon aws-load-balancer-controller blocker"), byId.join("\n"));
    assert.ok(byId.includes("ADDON_INCOMPATIBLE addon coredns blocker"), byId.join("\n"));
  });
  it("reads versions from image tags", () => {
    assert.equal(
      imageTag("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.35.3-eksbuild.2"),
      "v1.35.3-eksbuild.2",
    );
    assert.equal(imageTag("localhost:5000/coredns"), undefined);
    assert.equal(imageTag("x@sha256:abc"), undefined);
    assert.ok(sameRelease("v1.21.1-eksbuild.7", "1.21.1"));
    assert.ok(!sameRelease("v1.21.1", "v1.21.2"));
  });
});

describe("EKS caveats", () => {
  const base = {
    target: "aws" as const,
    region: "ap-northeast-1",
    current: "1.32",
    path: ["1.33"],
    now: new Date("2026-12-01T00:00:00Z"),
    autoscaled: new Set(["Deployment batch/web"]),
    fargateLogging: false,
    apiVersions: new Map([["Thing x", "example.io/v1alpha1"]]),
    profiles: [
      { name: "batch", selectors: [{ namespace: "batch", labels: { "tenkai.dev/compute": "fargate" } }] },
    ],
  };
  const fargate = { "tenkai.dev/compute": "fargate" };
  const f = decideEksCaveats({
    ...base,
    templates: [
      {
        ref: "DaemonSet batch/agent",
        kind: "DaemonSet",
        namespace: "batch",
        labels: fargate,
        spec: { containers: [{ name: "a" }] },
      },
      {
        ref: "Deployment batch/web",
        kind: "Deployment",
        namespace: "batch",
        labels: fargate,
        spec: {
          hostNetwork: true,
          containers: [{ name: "w", securityContext: { privileged: true } }],
          volumes: [{ name: "data", persistentVolumeClaim: {} }],
        },
      },
      {
        ref: "Deployment shop/lost",
        kind: "Deployment",
        namespace: "shop",
        labels: fargate,
        spec: { containers: [] },
      },
      {
        ref: "Deployment shop/ec2",
        kind: "Deployment",
        namespace: "shop",
        labels: {},
        spec: { containers: [] },
      },
    ],
  });
  const ids = f.map((x) => `${x.id}${x.object ? ` ${x.object}` : ""}`).sort();
  it("finds the Fargate limits for pods a profile selects, and only those", () => {
    for (const want of [
      "EKS_FARGATE_DAEMONSET DaemonSet batch/agent",
      "EKS_FARGATE_PRIVILEGED Deployment batch/web",
      "EKS_FARGATE_HOST_NETWORK Deployment batch/web",
      "EKS_FARGATE_BLOCK_STORAGE Deployment batch/web",
      "EKS_FARGATE_NO_KUBELET_METRICS Deployment batch/web",
      "EKS_FARGATE_NO_PROFILE Deployment shop/lost",
      "EKS_FARGATE_LOGGING",
      "EKS_ALPHA_API Thing x",
    ])
      assert.ok(ids.includes(want), `${want} in\n${ids.join("\n")}`);
    assert.ok(!ids.some((i) => i.includes("shop/ec2")));
  });
  it("prices extended support from the tables", () => {
    const ext = f.find((x) => x.id === "EKS_EXTENDED_SUPPORT");
    assert.ok(ext, ids.join("\n"));
    assert.match(ext.message, /1\.32 is in EKS extended support since 2026-03-23/);
    assert.match(ext.message, /\$365 more a month/);
  });
  it("a target EKS does not offer blocks", () => {
    const g = decideEksCaveats({ ...base, templates: [], path: ["1.33", "1.34", "1.35", "1.36", "1.37"] });
    const un = g.find((x) => x.id === "EKS_VERSION_UNAVAILABLE");
    assert.equal(un?.step, "1.37");
    assert.equal(un?.severity, "blocker");
  });
});
