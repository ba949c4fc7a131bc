/**
 * The record of a node group slot made by a local provider (`kwok`, `local`): a ConfigMap holding
 * the slot's spec and its hash, the way EKS keeps a node group that has zero nodes, so
 * `describeSlot` answers for a slot with `desired: 0` too and a second `createSlot` can tell "the
 * same spec again" (carry on) from "another spec" (refuse).
 */
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { kubeMessage, kubeStatus } from "../shared/kube-errors.js";
import {
  type InstanceType,
  NODEGROUP_LABEL,
  PROVIDER_LABEL,
  SLOT_SPEC_HASH_ANNOTATION,
} from "./node-placement.js";
import { type NodeGroupSlotSpec, NodeProviderError, type NodeProviderErrorCode } from "./node-provider.js";

const STATE_KEY = "spec.json";

/** What every provider that makes its nodes in the cluster itself (`kwok`, `local`) is given. */
export interface InClusterProviderOptions {
  /** The local cluster's kubeconfig: nodes and slot records go there. */
  readonly kubeConfig: KubeConfig;
  /** Namespace of the ConfigMaps that record each slot's spec. Default `kube-system`. */
  readonly stateNamespace?: string;
  /** `topology.kubernetes.io/region`; default: derived from each zone (`ap-northeast-1a` -> `ap-northeast-1`). */
  readonly region?: string;
  /** Instance-type table; default `data/instance-types.json`. */
  readonly instanceTypes?: Readonly<Record<string, InstanceType>>;
}

/**
 * The names of a node group's Kubernetes nodes, sorted: a query of the label EKS (and every
 * provider here) puts on them. For a provider whose API does not know its nodes (CloudFormation).
 */
export function nodegroupNodeNames(kubeConfig: KubeConfig): (nodegroupName: string) => Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async (nodegroupName) =>
    (await core.listNode({ labelSelector: `${NODEGROUP_LABEL}=${nodegroupName}` })).items
      .map((n) => n.metadata?.name ?? "")
      .sort();
}

export class SlotRecords {
  private readonly prefix: string;

  /**
   * @param provider names the records (`tenkai-<provider>-nodegroup-<name>`) and labels them.
   * @param namespace where the ConfigMaps live (`kube-system` by default in the providers).
   */
  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly provider: string,
  ) {
    this.prefix = `tenkai-${provider}-nodegroup-`;
  }

  /**
   * Records the slot, or finds it recorded with the same hash (finishing a create that was
   * interrupted). Extra `data` is stored beside the spec (the provider's own bookkeeping).
   * @throws NodeProviderError `ALREADY_EXISTS_DIFFERENT` (another hash), `CREATE_FAILED` (being
   *   deleted, or the API failed), `THROTTLED` (HTTP 429).
   */
  async record(spec: NodeGroupSlotSpec, hash: string): Promise<void> {
    const name = spec.nodegroupName;
    const body: V1ConfigMap = {
      metadata: {
        name: this.prefix + name,
        namespace: this.namespace,
        labels: { [PROVIDER_LABEL]: this.provider, [NODEGROUP_LABEL]: name },
        annotations: { [SLOT_SPEC_HASH_ANNOTATION]: hash },
      },
      data: { [STATE_KEY]: JSON.stringify(spec) },
    };
    try {
      await this.core.createNamespacedConfigMap({ namespace: this.namespace, body });
      return;
    } catch (err) {
      if (statusOf(err) !== 409)
        throw wrapApiError(err, "CREATE_FAILED", name, `recording node group ${name}`);
    }
    const existing = await this.read(name, "CREATE_FAILED");
    if (existing?.metadata?.deletionTimestamp) {
      throw new NodeProviderError(
        "CREATE_FAILED",
        `node group ${name} is being deleted; create it again once it is gone`,
        name,
      );
    }
    const existingHash = existing?.metadata?.annotations?.[SLOT_SPEC_HASH_ANNOTATION];
    if (existingHash !== hash) {
      throw new NodeProviderError(
        "ALREADY_EXISTS_DIFFERENT",
        `node group ${name} already exists with another spec (hash ${existingHash}, asked ${hash}); delete it first or use the other slot`,
        name,
      );
    }
  }

  /** The record, or undefined when the slot does not exist. */
  async read(name: string, code: NodeProviderErrorCode): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: this.prefix + name, namespace: this.namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw wrapApiError(err, code, name, `reading the record of node group ${name}`);
    }
  }

  /** Deletes the record; a missing record is fine. */
  async remove(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({ name: this.prefix + name, namespace: this.namespace });
    } catch (err) {
      if (statusOf(err) !== 404)
        throw wrapApiError(err, "DELETE_FAILED", name, `deleting the record of node group ${name}`);
    }
  }
}

/** The spec stored in a record (undefined for a hand-edited record that no longer parses). */
export function recordedSpec(record: V1ConfigMap): Partial<NodeGroupSlotSpec> | undefined {
  try {
    return JSON.parse(record.data?.[STATE_KEY] ?? "{}") as Partial<NodeGroupSlotSpec>;
  } catch {
    return undefined;
  }
}

/** `general-blue-2` before `general-blue-10`. */
export function compareNodeNames(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** The HTTP status of a Kubernetes API failure (shared/kube-errors.ts normalises both clients). */
export function statusOf(err: unknown): number | undefined {
  return kubeStatus(err);
}

/** Wraps an API failure with what was being done; a 429 (API Priority and Fairness) is THROTTLED. */
export function wrapApiError(
  err: unknown,
  code: NodeProviderErrorCode,
  nodegroupName: string,
  doing: string,
): NodeProviderError {
  const status = statusOf(err);
  const finalCode: NodeProviderErrorCode = status === 429 ? "THROTTLED" : code;
  const detail = status !== undefined ? `HTTP ${status}: ${kubeMessage(err)}` : String(err);
  return new NodeProviderError(finalCode, `${doing}: ${detail}`, nodegroupName, { cause: err });
}
