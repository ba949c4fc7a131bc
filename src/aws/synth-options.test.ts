/**
 * The AWS plane under options the example does not exercise: a rotation under way, EKS Pod
 * Identity, enhanced scanning, and enough tenants for several tenant stacks (one synth, shared).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import {
  type CfnTemplate,
  policyDocument,
  readTemplates,
  resourcesOfType,
  runCfnLint,
} from "../../test/support/aws-fixtures.js";
import { stackNames, workloadRoleName } from "../shared/aws-names.js";
import { isTenkaiError } from "../shared/errors.js";
import type { StackSummary } from "../shared/planes.js";
import { definePlatform } from "../spec/define.js";
import type { Platform, PlatformInput } from "../spec/schema.js";
import { type NagResult, runAwsSolutionsChecks } from "./nag.js";
import { planTenantStacks, TENANTS_PER_STACK } from "./placement.js";
import { buildAwsPlane, summarizeTemplate } from "./synth.js";

function platformInput(): PlatformInput {
  const input: PlatformInput = parse(
    readFileSync(new URL("../../examples/platform.yaml", import.meta.url), "utf8"),
  );
  input.spec.registry = { enhancedScanning: true };
  input.spec.tenants = [
    ...(input.spec.tenants ?? []),
    ...Array.from({ length: 22 }, (_, i) => ({
      name: `team-${i}`,
      services: [
        {
          name: "api",
          image: "api",
          tag: "1.0.0",
          port: 8080,
          aws: {
            allow: [{ actions: ["s3:GetObject"], resources: [`arn:aws:s3:::team-${i}/data.json`] }],
            podIdentity: i === 0,
          },
        },
      ],
    })),
  ];
  return input;
}

let platform: Platform;
let dir: string;
let summaries: StackSummary[];
let nag: NagResult;
let templates: Map<string, CfnTemplate>;

before(async () => {
  platform = definePlatform(platformInput());
  dir = mkdtempSync(join(tmpdir(), "tenkai-aws-opts-"));
  const { app, stacks } = buildAwsPlane(platform, { outdir: dir, rotating: ["general"] });
  nag = await runAwsSolutionsChecks(app);
  summaries = stacks.map((s) =>
    summarizeTemplate(s.stackName, `${s.stackName}.template.json`, join(dir, `${s.stackName}.template.json`)),
  );
  templates = readTemplates(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("AWS plane options", () => {
  it("keeps both slots of a node group while it is being rotated", () => {
    const t = templates.get(stackNames.nodes(platform, "general")) as CfnTemplate;
    const names = resourcesOfType(t, "AWS::EKS::Nodegroup").map(([, r]) => r.Properties?.NodegroupName);
    assert.deepEqual(names, ["general-blue", "general-green"]);
  });
  it("refuses to rotate a node group the spec does not have", () => {
    assert.throws(
      () => buildAwsPlane(platform, { outdir: dir, rotating: ["gpu"] }),
      (e: unknown) => isTenkaiError(e, "AWS_UNKNOWN_NODE_GROUP") && /general/.test(e.fix ?? ""),
    );
  });
  it("associates Pod Identity workloads with a role trusting pods.eks.amazonaws.com (AssumeRole, TagSession), with the agent add-on", () => {
    const t = templates.get(stackNames.tenants(platform, 1)) as CfnTemplate;
    const [[, assoc] = []] = resourcesOfType(t, "AWS::EKS::PodIdentityAssociation");
    assert.deepEqual(
      { ns: assoc?.Properties?.Namespace, sa: assoc?.Properties?.ServiceAccount },
      { ns: "team-0", sa: "api" },
    );
    const role = resourcesOfType(t, "AWS::IAM::Role").find(
      ([, r]) => r.Properties?.RoleName === workloadRoleName(platform, "team-0", "api"),
    );
    const [st] = policyDocument(role?.[1].Properties?.AssumeRolePolicyDocument).Statement;
    assert.deepEqual(st?.Principal, { Service: "pods.eks.amazonaws.com" });
    assert.deepEqual(st?.Action, ["sts:AssumeRole", "sts:TagSession"]);
    const cluster = templates.get(stackNames.cluster(platform)) as CfnTemplate;
    assert.ok(
      resourcesOfType(cluster, "AWS::EKS::Addon").some(
        ([, r]) => r.Properties?.AddonName === "eks-pod-identity-agent",
      ),
      "the Pod Identity agent add-on is in the cluster stack",
    );
  });
  it("leaves the registry scanning configuration out of CloudFormation (deploy merges it; the resource would replace the account's rules)", () => {
    for (const t of templates.values())
      assert.deepEqual(resourcesOfType(t, "AWS::ECR::RegistryScanningConfiguration"), []);
  });
  it("splits tenants across stacks as planned, each stack's resources as the placement computed, no exports between them", () => {
    const placements = planTenantStacks(platform, TENANTS_PER_STACK);
    assert.equal(placements.length, 3);
    placements.forEach((p, i) => {
      const summary = summaries.find((s) => s.stackName === stackNames.tenants(platform, i + 1));
      assert.equal(summary?.resourceCount, p.resourceCount, summary?.stackName);
      const t = templates.get(stackNames.tenants(platform, i + 1)) as CfnTemplate;
      assert.equal(Object.keys(t.Outputs ?? {}).length, 0);
      assert.ok(
        !JSON.stringify(t).includes("Fn::ImportValue"),
        "tenant stacks read SSM parameters, not exports",
      );
    });
  });
  it("passes cdk-nag AwsSolutions with these options too", () => {
    assert.deepEqual(
      nag.findings.map((f) => `${f.rule} at ${f.constructPaths.join(", ")}`),
      [],
    );
  });
  it("passes cfn-lint with these options too", (t) => {
    const run = runCfnLint(dir);
    if (!run.available)
      return t.skip("cfn-lint missing: run `bash scripts/setup-python.sh` to install .venv");
    assert.deepEqual(run.errors, []);
  });
});
