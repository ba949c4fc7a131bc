/**
 * The network stack: a VPC over the spec's AZs with tenkai's subnet plan (private subnets for
 * nodes and pods, small public subnets for the ALB and NAT gateways), NAT per the spec, and VPC
 * flow logs to an encrypted CloudWatch log group.
 */
import { Fn, RemovalPolicy, type StackProps, Tags } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { logGroupNames } from "../../shared/aws-names.js";
import { subnetPlan } from "../../spec/network.js";
import type { Platform } from "../../spec/schema.js";
import { logsKeyPolicy, retention, TenkaiStack } from "./shared.js";

export class NetworkStack extends TenkaiStack {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, platform: Platform, props: StackProps) {
    super(scope, id, props);
    const { network } = platform.spec;
    const plan = subnetPlan(network);
    // AZs as `Fn::Select [i, Fn::GetAZs]` so synth needs no AZ lookup (no AWS call to plan);
    // names like ap-northeast-1b do not exist in every account, GetAZs picks real ones at deploy.
    const azs = plan.private.map((_, i) => Fn.select(i, Fn.getAzs()));
    this.vpc = new ec2.Vpc(this, "Vpc", {
      ipAddresses: ec2.IpAddresses.cidr(network.vpcCidr),
      availabilityZones: azs,
      natGateways: network.natGateways ?? network.azs,
      // CDK allocates in this order and runs out of room with the large private subnets last; the
      // real blocks are set from the plan below anyway.
      subnetConfiguration: [
        { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: plan.privateMask },
        {
          name: "Public",
          subnetType: ec2.SubnetType.PUBLIC,
          cidrMask: plan.publicMask,
          mapPublicIpOnLaunch: false,
        },
        // Aurora only, no route out: tenants' NetworkPolicies allow the database port to these alone.
        { name: "Database", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: plan.publicMask },
      ],
      // CDK restricts the default security group with a Lambda-backed custom resource; tenkai
      // deploys no Lambda, and nothing is placed in the default group.
      restrictDefaultSecurityGroup: false,
    });
    // The AWS Load Balancer Controller cannot reach IMDS from a pod (hop limit 1): it finds the
    // VPC by this tag (--aws-vpc-tags).
    Tags.of(this.vpc).add("tenkai.dev/platform", platform.metadata.name);
    // CDK allocates public subnets first; tenkai's plan puts private subnets at the start of the
    // VPC (pods take VPC addresses, so they get the room) and the public ones in the last quarter.
    this.vpc.publicSubnets.forEach((s, i) => {
      (s.node.defaultChild as ec2.CfnSubnet).cidrBlock = plan.public[i];
    });
    this.vpc.privateSubnets.forEach((s, i) => {
      (s.node.defaultChild as ec2.CfnSubnet).cidrBlock = plan.private[i];
    });
    this.vpc.isolatedSubnets.forEach((s, i) => {
      (s.node.defaultChild as ec2.CfnSubnet).cidrBlock = plan.database[i];
    });
    const key = new kms.Key(this, "FlowLogsKey", {
      description: `tenkai ${platform.metadata.name}: VPC flow logs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    logsKeyPolicy(key, this, [logGroupNames.vpcFlowLogs(platform)]);
    const group = new logs.LogGroup(this, "FlowLogs", {
      logGroupName: logGroupNames.vpcFlowLogs(platform),
      retention: retention(platform.spec.logging.retentionDays),
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, "FlowLogsRole", {
      assumedBy: new iam.ServicePrincipal("vpc-flow-logs.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": this.account } },
      }),
    });
    group.grantWrite(role);
    this.vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(group, role),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
