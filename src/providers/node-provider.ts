/**
 * The contract every node provider keeps. A provider hides where worker nodes come from: on AWS
 * the `stack` provider (src/providers/stack) creates and deletes managed node groups by deploying
 * their CloudFormation nodes stack, their one owner (there is no second way through the EKS node
 * group API); `kwok` creates simulated Node objects and `local` real nodes in a local cluster.
 * The rotation and upgrade engines only ever see this interface, and every implementation passes
 * the shared conformance suite in `test/support/provider-conformance.ts`.
 *
 * Modelled on Karpenter's `pkg/cloudprovider/types.go`: each method says what it returns and
 * which typed error it throws, so callers branch on `reason`, never on message text.
 */
import { TenkaiError } from "../shared/errors.js";

/** One of the two slots a spec node group rotates between. */
export type Slot = "blue" | "green";

/** What a provider needs to create one slot of a node group. Derived from the spec's node group. */
export interface NodeGroupSlotSpec {
  /** Spec node group name, e.g. `general`. */
  readonly group: string;
  readonly slot: Slot;
  /** Physical node group name: `<group>-<slot>`. Used as the `eks.amazonaws.com/nodegroup` label. */
  readonly nodegroupName: string;
  readonly instanceTypes: readonly string[];
  /** Desired node count at creation; between min and max. */
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /** Availability zones the slot spreads over, e.g. `["ap-northeast-1a", "ap-northeast-1c"]`. */
  readonly zones: readonly string[];
  /** Kubernetes version of the nodes, e.g. `1.35`. */
  readonly kubernetesVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly {
    key: string;
    value?: string;
    effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  }[];
  readonly capacityType: "ON_DEMAND" | "SPOT";
}

export type NodeGroupStatus =
  | "CREATING"
  | "ACTIVE"
  | "DELETING"
  | "CREATE_FAILED"
  | "DELETE_FAILED"
  | "DEGRADED";

/** What a provider reports about one slot. */
export interface NodeGroupSlotState {
  readonly nodegroupName: string;
  readonly status: NodeGroupStatus;
  /** Node names (Kubernetes `metadata.name`) the provider has launched for this slot. */
  readonly nodeNames: readonly string[];
  /** Provider health issues, e.g. EKS `NodeCreationFailure`, verbatim code and message. */
  readonly issues: readonly { code: string; message: string }[];
}

export interface NodeProvider {
  /** `eks` or `kwok`. */
  readonly name: string;

  /**
   * Starts creating the slot and returns once the request is accepted (not when nodes are Ready:
   * callers wait on the Kubernetes Node objects). Idempotent: if the slot already exists with the
   * same spec, returns without error.
   * @throws NodeProviderError `ALREADY_EXISTS_DIFFERENT` if it exists with another spec,
   *   `THROTTLED` when the API asks to slow down (retryable), `CREATE_FAILED` otherwise.
   */
  createSlot(spec: NodeGroupSlotSpec): Promise<void>;

  /**
   * Current state of the slot, or `undefined` when it does not exist (never throws for absence).
   * @throws NodeProviderError `THROTTLED` (retryable) or `UNAVAILABLE`.
   */
  describeSlot(nodegroupName: string): Promise<NodeGroupSlotState | undefined>;

  /**
   * Starts deleting the slot and its nodes. Idempotent: deleting a slot that does not exist
   * succeeds. Does not drain: the caller drains first.
   * @throws NodeProviderError `THROTTLED` (retryable) or `DELETE_FAILED`.
   */
  deleteSlot(nodegroupName: string): Promise<void>;
}

export type NodeProviderErrorCode =
  | "ALREADY_EXISTS_DIFFERENT"
  | "THROTTLED"
  | "CREATE_FAILED"
  | "DELETE_FAILED"
  | "UNAVAILABLE";

/**
 * A provider failure with a stable reason (its error code is `PROVIDER_<reason>`, from the one list
 * in shared/errors.ts); `retryable` says whether backing off and retrying may help.
 */
export class NodeProviderError extends TenkaiError {
  override readonly name = "NodeProviderError";
  constructor(
    readonly reason: NodeProviderErrorCode,
    message: string,
    readonly nodegroupName: string,
    options?: { cause?: unknown },
  ) {
    super(`PROVIDER_${reason}`, message, undefined, {
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
      details: { reason, nodegroup: nodegroupName },
    });
  }
  get retryable(): boolean {
    return this.reason === "THROTTLED" || this.reason === "UNAVAILABLE";
  }
}

export function isNodeProviderError(err: unknown, reason?: NodeProviderErrorCode): err is NodeProviderError {
  return err instanceof NodeProviderError && (reason === undefined || err.reason === reason);
}
