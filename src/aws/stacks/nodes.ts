/**
 * A node group stack: one spec node group as EKS managed node groups in blue/green slots. Only
 * the active slot exists unless the group is being rotated, when both do (the rotation engine
 * moves pods from the old slot to the new, then the old slot is removed by the next deploy).
 *
 * Launch templates require IMDSv2 with a hop limit of 1, so pods on the node network cannot
 * reach the node role's credentials (pods get AWS access through IRSA or Pod Identity instead).
 */
import type { StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import type { Construct } from "constructs";
import { clusterName, nodegroupName, platformRoleNames } from "../../shared/aws-names.js";
import type { NodeGroup, Platform } from "../../spec/schema.js";
import { TenkaiStack } from "./shared.js";

export type Slot = "blue" | "green";

/** The slots of a node group that exist: the active one, plus the other while rotating. */
export function slotsFor(group: NodeGroup, rotating: boolean): Slot[] {
  const other: Slot = group.activeSlot === "blue" ? "green" : "blue";
  return rotating ? [group.activeSlot, other] : [group.activeSlot];
}

/**
 * Scaling of one slot. While a group rotates, the slot being drained (the spec's active slot)
 * has its maximum held at its desired size, so Cluster Autoscaler never scales it up: CA reads
 * each Auto Scaling group's MaxSize and refuses an increase beyond it (kubernetes/autoscaler
 * cluster-autoscaler/cloudprovider/aws/aws_cloud_provider.go, AwsNodeGroup.IncreaseSize, at
 * cluster-autoscaler-chart-9.59.0). It can still scale the drained slot down.
 */
export function scalingFor(
  group: NodeGroup,
  slot: Slot,
  rotating: boolean,
): { minSize: number; maxSize: number; desiredSize: number } {
  const desiredSize = group.desired ?? group.min;
  if (rotating && slot === group.activeSlot)
    return { minSize: group.min, maxSize: Math.max(1, desiredSize), desiredSize };
  return { minSize: group.min, maxSize: group.max, desiredSize };
}

/** AL2023 AMI type for the instance types (Graviton families like m7g are arm64). */
export function amiTypeFor(instanceTypes: readonly string[]): string {
  const arm = instanceTypes.map((t) => /^[a-z]+\d+[a-z]*g[a-z]*\./.test(t));
  return arm.every(Boolean) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

export class NodeGroupStack extends TenkaiStack {
  constructor(
    scope: Construct,
    id: string,
    platform: Platform,
    group: NodeGroup,
    privateSubnetIds: readonly string[],
    rotating: boolean,
    props: StackProps,
  ) {
    super(scope, id, props);
    const nodeRoleArn = `arn:${this.partition}:iam::${this.account}:role/${platformRoleNames.node(platform)}`;
    for (const slot of slotsFor(group, rotating)) {
      const ngName = nodegroupName(group.name, slot);
      const template = new ec2.CfnLaunchTemplate(this, `LaunchTemplate-${slot}`, {
        launchTemplateName: `${platform.metadata.name}-${ngName}`,
        launchTemplateData: {
          metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1, httpEndpoint: "enabled" },
          blockDeviceMappings: [
            {
              deviceName: "/dev/xvda",
              ebs: {
                volumeSize: group.diskSizeGiB,
                volumeType: "gp3",
                encrypted: true,
                deleteOnTermination: true,
              },
            },
          ],
          tagSpecifications: [
            {
              resourceType: "instance",
              tags: [{ key: "Name", value: `${platform.metadata.name}-${ngName}` }],
            },
          ],
        },
      });
      new eks.CfnNodegroup(this, `Nodegroup-${slot}`, {
        clusterName: clusterName(platform),
        nodegroupName: ngName,
        nodeRole: nodeRoleArn,
        subnets: [...privateSubnetIds],
        amiType: amiTypeFor(group.instanceTypes),
        instanceTypes: [...group.instanceTypes],
        capacityType: group.capacityType,
        scalingConfig: scalingFor(group, slot, rotating),
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: template.ref, version: template.attrLatestVersionNumber },
        labels: { ...group.labels, "tenkai.dev/node-group": group.name, "tenkai.dev/slot": slot },
        taints: group.taints.map((t) => ({
          key: t.key,
          value: t.value,
          effect: t.effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(),
        })),
      });
    }
  }
}
