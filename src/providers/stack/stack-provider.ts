/**
 * The `stack` node provider: on AWS a node group has one owner, its CloudFormation stack
 * `<platform>-nodes-<group>`. A slot is created by deploying that stack with both slots (the one
 * deployed, now draining, and the new one) and deleted by deploying it with the other slot only
 * (or destroying it when no slot is left), through the CDK toolkit library exactly as
 * `tenkai deploy` does (src/aws/toolkit.ts). What exists is read back from the deployed stack:
 * its template records its slots (`SLOTS_METADATA`), its resources say how far CloudFormation
 * got. When a slot is deleted and one remains, the node group's `activeSlot` in platform.yaml is
 * flipped in place (src/spec/node-group-edit.ts), so the next `tenkai deploy` renders what exists.
 *
 * Error mapping: a stack busy with another operation ("... _IN_PROGRESS state and can not be
 * updated", CloudFormation UpdateStack/CreateChangeSet) and throttling are THROTTLED (retryable);
 * describing failures are UNAVAILABLE; every other deploy failure is CREATE_FAILED or DELETE_FAILED
 * with the toolkit's TenkaiError (AWS_DEPLOY_FAILED, AWS_NO_CREDENTIALS, AWS_STACK_STUCK when the
 * stack stays in progress past `stackWaitTimeoutMs`, ...) as its cause. No call waits for ever.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  type StackResource,
} from "@aws-sdk/client-cloudformation";
import { type NodeSlot, SLOTS_METADATA, specSlot } from "../../aws/stacks/nodes.js";
import { synthesizeAwsPlane } from "../../aws/synth.js";
import {
  type AwsEventSink,
  type AwsToolkitOptions,
  deployAwsPlane,
  destroyAwsPlane,
} from "../../aws/toolkit.js";
import { nodegroupName, stackNames } from "../../shared/aws-names.js";
import { setActiveSlot } from "../../spec/node-group-edit.js";
import type { Platform } from "../../spec/schema.js";
import { instanceTypeTable, slotSpecProblem } from "../node-placement.js";
import {
  type NodeGroupSlotSpec,
  type NodeGroupSlotState,
  type NodeGroupStatus,
  type NodeProvider,
  NodeProviderError,
  type NodeProviderErrorCode,
  type Slot,
} from "../node-provider.js";

export interface StackNodeProviderOptions {
  /** The platform whose node group stacks are deployed (names, account, region, subnets). */
  readonly platform: Platform;
  /** Reads the deployed stacks (DescribeStacks, GetTemplate, DescribeStackResources); injected. */
  readonly cloudFormation: CloudFormationClient;
  /**
   * platform.yaml: once a slot is deleted and the other remains, that group's `activeSlot` is set
   * to it in place. Default: no file is touched (a platform.ts, or a test).
   */
  readonly specFile?: string;
  /** Called after `activeSlot` was changed in `specFile`. */
  readonly onActiveSlotWritten?: (group: string, slot: Slot, file: string) => void;
  /** Where the toolkit's progress goes (`aws.*` events). Default: nowhere. */
  readonly sink?: AwsEventSink;
  /** AWS profile for the toolkit. Default: the SDK's default chain. */
  readonly profile?: string;
  /**
   * How long the nodes stack may stay in progress while a slot is made or removed before the call
   * fails (CREATE_FAILED / DELETE_FAILED caused by AWS_STACK_STUCK). Default 60 minutes
   * (src/aws/toolkit.ts, STACK_WAIT_TIMEOUT_MS).
   */
  readonly stackWaitTimeoutMs?: number;
  /** How often the toolkit polls the stack. Default: the toolkit's, 2 s. */
  readonly pollIntervalMs?: number;
  /**
   * Names of the Kubernetes nodes of a node group (CloudFormation does not know them), usually a
   * query of the label `eks.amazonaws.com/nodegroup`. Default: none reported.
   */
  readonly nodeNames?: (nodegroupName: string) => Promise<readonly string[]>;
}

interface Deployed {
  readonly status: string;
  readonly slots: readonly NodeSlot[];
  readonly resources: readonly StackResource[];
}

export class StackNodeProvider implements NodeProvider {
  readonly name = "eks";
  constructor(private readonly o: StackNodeProviderOptions) {}

  async createSlot(spec: NodeGroupSlotSpec): Promise<void> {
    const name = spec.nodegroupName;
    const problem =
      name !== nodegroupName(spec.group, spec.slot)
        ? `the node group of slot ${spec.slot} of ${spec.group} is named ${nodegroupName(spec.group, spec.slot)}, not ${name}`
        : slotSpecProblem(spec, instanceTypeTable());
    if (problem)
      throw new NodeProviderError("CREATE_FAILED", `creating node group ${name}: ${problem}`, name);
    const deployed = await this.deployed(spec.group, name, "CREATE_FAILED");
    const want = this.slotOf(spec);
    const have = deployed?.slots.find((s) => s.slot === spec.slot);
    if (have) {
      if (sameSlot(have, want)) return;
      throw new NodeProviderError(
        "ALREADY_EXISTS_DIFFERENT",
        `node group ${name} already exists in stack ${this.stackName(spec.group)} with another spec (${slotText(have)}; asked ${slotText(want)}); delete it first or use the other slot`,
        name,
      );
    }
    // The slot deployed now is the one being drained: its maximum is held (no scale-up).
    const slots = [...(deployed?.slots ?? []).map((s) => ({ ...s, draining: true })), want];
    await this.deploy(spec.group, slots, name, "CREATE_FAILED");
  }

  async describeSlot(nodegroup: string): Promise<NodeGroupSlotState | undefined> {
    const parsed = parseNodegroup(nodegroup);
    if (!parsed) return undefined;
    const deployed = await this.deployed(parsed.group, nodegroup, "UNAVAILABLE");
    if (!deployed) return undefined;
    const resource = deployed.resources.find((r) => r.LogicalResourceId === `Nodegroup${parsed.slot}`);
    const inTemplate = deployed.slots.some((s) => s.slot === parsed.slot);
    if (!inTemplate && !/DELETE_IN_PROGRESS|DELETE_FAILED/.test(resource?.ResourceStatus ?? ""))
      return undefined;
    const status = resource?.ResourceStatus
      ? resourceStatus(resource.ResourceStatus)
      : stackStatus(deployed.status);
    const issues =
      resource?.ResourceStatusReason && /FAILED/.test(resource.ResourceStatus ?? "")
        ? [{ code: resource.ResourceStatus ?? "FAILED", message: resource.ResourceStatusReason }]
        : [];
    const nodeNames = this.o.nodeNames ? [...(await this.o.nodeNames(nodegroup))] : [];
    return { nodegroupName: nodegroup, status, nodeNames, issues };
  }

  async deleteSlot(nodegroup: string): Promise<void> {
    const parsed = parseNodegroup(nodegroup);
    if (!parsed) return;
    const deployed = await this.deployed(parsed.group, nodegroup, "DELETE_FAILED");
    if (!deployed?.slots.some((s) => s.slot === parsed.slot)) return;
    const remaining = deployed.slots
      .filter((s) => s.slot !== parsed.slot)
      .map(({ draining: _draining, ...s }) => s);
    // The file first: killed between the two, the next `tenkai deploy` still removes the old slot.
    const left = remaining[0];
    if (left && remaining.length === 1) this.writeActiveSlot(parsed.group, left.slot);
    if (remaining.length === 0) await this.destroy(parsed.group, deployed.slots, nodegroup);
    else await this.deploy(parsed.group, remaining, nodegroup, "DELETE_FAILED");
  }

  private stackName(group: string): string {
    return stackNames.nodes(this.o.platform, group);
  }

  /** The slot as the stack renders it; the spec's own group fills what a slot spec leaves out. */
  private slotOf(spec: NodeGroupSlotSpec): NodeSlot {
    const group = this.o.platform.spec.nodeGroups.find((g) => g.name === spec.group);
    return {
      slot: spec.slot,
      instanceTypes: [...spec.instanceTypes],
      desired: spec.desired,
      min: spec.min,
      max: spec.max,
      capacityType: spec.capacityType,
      diskSizeGiB: group?.diskSizeGiB ?? 50,
      labels: { ...spec.labels },
      taints: spec.taints.map((t) => ({ ...t })),
      ...(spec.kubernetesVersion !== this.o.platform.spec.cluster.version
        ? { kubernetesVersion: spec.kubernetesVersion }
        : {}),
      zones: [...spec.zones],
    };
  }

  /** The deployed stack, or undefined when it does not exist. */
  private async deployed(
    group: string,
    nodegroup: string,
    code: NodeProviderErrorCode,
  ): Promise<Deployed | undefined> {
    const StackName = this.stackName(group);
    try {
      const stacks = await this.o.cloudFormation.send(new DescribeStacksCommand({ StackName }));
      const status = stacks.Stacks?.[0]?.StackStatus ?? "";
      if (!status || status === "DELETE_COMPLETE") return undefined;
      const template = await this.o.cloudFormation.send(new GetTemplateCommand({ StackName }));
      const resources = await this.o.cloudFormation.send(new DescribeStackResourcesCommand({ StackName }));
      return {
        status,
        slots: this.slotsOf(group, template.TemplateBody ?? "{}"),
        resources: resources.StackResources ?? [],
      };
    } catch (err) {
      // DescribeStacks answers a missing stack with ValidationError "Stack with id X does not exist".
      if (errorName(err) === "ValidationError" && /does not exist/.test(errorMessage(err))) return undefined;
      throw mapError(err, code, nodegroup, `reading stack ${StackName}`);
    }
  }

  /**
   * The slots the template records; a stack deployed before slots were recorded has its
   * node groups read from its resources, with the spec's settings.
   */
  private slotsOf(group: string, body: string): NodeSlot[] {
    const template = JSON.parse(body) as {
      Metadata?: Record<string, unknown>;
      Resources?: Record<string, { Type?: string; Properties?: { NodegroupName?: string } }>;
    };
    const recorded = template.Metadata?.[SLOTS_METADATA];
    if (Array.isArray(recorded)) return recorded as NodeSlot[];
    const spec = this.o.platform.spec.nodeGroups.find((g) => g.name === group);
    if (!spec) return [];
    return Object.values(template.Resources ?? {})
      .filter((r) => r.Type === "AWS::EKS::Nodegroup")
      .flatMap((r) => {
        const slot = parseNodegroup(r.Properties?.NodegroupName ?? "")?.slot;
        return slot ? [specSlot(spec, slot, false)] : [];
      });
  }

  private async deploy(
    group: string,
    slots: readonly NodeSlot[],
    nodegroup: string,
    code: NodeProviderErrorCode,
  ): Promise<void> {
    const stack = this.stackName(group);
    await this.withAssembly(group, slots, async (assemblyDir) => {
      try {
        await deployAwsPlane({ assemblyDir, stacks: [stack], ...this.toolkitOptions() });
      } catch (err) {
        throw mapError(
          err,
          code,
          nodegroup,
          `deploying stack ${stack} with slot(s) ${slots.map((s) => s.slot).join(", ")}`,
        );
      }
    });
  }

  private async destroy(group: string, slots: readonly NodeSlot[], nodegroup: string): Promise<void> {
    const stack = this.stackName(group);
    await this.withAssembly(group, slots, async (assemblyDir) => {
      try {
        await destroyAwsPlane({ assemblyDir, stacks: [stack], ...this.toolkitOptions() });
      } catch (err) {
        throw mapError(err, "DELETE_FAILED", nodegroup, `destroying stack ${stack}, its last slot`);
      }
    });
  }

  /** What the toolkit is given besides the assembly and the stack. */
  private toolkitOptions(): Omit<AwsToolkitOptions, "assemblyDir"> {
    const { sink, profile, stackWaitTimeoutMs, pollIntervalMs } = this.o;
    return {
      ...(sink ? { sink } : {}),
      ...(profile ? { profile } : {}),
      ...(stackWaitTimeoutMs ? { stackWaitTimeoutMs } : {}),
      ...(pollIntervalMs ? { pollIntervalMs } : {}),
    };
  }

  /** Synthesizes the AWS plane with these slots for the group into a directory of its own. */
  private async withAssembly(
    group: string,
    slots: readonly NodeSlot[],
    act: (assemblyDir: string) => Promise<void>,
  ): Promise<void> {
    const outdir = mkdtempSync(join(tmpdir(), "tenkai-nodes-"));
    try {
      const { assemblyDir } = await synthesizeAwsPlane(this.o.platform, {
        outdir,
        nodeSlots: { [group]: slots },
      });
      await act(assemblyDir);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }

  private writeActiveSlot(group: string, slot: Slot): void {
    const file = this.o.specFile;
    if (!file || !this.o.platform.spec.nodeGroups.some((g) => g.name === group)) return;
    const edit = setActiveSlot(readFileSync(file, "utf8"), file, group, slot);
    if (!edit.changed) return;
    writeFileSync(file, edit.text);
    this.o.onActiveSlotWritten?.(group, slot, file);
  }
}

/** `general-green` -> { group: general, slot: green }. */
function parseNodegroup(name: string): { group: string; slot: Slot } | undefined {
  const m = /^(.+)-(blue|green)$/.exec(name);
  return m ? { group: m[1] as string, slot: m[2] as Slot } : undefined;
}

/** Same slot, whatever its draining state (that is the stack's business, not the slot's spec). */
function sameSlot(a: NodeSlot, b: NodeSlot): boolean {
  const { draining: _a, ...x } = a;
  const { draining: _b, ...y } = b;
  return canonical(x) === canonical(y);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([, x]) => x !== undefined)
            .sort(([p], [q]) => p.localeCompare(q)),
        )
      : value,
  );
}

function slotText(s: NodeSlot): string {
  return `${s.desired} × ${s.instanceTypes.join("/")} (min ${s.min}, max ${s.max})${s.kubernetesVersion ? `, Kubernetes ${s.kubernetesVersion}` : ""}`;
}

/** CloudFormation resource status -> slot status. */
function resourceStatus(s: string): NodeGroupStatus {
  if (s === "CREATE_IN_PROGRESS") return "CREATING";
  if (s === "CREATE_FAILED") return "CREATE_FAILED";
  if (s === "DELETE_IN_PROGRESS") return "DELETING";
  if (s === "DELETE_FAILED") return "DELETE_FAILED";
  if (s === "UPDATE_FAILED") return "DEGRADED";
  return "ACTIVE";
}

/** Stack status -> slot status, when the stack does not list the node group (yet). */
function stackStatus(s: string): NodeGroupStatus {
  if (/ROLLBACK|FAILED/.test(s)) return "CREATE_FAILED";
  if (/IN_PROGRESS/.test(s)) return "CREATING";
  return "ACTIVE";
}

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? "";
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function mapError(
  err: unknown,
  code: NodeProviderErrorCode,
  nodegroup: string,
  doing: string,
): NodeProviderError {
  const name = errorName(err);
  const message = errorMessage(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  let final = code;
  if (/Throttl|TooManyRequests|Rate exceeded/.test(`${name} ${message}`) || status === 429)
    final = "THROTTLED";
  else if (/_IN_PROGRESS state and can ?not be updated/.test(message)) final = "THROTTLED";
  else if (status !== undefined && status >= 500) final = "UNAVAILABLE";
  return new NodeProviderError(final, `${doing}: ${message}`, nodegroup, { cause: err });
}
