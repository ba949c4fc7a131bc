/**
 * A tenant stack: everything AWS holds for a group of tenants. Per tenant: access entries for
 * its people (STANDARD, Kubernetes groups `tenkai:<tenant>:<level>`, no EKS access policy), ECR
 * repositories under `<platform>/<tenant>/`, one IAM role per workload that needs AWS access or
 * the database (IRSA or Pod Identity), the database credentials secret, its log group and saved
 * Logs Insights queries.
 *
 * Only L1 resources and deterministic names: a tenant costs as few CloudFormation resources as
 * possible, and shared values come from SSM parameters (one CloudFormation parameter per stack),
 * not exports, so a platform of 1,000 tenants stays far from the 500-resource and 200-output
 * limits.
 */
import { CfnDeletionPolicy, CfnParameter, type StackProps } from "aws-cdk-lib";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import {
  clusterName,
  logGroupNames,
  repositoryName,
  ssmParameterNames,
  tenantDatabaseName,
  tenantDatabaseSecretName,
  workloadRoleName,
  workloadServiceAccount,
} from "../../shared/aws-names.js";
import type { Platform, Tenant } from "../../spec/schema.js";
import { tenantImages, tenantUsesDatabase, workloadsNeedingRole } from "../../spec/tenant-needs.js";
import { ack, ackWildcardResources } from "../nag.js";
import { TENANT_QUERIES, type TenantAccessEntry } from "../tenant-model.js";
import { irsaTrust, podIdentityTrustDocument } from "../trust.js";
import { TenkaiStack } from "./shared.js";

/** CloudFormation logical-id-safe form of a name. */
function cfnId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9]/g, "")).join("");
}

/** ECR actions a CI role needs to push (and read back what it pushed). */
const PUSH_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:CompleteLayerUpload",
  "ecr:GetDownloadUrlForLayer",
  "ecr:InitiateLayerUpload",
  "ecr:PutImage",
  "ecr:UploadLayerPart",
];

export interface TenantStackInput {
  readonly platform: Platform;
  readonly tenants: readonly Tenant[];
  /** Access entries this stack owns (principal → groups), decided across all tenants. */
  readonly accessEntries: readonly TenantAccessEntry[];
}

export class TenantStack extends TenkaiStack {
  private readonly oidcIssuer: string;
  private readonly logsKeyArn: string;
  private databaseEndpoint: string | undefined;

  constructor(scope: Construct, id: string, input: TenantStackInput, props: StackProps) {
    super(scope, id, props);
    const { platform } = input;
    this.oidcIssuer = new CfnParameter(this, "OidcIssuer", {
      type: "AWS::SSM::Parameter::Value<String>",
      default: ssmParameterNames.oidcIssuer(platform),
      description: "SSM parameter holding the cluster's OIDC issuer host path (written by the cluster stack)",
    }).valueAsString;
    this.logsKeyArn = new CfnParameter(this, "LogsKeyArn", {
      type: "AWS::SSM::Parameter::Value<String>",
      default: ssmParameterNames.logsKeyArn(platform),
      description: "SSM parameter holding the KMS key ARN for log groups (written by the cluster stack)",
    }).valueAsString;

    for (const entry of input.accessEntries) {
      new eks.CfnAccessEntry(
        this,
        cfnId("Access", entry.principalArn.split(":role/")[1] ?? entry.principalArn),
        {
          clusterName: clusterName(platform),
          principalArn: entry.principalArn,
          type: "STANDARD",
          // Groups only: tenkai's namespace Roles give the rights. No AmazonEKSEditPolicy, which
          // would let a tenant delete its own NetworkPolicies.
          kubernetesGroups: [...entry.groups],
        },
      );
    }
    for (const tenant of input.tenants) this.addTenant(platform, tenant);
  }

  private addTenant(platform: Platform, tenant: Tenant): void {
    const t = cfnId(tenant.name);
    const registry = platform.spec.registry;
    for (const image of tenantImages(tenant)) {
      const repo = new ecr.CfnRepository(this, cfnId("Repo", tenant.name, image), {
        repositoryName: repositoryName(platform, tenant.name, image),
        imageTagMutability: registry.immutableTags ? "IMMUTABLE" : "MUTABLE",
        imageScanningConfiguration: { scanOnPush: registry.scanOnPush },
        encryptionConfiguration: { encryptionType: "AES256" },
        lifecyclePolicy: {
          lifecyclePolicyText: JSON.stringify({
            rules: [
              {
                rulePriority: 1,
                description: `keep the newest ${registry.keepImages} images`,
                selection: {
                  tagStatus: "any",
                  countType: "imageCountMoreThan",
                  countNumber: registry.keepImages,
                },
                action: { type: "expire" },
              },
            ],
          }),
        },
        repositoryPolicyText: tenant.ciRole
          ? {
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "TenantCiPush",
                  Effect: "Allow",
                  Principal: { AWS: tenant.ciRole },
                  Action: PUSH_ACTIONS,
                },
              ],
            }
          : undefined,
      });
      // Images outlive a tenant's removal from the spec (and a non-empty repository cannot be deleted).
      repo.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
      repo.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    }

    const logGroup = new logs.CfnLogGroup(this, `${t}Logs`, {
      logGroupName: logGroupNames.tenant(platform, tenant.name),
      retentionInDays: platform.spec.logging.retentionDays,
      kmsKeyId: this.logsKeyArn,
    });
    for (const q of TENANT_QUERIES) {
      new logs.CfnQueryDefinition(this, cfnId(tenant.name, "Query", q.name), {
        name: `tenkai/${platform.metadata.name}/${tenant.name}/${q.name}`,
        logGroupNames: [logGroupNames.tenant(platform, tenant.name)],
        queryString: q.query,
      }).addResourceDependency(logGroup);
    }

    let secret: secretsmanager.CfnSecret | undefined;
    if (tenantUsesDatabase(tenant) && platform.spec.database) {
      const db = tenantDatabaseName(tenant.name);
      secret = new secretsmanager.CfnSecret(this, `${t}DatabaseSecret`, {
        name: tenantDatabaseSecretName(platform, tenant.name),
        description: `Database credentials of tenant ${tenant.name} (login role and database ${db})`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({
            engine: "postgres",
            host: this.databaseHost(platform),
            port: 5432,
            username: db,
            dbname: db,
          }),
          generateStringKey: "password",
          passwordLength: 32,
          excludePunctuation: true,
        },
      });
      ack(
        secret,
        "SMG4",
        "The password is set in PostgreSQL by tenkai's idempotent tenant SQL (ALTER ROLE ... PASSWORD from this secret) on every deploy; a Secrets Manager rotation Lambda would need VPC access to Aurora and would race that step. The master secret is rotated by RDS (ManageMasterUserPassword).",
      );
    }

    for (const w of workloadsNeedingRole(tenant)) {
      const sa = workloadServiceAccount(tenant.name, w.name);
      const roleName = workloadRoleName(platform, tenant.name, w.name);
      const statements: Record<string, unknown>[] = w.allow.map((a, i) => ({
        Sid: `SpecAllow${i}`,
        Effect: "Allow",
        Action: [...a.actions],
        Resource: [...a.resources],
      }));
      if (w.database && secret) {
        statements.push({
          Sid: "TenantDatabaseSecret",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: [secret.ref],
        });
      }
      const role = new iam.CfnRole(this, cfnId("Role", tenant.name, w.name), {
        roleName,
        description: `tenant ${tenant.name}: ${w.kind} ${w.name} (${w.podIdentity ? "EKS Pod Identity" : "IRSA"})`,
        assumeRolePolicyDocument: w.podIdentity
          ? podIdentityTrustDocument(this.account)
          : irsaTrust(sa, this.oidcIssuer),
        policies:
          statements.length > 0
            ? [{ policyName: "workload", policyDocument: { Version: "2012-10-17", Statement: statements } }]
            : undefined,
        tags: [
          { key: "tenkai.dev/tenant", value: tenant.name },
          { key: "tenkai.dev/workload", value: w.name },
        ],
      });
      ackWildcardResources(
        role,
        w.allow.flatMap((a) => a.resources),
        `Resource pattern written in platform.yaml for ${tenant.name}/${w.name} (aws.allow) and reviewed there; tenkai passes it through unchanged and rejects a bare "*".`,
      );
      if (w.podIdentity) {
        new eks.CfnPodIdentityAssociation(this, cfnId("PodIdentity", tenant.name, w.name), {
          clusterName: clusterName(platform),
          namespace: sa.namespace,
          serviceAccount: sa.name,
          roleArn: role.attrArn,
        });
      }
    }
  }

  /** The Aurora endpoint, read once per stack from the data stack's SSM parameter. */
  private databaseHost(platform: Platform): string {
    this.databaseEndpoint ??= new CfnParameter(this, "DatabaseEndpoint", {
      type: "AWS::SSM::Parameter::Value<String>",
      default: ssmParameterNames.databaseEndpoint(platform),
      description: "SSM parameter holding the Aurora writer endpoint (written by the data stack)",
    }).valueAsString;
    return this.databaseEndpoint;
  }
}
