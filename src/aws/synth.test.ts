/**
 * The AWS plane of the example platform, synthesized once with cdk-nag's AwsSolutions pack, then
 * checked the way a reviewer would: the stacks and their security properties, cdk-nag, cfn-lint.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  allResources,
  asArray,
  type CfnTemplate,
  policyDocument,
  readTemplates,
  resourcesOfType,
  runCfnLint,
} from "../../test/support/aws-fixtures.js";
import {
  logGroupNames,
  repositoryName,
  stackNames,
  tenantDatabaseSecretName,
  tenantGroup,
  workloadRoleArn,
  workloadRoleName,
} from "../shared/aws-names.js";
import { albControllerVersion } from "../shared/data.js";
import { loadPlatform } from "../spec/load.js";
import { subnetPlan } from "../spec/network.js";
import type { Platform } from "../spec/schema.js";
import { workloadsNeedingRole } from "../spec/tenant-needs.js";
import { type NagResult, runAwsSolutionsChecks } from "./nag.js";
import { loadBalancerControllerPolicy } from "./stacks/cluster.js";
import { buildAwsPlane, summarizeTemplate } from "./synth.js";

// biome-ignore lint/suspicious/noTemplateCurlyInString: the Fn::Sub placeholder in tenkai's trust strings
const ISSUER = "${OidcIssuer}";
const SUB = `${ISSUER}:sub`;
const AUD = `${ISSUER}:aud`;

const EXAMPLE = new URL("../../examples/platform.yaml", import.meta.url).pathname;

let platform: Platform;
let dir: string;
let nag: NagResult;
let templates: Map<string, CfnTemplate>;
const tpl = (name: string): CfnTemplate => {
  const t = templates.get(name);
  assert.ok(t, `no template ${name}; have ${[...templates.keys()].join(", ")}`);
  return t;
};

before(async () => {
  platform = await loadPlatform(EXAMPLE);
  dir = mkdtempSync(join(tmpdir(), "tenkai-aws-"));
  const { app } = buildAwsPlane(platform, { outdir: dir });
  nag = await runAwsSolutionsChecks(app);
  templates = readTemplates(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("stacks", () => {
  it("names stacks after the platform, in the spec's account and region", () => {
    assert.deepEqual([...templates.keys()].sort(), [
      "web-addons",
      "web-cluster",
      "web-data",
      "web-network",
      "web-nodes-general",
      "web-tenants-001",
    ]);
  });
  it("deploys no Lambda function and no custom resource (no kubectl provider, no CfnJson)", () => {
    for (const [name, t] of templates) {
      const types = Object.values(t.Resources).map((r) => r.Type);
      assert.ok(
        !types.some(
          (x) =>
            x === "AWS::Lambda::Function" ||
            x.startsWith("Custom::") ||
            x === "AWS::CloudFormation::CustomResource",
        ),
        `${name}: ${types.join(",")}`,
      );
    }
  });
  it("summarizes resource counts by type from the template", () => {
    const s = summarizeTemplate(
      "web-network",
      "web-network.template.json",
      join(dir, "web-network.template.json"),
    );
    assert.equal(s.resourcesByType["AWS::EC2::Subnet"], 9);
    assert.equal(s.resourceCount, Object.keys(tpl("web-network").Resources).length);
  });
});

describe("network", () => {
  it("lays subnets out as subnetPlan() says, private, public and database, over the spec's AZs", () => {
    const plan = subnetPlan(platform.spec.network);
    const subnets = resourcesOfType(tpl("web-network"), "AWS::EC2::Subnet").map(
      ([, r]) => r.Properties ?? {},
    );
    const byCidr = new Map(subnets.map((p) => [p.CidrBlock as string, p]));
    for (const c of [...plan.private, ...plan.public, ...plan.database])
      assert.ok(byCidr.has(c), `subnet ${c} missing; have ${[...byCidr.keys()].join(", ")}`);
    const azs = subnets.map((p) => JSON.stringify(p.AvailabilityZone));
    assert.equal(new Set(azs).size, 3);
  });
  it("has a NAT gateway per AZ and flow logs for all traffic to an encrypted group", () => {
    const t = tpl("web-network");
    assert.equal(resourcesOfType(t, "AWS::EC2::NatGateway").length, 3);
    const [[, vpc] = []] = resourcesOfType(t, "AWS::EC2::VPC");
    assert.deepEqual(
      ((vpc?.Properties?.Tags ?? []) as { Key: string; Value: string }[]).find(
        (x) => x.Key === "tenkai.dev/platform",
      ),
      { Key: "tenkai.dev/platform", Value: "web" },
      "the load balancer controller finds the VPC by this tag",
    );
    const [[, flow] = []] = resourcesOfType(t, "AWS::EC2::FlowLog");
    assert.equal(flow?.Properties?.TrafficType, "ALL");
    const [[, group] = []] = resourcesOfType(t, "AWS::Logs::LogGroup");
    assert.equal(group?.Properties?.LogGroupName, logGroupNames.vpcFlowLogs(platform));
    assert.ok(group?.Properties?.KmsKeyId);
  });
});

describe("cluster", () => {
  const cluster = () => resourcesOfType(tpl("web-cluster"), "AWS::EKS::Cluster")[0]?.[1].Properties ?? {};
  it("uses access entries only, with no bootstrap cluster-creator admin", () => {
    assert.deepEqual(cluster().AccessConfig, {
      AuthenticationMode: "API",
      BootstrapClusterCreatorAdminPermissions: false,
    });
  });
  it("encrypts secrets with KMS and logs api, audit and authenticator", () => {
    const enc = cluster().EncryptionConfig as { Resources: string[] }[];
    assert.deepEqual(enc[0]?.Resources, ["secrets"]);
    const types = (
      cluster().Logging as { ClusterLogging: { EnabledTypes: { Type: string }[] } }
    ).ClusterLogging.EnabledTypes.map((t) => t.Type);
    assert.deepEqual(types.sort(), ["api", "audit", "authenticator"]);
  });
  it("opens the endpoint as the spec says, public only from publicCidrs", () => {
    const vpc = cluster().ResourcesVpcConfig as Record<string, unknown>;
    assert.equal(vpc.EndpointPrivateAccess, true);
    assert.equal(vpc.EndpointPublicAccess, true);
    assert.deepEqual(vpc.PublicAccessCidrs, ["203.0.113.0/24"]);
    assert.equal(cluster().Version, "1.35");
    assert.equal(cluster().Name, "web");
  });
  it("gives adminRoles AmazonEKSClusterAdminPolicy cluster-wide, and no one AmazonEKSEditPolicy", () => {
    const entries = allResources(templates, "AWS::EKS::AccessEntry");
    const admin = entries.find(
      (e) => e.resource.Properties?.PrincipalArn === "arn:aws:iam::123456789012:role/platform-admin",
    );
    const policies = admin?.resource.Properties?.AccessPolicies as {
      PolicyArn: unknown;
      AccessScope: { Type: string };
    }[];
    assert.match(JSON.stringify(policies[0]?.PolicyArn), /AmazonEKSClusterAdminPolicy/);
    assert.equal(policies[0]?.AccessScope.Type, "cluster");
    assert.ok(!JSON.stringify([...templates.values()]).includes("AmazonEKSEditPolicy"));
  });
});

describe("node groups", () => {
  it("has only the active slot, AL2023, in private subnets, from a launch template requiring IMDSv2 with hop limit 1", () => {
    const t = tpl("web-nodes-general");
    const groups = resourcesOfType(t, "AWS::EKS::Nodegroup").map(([, r]) => r.Properties ?? {});
    assert.deepEqual(
      groups.map((g) => g.NodegroupName),
      ["general-blue"],
    );
    assert.equal(groups[0]?.AmiType, "AL2023_x86_64_STANDARD");
    assert.deepEqual(groups[0]?.ScalingConfig, { MinSize: 3, MaxSize: 12, DesiredSize: 3 });
    const [[, lt] = []] = resourcesOfType(t, "AWS::EC2::LaunchTemplate");
    const data = lt?.Properties?.LaunchTemplateData as { MetadataOptions: Record<string, unknown> };
    assert.equal(data.MetadataOptions.HttpTokens, "required");
    assert.equal(data.MetadataOptions.HttpPutResponseHopLimit, 1);
  });
});

describe("Fargate and platform roles", () => {
  it("creates the spec's Fargate profile with a pod execution role that can write the log router's groups", () => {
    const t = tpl("web-cluster");
    const [[, profile] = []] = resourcesOfType(t, "AWS::EKS::FargateProfile");
    assert.equal(profile?.Properties?.FargateProfileName, "batch");
    const policies = resourcesOfType(t, "AWS::IAM::Policy").map(([, r]) => JSON.stringify(r.Properties));
    const logs = policies.find((p) => p.includes("logs:PutLogEvents"));
    assert.ok(
      logs?.includes(logGroupNames.tenant(platform, "orders")),
      "Fargate role writes the orders log group",
    );
    assert.ok(
      !logs?.includes(logGroupNames.tenant(platform, "shop")),
      "and not shop's (no Fargate profile selects it)",
    );
  });
  it("gives the AWS Load Balancer Controller its published policy and an IRSA trust for its ServiceAccount", () => {
    const t = tpl("web-cluster");
    const [[, policy] = []] = resourcesOfType(t, "AWS::IAM::ManagedPolicy");
    const version = albControllerVersion().replace(/^v/, "");
    assert.equal(policy?.Properties?.ManagedPolicyName, `web-aws-load-balancer-controller-v${version}`);
    const published = loadBalancerControllerPolicy();
    assert.equal(published.version, version, "the policy is the one published with the installed controller");
    assert.equal(
      JSON.stringify(policy?.Properties?.PolicyDocument),
      JSON.stringify(published.policy),
      "kept verbatim (aws partition)",
    );
    const role = resourcesOfType(t, "AWS::IAM::Role").find(
      ([, r]) => r.Properties?.RoleName === "web-aws-load-balancer-controller",
    );
    const trust = policyDocument(role?.[1].Properties?.AssumeRolePolicyDocument);
    assert.equal(
      trust.Statement[0]?.Condition?.StringEquals?.[SUB],
      "system:serviceaccount:kube-system:aws-load-balancer-controller",
    );
  });
});

describe("tenants: people, pods, registry, database, logs", () => {
  const tenantsTpl = () => tpl("web-tenants-001");
  it("maps each tenant role to STANDARD access with only its tenkai:<tenant>:<level> group", () => {
    const entries = resourcesOfType(tenantsTpl(), "AWS::EKS::AccessEntry").map(([, r]) => r.Properties ?? {});
    for (const tenant of platform.spec.tenants) {
      for (const a of tenant.access) {
        const e = entries.find((x) => x.PrincipalArn === a.role);
        assert.ok(e, `no access entry for ${a.role}`);
        assert.equal(e.Type, "STANDARD");
        assert.deepEqual(e.KubernetesGroups, [tenantGroup(tenant.name, a.level)]);
        assert.equal(e.AccessPolicies, undefined, "tenant entries carry no EKS access policy");
      }
    }
  });
  it("gives each workload with aws.allow or database its own role, trusting only its ServiceAccount (sub and aud)", () => {
    const roles = resourcesOfType(tenantsTpl(), "AWS::IAM::Role").map(([, r]) => r.Properties ?? {});
    const expected = platform.spec.tenants.flatMap(workloadsNeedingRole);
    assert.deepEqual(
      roles.map((r) => r.RoleName).sort(),
      expected.map((w) => workloadRoleName(platform, w.tenant, w.name)).sort(),
    );
    for (const w of expected) {
      const role = roles.find((r) => r.RoleName === workloadRoleName(platform, w.tenant, w.name));
      const [st] = policyDocument(role?.AssumeRolePolicyDocument).Statement;
      assert.equal(st?.Action, "sts:AssumeRoleWithWebIdentity");
      assert.deepEqual(st?.Condition, {
        StringEquals: {
          [SUB]: `system:serviceaccount:${w.tenant}:${w.name}`,
          [AUD]: "sts.amazonaws.com",
        },
      });
    }
    assert.equal(
      workloadRoleArn(platform, "shop", "catalog-api"),
      "arn:aws:iam::123456789012:role/web-shop-catalog-api",
    );
  });
  it("no trust policy anywhere has a wildcard principal, and every web-identity trust pins sub", () => {
    for (const { stack, id, resource } of allResources(templates, "AWS::IAM::Role")) {
      for (const st of policyDocument(resource.Properties?.AssumeRolePolicyDocument).Statement) {
        const principal = JSON.stringify(st.Principal);
        assert.ok(
          principal !== '"*"' && !principal.includes('"AWS":"*"'),
          `${stack}/${id} trusts ${principal}`,
        );
        if (asArray(st.Action).includes("sts:AssumeRoleWithWebIdentity")) {
          const eq = st.Condition?.StringEquals ?? {};
          assert.ok(
            Object.keys(eq).some((k) => k.endsWith(":sub")),
            `${stack}/${id} has no sub condition`,
          );
          assert.ok(
            Object.keys(eq).some((k) => k.endsWith(":aud")),
            `${stack}/${id} has no aud condition`,
          );
        }
      }
    }
  });
  it("lets tenant roles reach only their own secret, with no '*' resource", () => {
    const t = tenantsTpl();
    const secrets = Object.fromEntries(
      resourcesOfType(t, "AWS::SecretsManager::Secret").map(([id, r]) => [id, r.Properties?.Name]),
    );
    for (const [, r] of resourcesOfType(t, "AWS::IAM::Role")) {
      const tenant = String(r.Properties?.RoleName).split("-")[1];
      for (const p of asArray(r.Properties?.Policies as { PolicyDocument: unknown }[])) {
        for (const st of policyDocument(p.PolicyDocument).Statement) {
          for (const res of asArray(st.Resource)) {
            assert.notEqual(res, "*", `${r.Properties?.RoleName} has Resource "*"`);
            if (res && typeof res === "object" && "Ref" in res) {
              assert.equal(
                secrets[(res as { Ref: string }).Ref],
                tenantDatabaseSecretName(platform, tenant ?? ""),
              );
            }
          }
        }
      }
    }
  });
  it("creates immutable, scanned ECR repositories under <platform>/<tenant>/ and lets each CI role push only to its own", () => {
    const repos = resourcesOfType(tenantsTpl(), "AWS::ECR::Repository").map(([, r]) => r.Properties ?? {});
    assert.ok(repos.some((r) => r.RepositoryName === repositoryName(platform, "shop", "catalog-api")));
    for (const r of repos) {
      assert.equal(r.ImageTagMutability, "IMMUTABLE");
      assert.deepEqual(r.ImageScanningConfiguration, { ScanOnPush: true });
      const rules = JSON.parse(
        String((r.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText),
      ).rules;
      assert.equal(rules[0].selection.countNumber, 30);
      const principals = JSON.stringify(r.RepositoryPolicyText ?? {});
      if (String(r.RepositoryName).startsWith("web/shop/")) assert.ok(principals.includes("role/shop-ci"));
      else assert.ok(!principals.includes("shop-ci"), `${r.RepositoryName} lets shop-ci push`);
    }
  });
  it("keeps a log group per tenant (retention, KMS) and saved queries for errors and slow paths", () => {
    const t = tenantsTpl();
    const groups = resourcesOfType(t, "AWS::Logs::LogGroup").map(([, r]) => r.Properties ?? {});
    for (const tenant of platform.spec.tenants) {
      const g = groups.find((x) => x.LogGroupName === logGroupNames.tenant(platform, tenant.name));
      assert.equal(g?.RetentionInDays, 30);
      assert.ok(g?.KmsKeyId);
      const queries = resourcesOfType(t, "AWS::Logs::QueryDefinition").filter(
        ([, r]) =>
          JSON.stringify(r.Properties?.LogGroupNames) ===
          JSON.stringify([logGroupNames.tenant(platform, tenant.name)]),
      );
      assert.equal(queries.length, 2);
    }
  });
  it("lets Fluent Bit write only to tenkai's log groups", () => {
    const role = resourcesOfType(tpl("web-cluster"), "AWS::IAM::Role").find(
      ([, r]) => r.Properties?.RoleName === "web-fluent-bit",
    );
    const doc = policyDocument(
      (role?.[1].Properties?.Policies as { PolicyDocument: unknown }[] | undefined)?.[0]?.PolicyDocument,
    );
    for (const r of asArray(doc.Statement[0]?.Resource as string[]))
      assert.ok(r.includes(":log-group:/tenkai/web/"), r);
    const trust = policyDocument(role?.[1].Properties?.AssumeRolePolicyDocument);
    assert.equal(
      trust.Statement[0]?.Condition?.StringEquals?.[SUB],
      "system:serviceaccount:tenkai-system:fluent-bit",
    );
  });
  it("runs Aurora Serverless v2 encrypted, private, backed up, deletion-protected, reachable only from the cluster SG", () => {
    const t = tpl("web-data");
    const [[, db] = []] = resourcesOfType(t, "AWS::RDS::DBCluster");
    const p = db?.Properties ?? {};
    assert.equal(p.Engine, "aurora-postgresql");
    assert.equal(p.StorageEncrypted, true);
    assert.equal(p.DeletionProtection, true);
    assert.equal(p.BackupRetentionPeriod, 7);
    assert.equal(p.ManageMasterUserPassword, true);
    assert.deepEqual(p.ServerlessV2ScalingConfiguration, { MinCapacity: 0.5, MaxCapacity: 8 });
    const [[, sg] = []] = resourcesOfType(t, "AWS::EC2::SecurityGroup");
    const ingress = sg?.Properties?.SecurityGroupIngress as Record<string, unknown>[];
    assert.equal(ingress.length, 1);
    assert.equal(ingress[0]?.CidrIp, undefined);
    assert.match(
      JSON.stringify(ingress[0]?.SourceSecurityGroupId),
      /Fn::ImportValue.*ClusterSecurityGroupId/,
    );
    for (const [, inst] of resourcesOfType(t, "AWS::RDS::DBInstance"))
      assert.equal(inst.Properties?.PubliclyAccessible, false);
  });
});

describe("checks nobody here wrote", () => {
  it("cdk-nag AwsSolutions: no unacknowledged finding, and every acknowledgement gives a reason", () => {
    assert.deepEqual(
      nag.findings.map((f) => `${f.rule} at ${f.constructPaths.join(", ")}`),
      [],
    );
    assert.ok(nag.acknowledgements.length > 0);
    for (const a of nag.acknowledgements)
      assert.ok(a.reason.length >= 60, `${a.constructPath} ${a.id}: reason too thin: "${a.reason}"`);
  });
  it("cfn-lint: no errors in any template", (t) => {
    const run = runCfnLint(dir);
    if (!run.available)
      return t.skip("cfn-lint missing: run `bash scripts/setup-python.sh` to install .venv");
    assert.deepEqual(run.errors, []);
  });
});

describe("ALB access logs and the tenant databases' Data API", () => {
  it("keeps the shared ALB's access logs in an SSE-S3 bucket with a lifecycle rule, writable by ELB log delivery only", () => {
    const cluster = templates.get(stackNames.cluster(platform)) as CfnTemplate;
    const [[, bucket] = []] = resourcesOfType(cluster, "AWS::S3::Bucket");
    const p = bucket?.Properties as Record<string, unknown>;
    assert.equal(p.BucketName, "web-alb-logs-123456789012-ap-northeast-1");
    assert.deepEqual(p.BucketEncryption, {
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
    });
    assert.match(JSON.stringify(p.LifecycleConfiguration), /"ExpirationInDays":30/);
    const [[, policy] = []] = resourcesOfType(cluster, "AWS::S3::BucketPolicy");
    const statements = policyDocument(policy?.Properties?.PolicyDocument).Statement;
    const delivery = statements.find((s) => (s as { Sid?: string }).Sid === "AlbAccessLogDelivery");
    // ap-northeast-1 predates August 2022: ELB delivers as its regional account (582318560864).
    assert.match(JSON.stringify(delivery?.Principal), /582318560864/);
    assert.match(JSON.stringify(delivery?.Resource), /alb\/AWSLogs\/123456789012\/\*/);
    assert.ok(
      statements.some(
        (s) => s.Effect === "Deny" && JSON.stringify(s.Condition).includes("aws:SecureTransport"),
      ),
    );
  });
  it("lets Athena read them: a Glue table with day projection over the access-log prefix, an encrypting workgroup, the per-path query", () => {
    const cluster = templates.get(stackNames.cluster(platform)) as CfnTemplate;
    const [[, db] = []] = resourcesOfType(cluster, "AWS::Glue::Database");
    assert.equal((db?.Properties?.DatabaseInput as { Name?: string } | undefined)?.Name, "web_alb_logs");
    const [[, table] = []] = resourcesOfType(cluster, "AWS::Glue::Table");
    const input = table?.Properties?.TableInput as {
      Name: string;
      PartitionKeys: { Name: string }[];
      Parameters: Record<string, string>;
      StorageDescriptor: {
        Location: string;
        Columns: unknown[];
        SerdeInfo: { SerializationLibrary: string };
      };
    };
    const logs =
      "s3://web-alb-logs-123456789012-ap-northeast-1/alb/AWSLogs/123456789012/elasticloadbalancing/ap-northeast-1";
    assert.equal(input.Name, "alb_access_logs");
    assert.deepEqual(
      input.PartitionKeys.map((k) => k.Name),
      ["day"],
    );
    assert.equal(input.Parameters["projection.enabled"], "true");
    assert.equal(input.Parameters["projection.day.format"], "yyyy/MM/dd");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's projection placeholder
    assert.equal(input.Parameters["storage.location.template"], `${logs}/${"${day}"}`);
    assert.equal(input.StorageDescriptor.Location, `${logs}/`);
    assert.equal(input.StorageDescriptor.Columns.length, 34);
    assert.equal(
      input.StorageDescriptor.SerdeInfo.SerializationLibrary,
      "org.apache.hadoop.hive.serde2.RegexSerDe",
    );
    const [[, wg] = []] = resourcesOfType(cluster, "AWS::Athena::WorkGroup");
    assert.equal(wg?.Properties?.Name, "web-alb-logs");
    const conf = wg?.Properties?.WorkGroupConfiguration as {
      EnforceWorkGroupConfiguration: boolean;
      ResultConfiguration: { OutputLocation: string; EncryptionConfiguration: { EncryptionOption: string } };
    };
    assert.equal(conf.EnforceWorkGroupConfiguration, true);
    assert.equal(
      conf.ResultConfiguration.OutputLocation,
      "s3://web-alb-logs-123456789012-ap-northeast-1/athena-results/",
    );
    assert.equal(conf.ResultConfiguration.EncryptionConfiguration.EncryptionOption, "SSE_S3");
    const [[, q] = []] = resourcesOfType(cluster, "AWS::Athena::NamedQuery");
    assert.equal(q?.Properties?.Name, "latency and errors per API path");
    assert.equal(q?.Properties?.Database, "web_alb_logs");
    assert.match(String(q?.Properties?.QueryString), /'api\.example\.com\/users'/);
    // Athena's results expire sooner than the logs themselves.
    assert.match(
      JSON.stringify(bucketLifecycle(cluster)),
      /"ExpirationInDays":7,"Id":"expire-athena-results","Prefix":"athena-results\/"/,
    );
  });
  it("turns on the RDS Data API on the Aurora cluster with an RDS-managed master secret", () => {
    const data = templates.get(stackNames.data(platform)) as CfnTemplate;
    const [[, db] = []] = resourcesOfType(data, "AWS::RDS::DBCluster");
    assert.equal(db?.Properties?.EnableHttpEndpoint, true);
    assert.equal(db?.Properties?.ManageMasterUserPassword, true);
    assert.equal(db?.Properties?.DBClusterIdentifier, "web-db");
  });
});

function bucketLifecycle(t: CfnTemplate): unknown {
  const [[, bucket] = []] = resourcesOfType(t, "AWS::S3::Bucket");
  return bucket?.Properties?.LifecycleConfiguration;
}
