/**
 * The cluster stack: the EKS control plane (aws-eks-v2, access entries only, no kubectl Lambda),
 * its KMS keys, the IAM OIDC provider for IRSA, the platform roles (nodes, Fargate pods, AWS Load
 * Balancer Controller, Fluent Bit), Fargate profiles, platform log groups and admin access entries.
 *
 * Values the tenant stacks need (OIDC issuer, logs key) are published as SSM parameters with
 * deterministic names, so hundreds of tenant stacks read them without CloudFormation exports.
 */
import { RemovalPolicy, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import {
  clusterName,
  logGroupNames,
  partitionOf,
  platformRoleNames,
  platformServiceAccounts,
  ssmParameterNames,
} from "../../shared/aws-names.js";
import { albControllerVersion, readData } from "../../shared/data.js";
import { TenkaiError } from "../../shared/errors.js";
import type { Platform } from "../../spec/schema.js";
import { ackManagedPolicies, ackWildcardResources } from "../nag.js";
import { irsaTrust, issuerHostPath } from "../trust.js";
import { addManagedAddons, CLUSTER_STACK_ADDONS } from "./addons.js";
import { addAlbAccessLogs } from "./alb-access-logs.js";
import { logsKeyPolicy, retention, TenkaiStack } from "./shared.js";

/**
 * The controller's IAM policy must be the one published with the controller version the
 * Kubernetes plane installs, so the version is read from that plane's pinned manifests.
 */
export function loadBalancerControllerPolicy(): PublishedPolicy {
  const version = albControllerVersion().replace(/^v/, "");
  const file = `aws-load-balancer-controller-iam-policy-v${version}.json`;
  try {
    return readData<PublishedPolicy>(file);
  } catch (err) {
    throw new TenkaiError(
      "AWS_LBC_POLICY_MISSING",
      `no IAM policy for AWS Load Balancer Controller v${version} (data/${file})`,
      `save docs/install/iam_policy.json of kubernetes-sigs/aws-load-balancer-controller at tag v${version} as data/${file} (same layout as the other versions)`,
      { cause: err },
    );
  }
}

export interface PublishedPolicy {
  readonly version: string;
  readonly source: string;
  readonly policy: { readonly Statement: readonly unknown[] };
}

/** Characters of the Fluent Bit inline policy spent on resource ARNs (IAM's limit is 10,240 per role). */
const INLINE_POLICY_BUDGET = 8000;

/** EKS access policy granting cluster-admin (only for spec.cluster.adminRoles). */
const CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy";

export class ClusterStack extends TenkaiStack {
  readonly cluster: eks.Cluster;
  /** OIDC issuer host path (token), e.g. `oidc.eks.<region>.amazonaws.com/id/<ID>`. */
  readonly oidcIssuer: string;

  constructor(scope: Construct, id: string, platform: Platform, vpc: ec2.IVpc, props: StackProps) {
    super(scope, id, props);
    const name = clusterName(platform);
    const spec = platform.spec;

    const secretsKey = new kms.Key(this, "SecretsKey", {
      description: `tenkai ${name}: EKS Kubernetes secrets envelope encryption`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const endpoint = spec.cluster.endpoint;
    let endpointAccess: eks.EndpointAccess;
    if (endpoint.public && endpoint.private) endpointAccess = eks.EndpointAccess.PUBLIC_AND_PRIVATE;
    else if (endpoint.public) endpointAccess = eks.EndpointAccess.PUBLIC;
    else endpointAccess = eks.EndpointAccess.PRIVATE;
    if (endpoint.public && endpoint.publicCidrs.length > 0)
      endpointAccess = endpointAccess.onlyFrom(...endpoint.publicCidrs);

    this.cluster = new eks.Cluster(this, "Cluster", {
      clusterName: name,
      version: eks.KubernetesVersion.of(spec.cluster.version),
      vpc,
      // Control-plane ENIs go in the private subnets only; the public ones are for the ALB.
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      // Node groups live in their own stacks (blue/green slots); no default capacity, no Auto Mode.
      defaultCapacity: 0,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      // Access entries only; the creator gets no hidden admin: admins are the spec's adminRoles.
      // validate refuses a spec with neither (SPEC_NO_ADMIN): nobody could get in.
      bootstrapClusterCreatorAdminPermissions: spec.cluster.creatorAdmin,
      secretsEncryptionKey: secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
      ],
      endpointAccess,
      // Set, not left to EKS's pick, so tenants' NetworkPolicies can keep egress out of it.
      serviceIpv4Cidr: spec.network.serviceCidr,
      outputConfigCommand: false,
      // No kubectlProviderOptions: tenkai applies Kubernetes objects itself (DESIGN.md).
    });
    ackManagedPolicies(
      this.cluster.role,
      ["AmazonEKSClusterPolicy"],
      "The EKS cluster service role must carry AmazonEKSClusterPolicy (EKS user guide, cluster IAM role); AWS maintains it as EKS adds features.",
    );
    (this.cluster.node.defaultChild as eks.CfnCluster).upgradePolicy = {
      supportType: spec.cluster.supportType,
    };

    this.oidcIssuer = issuerHostPath(this.cluster.clusterOpenIdConnectIssuerUrl);
    // Native AWS::IAM::OIDCProvider (no thumbprint: IAM trusts the EKS issuer's CA itself).
    new iam.CfnOIDCProvider(this, "OidcProvider", {
      url: this.cluster.clusterOpenIdConnectIssuerUrl,
      clientIdList: ["sts.amazonaws.com"],
    });
    new ssm.StringParameter(this, "OidcIssuerParameter", {
      parameterName: ssmParameterNames.oidcIssuer(platform),
      stringValue: this.oidcIssuer,
      description: "OIDC issuer host path of the EKS cluster (IRSA trust policies of tenant roles)",
    });

    this.addLogging(platform);
    this.addAdminAccess(spec.cluster.adminRoles);
    this.addNodeRole(platform);
    this.addFargate(platform, vpc);
    this.addLoadBalancerControllerRole(platform);
    this.addFluentBitRole(platform);
    addAlbAccessLogs(this, platform);
    // registry.enhancedScanning is applied by `tenkai deploy` as a read-merge-write of the
    // account's registry scanning configuration (registry-scanning.ts): the CloudFormation
    // resource would replace the account's other rules.
    for (const addon of addManagedAddons(this, platform, CLUSTER_STACK_ADDONS))
      addon.addResourceDependency(this.cluster.node.defaultChild as eks.CfnCluster);
    this.addClusterAutoscalerRole(platform);
  }

  /**
   * Cluster Autoscaler's own role (IRSA), with the policy its AWS README recommends for
   * auto-discovery; the two scaling actions only reach Auto Scaling groups tagged as this
   * cluster's (EKS tags managed node groups' groups `k8s.io/cluster-autoscaler/<cluster>=owned`).
   */
  private addClusterAutoscalerRole(platform: Platform): void {
    const describe = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
      "eks:DescribeNodegroup",
    ];
    const role = new iam.CfnRole(this, "ClusterAutoscalerRole", {
      roleName: platformRoleNames.clusterAutoscaler(platform),
      description: "Cluster Autoscaler (IRSA): scales this cluster's managed node groups only",
      assumeRolePolicyDocument: irsaTrust(platformServiceAccounts.clusterAutoscaler, this.oidcIssuer),
      policies: [
        {
          policyName: "cluster-autoscaler",
          policyDocument: {
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Action: describe, Resource: "*" },
              {
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: "*",
                Condition: {
                  StringEquals: {
                    [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName(platform)}`]: "owned",
                  },
                },
              },
            ],
          },
        },
      ],
    });
    ackWildcardResources(
      role,
      ["*"],
      "Describe calls take no resource ARN (Auto Scaling, EC2 and EKS describe actions); the two scaling actions are confined by the aws:ResourceTag condition to this cluster's node groups, whose Auto Scaling group names EKS chooses at creation.",
    );
  }

  private addLogging(platform: Platform): void {
    const prefix = logGroupNames.prefix(platform);
    const key = new kms.Key(this, "LogsKey", {
      description: `tenkai ${platform.metadata.name}: CloudWatch Logs (platform and tenant log groups)`,
      enableKeyRotation: true,
      alias: `alias/tenkai/${platform.metadata.name}/logs`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logsKeyPolicy(key, this, [`${prefix}*`]);
    new ssm.StringParameter(this, "LogsKeyParameter", {
      parameterName: ssmParameterNames.logsKeyArn(platform),
      stringValue: key.keyArn,
      description: "KMS key for tenkai's CloudWatch log groups",
    });
    new logs.LogGroup(this, "PlatformLogs", {
      logGroupName: logGroupNames.platform(platform),
      retention: retention(platform.spec.logging.retentionDays),
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private addAdminAccess(adminRoles: readonly string[]): void {
    adminRoles.forEach((principalArn, i) => {
      new eks.CfnAccessEntry(this, `AdminAccess${i}`, {
        clusterName: this.cluster.clusterName,
        principalArn,
        type: "STANDARD",
        accessPolicies: [
          {
            policyArn: `arn:${this.partition}:eks::aws:cluster-access-policy/${CLUSTER_ADMIN_POLICY}`,
            accessScope: { type: "cluster" },
          },
        ],
      });
    });
  }

  private addNodeRole(platform: Platform): void {
    const role = new iam.Role(this, "NodeRole", {
      roleName: platformRoleNames.node(platform),
      description: "EKS managed node groups: kubelet, VPC CNI and image pulls (pull only)",
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName("AmazonEKSWorkerNodePolicy"),
        iam.ManagedPolicy.fromAwsManagedPolicyName("AmazonEKS_CNI_Policy"),
        iam.ManagedPolicy.fromAwsManagedPolicyName("AmazonEC2ContainerRegistryPullOnly"),
      ],
    });
    ackManagedPolicies(
      role,
      ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"],
      "The managed node group role needs exactly these AWS-maintained policies (EKS user guide, node IAM role); the registry policy is the pull-only one, so nodes cannot push images.",
    );
  }

  private addFargate(platform: Platform, vpc: ec2.IVpc): void {
    const profiles = platform.spec.fargate.profiles;
    if (profiles.length === 0) return;
    const name = clusterName(platform);
    const role = new iam.Role(this, "FargatePodExecutionRole", {
      roleName: platformRoleNames.fargatePodExecution(platform),
      description: "EKS Fargate pod execution: image pulls and the Fargate log router",
      assumedBy: new iam.ServicePrincipal("eks-fargate-pods.amazonaws.com", {
        conditions: {
          ArnLike: {
            "aws:SourceArn": `arn:${this.partition}:eks:${this.region}:${this.account}:fargateprofile/${name}/*`,
          },
        },
      }),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName("AmazonEKSFargatePodExecutionRolePolicy")],
    });
    ackManagedPolicies(
      role,
      ["AmazonEKSFargatePodExecutionRolePolicy"],
      "EKS requires AmazonEKSFargatePodExecutionRolePolicy on the Fargate pod execution role (EKS user guide); it only allows pulling images.",
    );
    // The Fargate log router (aws-observability ConfigMap) writes with the pod execution role,
    // to the log group of the pod's tenant namespace, or to the platform group as a fallback.
    const namespaces = new Set(profiles.flatMap((p) => p.selectors.map((s) => s.namespace)));
    const groups = [
      logGroupNames.platform(platform),
      ...platform.spec.tenants
        .filter((t) => namespaces.has(t.name))
        .map((t) => logGroupNames.tenant(platform, t.name)),
    ];
    const resources = groups.flatMap((g) => [
      logGroupArn(platform, g),
      `${logGroupArn(platform, g)}:log-stream:*`,
    ]);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        resources,
      }),
    );
    ackWildcardResources(
      role.node.findChild("DefaultPolicy"),
      resources,
      "Log stream names are chosen at run time by the Fargate log router (one per pod); each wildcard is confined to one named log group of a tenant whose namespace a Fargate profile selects.",
    );
    const subnetIds = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    let previous: eks.CfnFargateProfile | undefined;
    for (const profile of profiles) {
      const p = new eks.CfnFargateProfile(this, `FargateProfile-${profile.name}`, {
        clusterName: name,
        fargateProfileName: profile.name,
        podExecutionRoleArn: role.roleArn,
        subnets: subnetIds,
        selectors: profile.selectors.map((s) => ({
          namespace: s.namespace,
          labels: Object.entries(s.labels).map(([key, value]) => ({ key, value })),
        })),
      });
      p.addResourceDependency(this.cluster.node.defaultChild as eks.CfnCluster);
      // EKS creates or deletes one Fargate profile at a time per cluster (ResourceInUseException).
      if (previous) p.addResourceDependency(previous);
      previous = p;
    }
  }

  private addLoadBalancerControllerRole(platform: Platform): void {
    const published = loadBalancerControllerPolicy();
    const policyDocument = withPartition(
      published.policy,
      partitionOf(platform.spec.aws.region),
    ) as typeof published.policy;
    const policy = new iam.CfnManagedPolicy(this, "LoadBalancerControllerPolicy", {
      managedPolicyName: `${platform.metadata.name}-aws-load-balancer-controller-v${published.version}`,
      description: `AWS Load Balancer Controller v${published.version} published policy (${published.source})`,
      policyDocument,
    });
    ackWildcardResources(
      policy,
      policyDocument.Statement.flatMap((st) => {
        const r = (st as { Resource?: string | string[] }).Resource ?? [];
        return Array.isArray(r) ? r : [r];
      }),
      `The AWS Load Balancer Controller's published IAM policy v${published.version}, kept verbatim (${published.source}); its mutating statements are confined by the elbv2.k8s.aws/cluster tag conditions, and the controller creates load balancers whose ARNs cannot be known in advance.`,
    );
    new iam.CfnRole(this, "LoadBalancerControllerRole", {
      roleName: platformRoleNames.loadBalancerController(platform),
      description: "AWS Load Balancer Controller (IRSA)",
      assumeRolePolicyDocument: irsaTrust(platformServiceAccounts.loadBalancerController, this.oidcIssuer),
      managedPolicyArns: [policy.ref],
    });
  }

  private addFluentBitRole(platform: Platform): void {
    const groups = [
      logGroupNames.platform(platform),
      ...platform.spec.tenants.map((t) => logGroupNames.tenant(platform, t.name)),
    ];
    // Tenant groups are listed by name while they fit IAM's 10,240-character inline limit; a large
    // platform falls back to the `/tenkai/<platform>/` prefix, under which only tenkai creates groups.
    const listed = groups.flatMap((g) => [
      logGroupArn(platform, g),
      `${logGroupArn(platform, g)}:log-stream:*`,
    ]);
    const resources =
      listed.reduce((n, arn) => n + arn.length + 40, 0) < INLINE_POLICY_BUDGET
        ? listed
        : [
            logGroupArn(platform, logGroupNames.platform(platform)),
            `${logGroupArn(platform, logGroupNames.platform(platform))}:log-stream:*`,
            logGroupArn(platform, `${logGroupNames.prefix(platform)}*`),
          ];
    const fluentBit = new iam.CfnRole(this, "FluentBitRole", {
      roleName: platformRoleNames.fluentBit(platform),
      description: "Fluent Bit (IRSA): writes to tenkai's platform and tenant log groups only",
      assumeRolePolicyDocument: irsaTrust(platformServiceAccounts.fluentBit, this.oidcIssuer),
      policies: [
        {
          policyName: "write-tenkai-log-groups",
          policyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                Resource: resources,
              },
            ],
          },
        },
      ],
    });
    ackWildcardResources(
      fluentBit,
      resources,
      "Fluent Bit names log streams at run time (one per pod); every wildcard is confined to tenkai's own log groups, which only tenkai's stacks create.",
    );
  }
}

/** Log group ARN with a literal partition (so cdk-nag finding ids are plain strings). */
function logGroupArn(platform: Platform, name: string): string {
  const { account, region } = platform.spec.aws;
  return `arn:${partitionOf(region)}:logs:${region}:${account}:log-group:${name}`;
}

/** Deep copy of a published policy with `arn:aws:` rewritten to the stack's partition. */
function withPartition(value: unknown, partition: string): unknown {
  if (typeof value === "string")
    return value.startsWith("arn:aws:") ? `arn:${partition}:${value.slice(8)}` : value;
  if (Array.isArray(value)) return value.map((v) => withPartition(v, partition));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPartition(v, partition)]));
  }
  return value;
}
