/**
 * A node group stack: one node group as EKS managed node groups in blue/green slots. Only the
 * active slot exists unless the group is being rotated, when both do (the rotation moves pods
 * from the old slot to the new, then the old slot is removed by deploying the stack again with
 * the new slot only). The stack is the one owner of its node groups: `tenkai deploy` renders it
 * from the spec (`slotsFor`), the `stack` node provider (src/providers/stack) renders it from the
 * slots it finds deployed plus the one it adds, and each slot is recorded in the template's
 * `Metadata` (`SLOTS_METADATA`) so the next render knows exactly what exists.
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

/** Template `Metadata` key holding the stack's {@link NodeSlot}s. */
export const SLOTS_METADATA = "tenkai.dev/slots";

/** One slot of a node group as the stack renders it (and records it). */
export interface NodeSlot {
  readonly slot: Slot;
  readonly instanceTypes: readonly string[];
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly diskSizeGiB: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly {
    readonly key: string;
    readonly value?: string | undefined;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  }[];
  /** Kubernetes version of the slot's nodes (an upgrade's new slot). Default: the cluster's. */
  readonly kubernetesVersion?: string | undefined;
  /**
   * Zones the slot was asked to spread over, recorded to tell the same slot from another. The
   * slot uses every private subnet: the VPC's zones are `Fn::GetAZs` picks, unknown at synth.
   */
  readonly zones?: readonly string[] | undefined;
  /**
   * The slot being drained in a rotation: its maximum is held at its desired size, so Cluster
   * Autoscaler never scales it up (CA reads each Auto Scaling group's MaxSize and refuses an
   * increase beyond it: kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/
   * aws_cloud_provider.go, AwsNodeGroup.IncreaseSize, at cluster-autoscaler-chart-9.59.0). It can
   * still scale the drained slot down.
   */
  readonly draining?: boolean | undefined;
}

/** A spec node group's slot as `tenkai deploy` renders it. */
export function specSlot(group: NodeGroup, slot: Slot, draining: boolean): NodeSlot {
  return {
    slot,
    instanceTypes: [...group.instanceTypes],
    desired: group.desired ?? group.min,
    min: group.min,
    max: group.max,
    capacityType: group.capacityType,
    diskSizeGiB: group.diskSizeGiB,
    labels: { ...group.labels },
    taints: group.taints.map((t) => ({ ...t })),
    ...(draining ? { draining: true } : {}),
  };
}

/** The slots of a spec node group that exist: the active one, plus the other while rotating. */
export function slotsFor(group: NodeGroup, rotating: boolean): NodeSlot[] {
  const other: Slot = group.activeSlot === "blue" ? "green" : "blue";
  return rotating
    ? [specSlot(group, group.activeSlot, true), specSlot(group, other, false)]
    : [specSlot(group, group.activeSlot, false)];
}

/** Scaling of one slot (a draining slot's maximum is held at its desired size). */
export function scalingOf(s: NodeSlot): { minSize: number; maxSize: number; desiredSize: number } {
  if (s.draining) return { minSize: s.min, maxSize: Math.max(1, s.desired), desiredSize: s.desired };
  return { minSize: s.min, maxSize: s.max, desiredSize: s.desired };
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
    group: string,
    slots: readonly NodeSlot[],
    privateSubnetIds: readonly string[],
    props: StackProps,
  ) {
    super(scope, id, props);
    this.templateOptions.metadata = { [SLOTS_METADATA]: slots.map((s) => ({ ...s })) };
    const nodeRoleArn = `arn:${this.partition}:iam::${this.account}:role/${platformRoleNames.node(platform)}`;
    for (const s of slots) {
      const slot = s.slot;
      const ngName = nodegroupName(group, slot);
      const template = new ec2.CfnLaunchTemplate(this, `LaunchTemplate-${slot}`, {
        launchTemplateName: `${platform.metadata.name}-${ngName}`,
        launchTemplateData: {
          metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1, httpEndpoint: "enabled" },
          blockDeviceMappings: [
            {
              deviceName: "/dev/xvda",
              ebs: {
                volumeSize: s.diskSizeGiB,
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
        amiType: amiTypeFor(s.instanceTypes),
        instanceTypes: [...s.instanceTypes],
        capacityType: s.capacityType,
        scalingConfig: scalingOf(s),
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: template.ref, version: template.attrLatestVersionNumber },
        ...(s.kubernetesVersion ? { version: s.kubernetesVersion } : {}),
        labels: { ...s.labels, "tenkai.dev/node-group": group, "tenkai.dev/slot": slot },
        taints: s.taints.map((t) => ({
          key: t.key,
          value: t.value,
          effect: t.effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(),
        })),
      });
    }
  }
}
