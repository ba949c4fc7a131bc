/**
 * The `eks` node provider: a node group slot is an EKS managed node group
 * (CreateNodegroup / DescribeNodegroup / DeleteNodegroup). The slot spec's hash travels as a tag,
 * so creating the same slot again is recognised (idempotent) and another spec is refused.
 *
 * Error mapping (EKS API reference, "Common Errors" and each action's errors):
 * ThrottlingException / TooManyRequestsException / HTTP 429 -> THROTTLED (retryable);
 * ServerException / ServiceUnavailableException / HTTP 5xx -> UNAVAILABLE (retryable);
 * ResourceInUseException on create -> compare the existing node group's spec hash.
 */
import { createHash } from "node:crypto";
import {
  CreateNodegroupCommand,
  DeleteNodegroupCommand,
  DescribeNodegroupCommand,
  type EKSClient,
  type Nodegroup,
  type Taint,
} from "@aws-sdk/client-eks";
import {
  type NodeGroupSlotSpec,
  type NodeGroupSlotState,
  type NodeGroupStatus,
  type NodeProvider,
  NodeProviderError,
  type NodeProviderErrorCode,
} from "../node-provider.js";

export const SPEC_HASH_TAG = "tenkai.dev/slot-spec-hash";

export interface EksNodeProviderOptions {
  /** Injected, so tests point it at moto or a mock. */
  readonly client: EKSClient;
  readonly clusterName: string;
  /** IAM role the nodes run as (the nodes stack creates it). */
  readonly nodeRoleArn: string;
  /** Private subnets per availability zone; a slot uses the subnets of its zones. */
  readonly subnetsByZone: Readonly<Record<string, readonly string[]>>;
  /** Launch template for the nodes; without one EKS uses its default with `diskSizeGiB`. */
  readonly launchTemplate?: { readonly name?: string; readonly id?: string; readonly version?: string };
  /** Root volume size when no launch template is given. Default 50. */
  readonly diskSizeGiB?: number;
  /** Extra tags on the node group. */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Instance types this account may launch; when given, createSlot refuses others before calling
   * the API (EKS answers InvalidParameterException only after the node group exists).
   */
  readonly knownInstanceTypes?: readonly string[];
  /**
   * Names of the Kubernetes nodes of a node group (EKS does not return them). Usually a query of
   * the label `eks.amazonaws.com/nodegroup` in the cluster. Default: none reported.
   */
  readonly nodeNames?: (nodegroupName: string) => Promise<readonly string[]>;
}

/** EKS wants NO_SCHEDULE / NO_EXECUTE / PREFER_NO_SCHEDULE. */
const TAINT_EFFECT = {
  NoSchedule: "NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
} as const;

export function slotSpecHash(spec: NodeGroupSlotSpec): string {
  const canonical = JSON.stringify(spec, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

export class EksNodeProvider implements NodeProvider {
  readonly name = "eks";
  constructor(private readonly o: EksNodeProviderOptions) {}

  async createSlot(spec: NodeGroupSlotSpec): Promise<void> {
    const name = spec.nodegroupName;
    const problem = this.validate(spec);
    if (problem)
      throw new NodeProviderError("CREATE_FAILED", `creating node group ${name}: ${problem}`, name);
    const hash = slotSpecHash(spec);
    const lt = this.o.launchTemplate;
    try {
      await this.o.client.send(
        new CreateNodegroupCommand({
          clusterName: this.o.clusterName,
          nodegroupName: name,
          nodeRole: this.o.nodeRoleArn,
          subnets: spec.zones.flatMap((z) => [...(this.o.subnetsByZone[z] ?? [])]),
          instanceTypes: [...spec.instanceTypes],
          capacityType: spec.capacityType,
          scalingConfig: { minSize: spec.min, maxSize: spec.max, desiredSize: spec.desired },
          labels: { ...spec.labels },
          taints: spec.taints.map(
            (t): Taint => ({
              key: t.key,
              effect: TAINT_EFFECT[t.effect],
              ...(t.value ? { value: t.value } : {}),
            }),
          ),
          ...(lt
            ? { launchTemplate: { ...lt } }
            : { diskSize: this.o.diskSizeGiB ?? 50, version: spec.kubernetesVersion }),
          tags: {
            ...this.o.tags,
            [SPEC_HASH_TAG]: hash,
            "tenkai.dev/node-group": spec.group,
            "tenkai.dev/slot": spec.slot,
          },
          // Same spec, same token: a retried request is the same request to EKS.
          clientRequestToken: `${name}-${hash}`.slice(0, 64),
        }),
      );
    } catch (err) {
      if (errorName(err) !== "ResourceInUseException")
        throw mapError(err, "CREATE_FAILED", name, `creating node group ${name}`);
      const existing = await this.describeRaw(name, "CREATE_FAILED");
      if (!existing)
        throw new NodeProviderError(
          "CREATE_FAILED",
          `node group ${name} is in use but cannot be described; try again`,
          name,
          { cause: err },
        );
      if (existing.status === "DELETING") {
        throw new NodeProviderError(
          "CREATE_FAILED",
          `node group ${name} is being deleted; create it again once it is gone`,
          name,
          { cause: err },
        );
      }
      const have = existing.tags?.[SPEC_HASH_TAG];
      if (have !== hash) {
        throw new NodeProviderError(
          "ALREADY_EXISTS_DIFFERENT",
          `node group ${name} already exists with another spec (hash ${have ?? "none: not made by tenkai"}, asked ${hash}); delete it first or use the other slot`,
          name,
          { cause: err },
        );
      }
    }
  }

  async describeSlot(nodegroupName: string): Promise<NodeGroupSlotState | undefined> {
    const ng = await this.describeRaw(nodegroupName, "UNAVAILABLE");
    if (!ng) return undefined;
    const issues = (ng.health?.issues ?? []).map((i) => ({
      code: String(i.code ?? "Unknown"),
      message: `${i.message ?? ""}${i.resourceIds?.length ? ` (${i.resourceIds.join(", ")})` : ""}`,
    }));
    const names = this.o.nodeNames ? [...(await this.o.nodeNames(nodegroupName))] : [];
    return { nodegroupName, status: mapStatus(ng.status), nodeNames: names, issues };
  }

  async deleteSlot(nodegroupName: string): Promise<void> {
    try {
      await this.o.client.send(
        new DeleteNodegroupCommand({ clusterName: this.o.clusterName, nodegroupName }),
      );
    } catch (err) {
      // Gone already, or already being deleted: the outcome the caller asked for.
      if (errorName(err) === "ResourceNotFoundException" || errorName(err) === "ResourceInUseException")
        return;
      throw mapError(err, "DELETE_FAILED", nodegroupName, `deleting node group ${nodegroupName}`);
    }
  }

  private async describeRaw(name: string, code: NodeProviderErrorCode): Promise<Nodegroup | undefined> {
    try {
      const out = await this.o.client.send(
        new DescribeNodegroupCommand({ clusterName: this.o.clusterName, nodegroupName: name }),
      );
      return out.nodegroup;
    } catch (err) {
      if (errorName(err) === "ResourceNotFoundException") return undefined;
      throw mapError(err, code, name, `describing node group ${name}`);
    }
  }

  private validate(spec: NodeGroupSlotSpec): string | undefined {
    if (spec.zones.length === 0)
      return "no zones given; list the availability zones the node group spreads over";
    const missing = spec.zones.filter((z) => (this.o.subnetsByZone[z] ?? []).length === 0);
    if (missing.length > 0)
      return `no subnet given for zone(s) ${missing.join(", ")}; pass a private subnet for each zone`;
    if (spec.instanceTypes.length === 0) return "no instance types given";
    const known = this.o.knownInstanceTypes;
    const unknown = known ? spec.instanceTypes.filter((t) => !known.includes(t)) : [];
    if (unknown.length > 0)
      return `instance type ${unknown.join(", ")} is not offered here; use one of ${known?.join(", ")}`;
    if (!Number.isInteger(spec.desired) || spec.desired < spec.min || spec.desired > spec.max) {
      return `desired ${spec.desired} must be a whole number between min ${spec.min} and max ${spec.max}`;
    }
    return undefined;
  }
}

function mapStatus(s: string | undefined): NodeGroupStatus {
  switch (s) {
    case "CREATING":
    case "DELETING":
    case "CREATE_FAILED":
    case "DELETE_FAILED":
    case "DEGRADED":
    case "ACTIVE":
      return s;
    // UPDATING: the node group serves while EKS replaces nodes.
    default:
      return "ACTIVE";
  }
}

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? "";
}

function mapError(
  err: unknown,
  code: NodeProviderErrorCode,
  nodegroupName: string,
  doing: string,
): NodeProviderError {
  const name = errorName(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  let final = code;
  if (
    name === "ThrottlingException" ||
    name === "TooManyRequestsException" ||
    name === "Throttling" ||
    status === 429
  )
    final = "THROTTLED";
  else if (
    name === "ServerException" ||
    name === "ServiceUnavailableException" ||
    (status !== undefined && status >= 500)
  )
    final = "UNAVAILABLE";
  const message = err instanceof Error ? err.message : String(err);
  return new NodeProviderError(final, `${doing}: ${name ? `${name}: ` : ""}${message}`, nodegroupName, {
    cause: err,
  });
}
