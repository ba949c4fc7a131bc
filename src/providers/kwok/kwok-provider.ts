/**
 * The `kwok` node provider: a node group slot is a set of simulated Node objects in a local
 * cluster (cluster/up.sh), which kwok turns Ready, keeps alive with Leases and runs pods on.
 * The slot's spec lives in a ConfigMap, the way EKS keeps a node group that has zero nodes, so
 * `describeSlot` answers for a slot with `desired: 0` too.
 */
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Node } from "@kubernetes/client-node";
import { kubeMessage, kubeStatus } from "../../shared/kube-errors.js";
import {
  type NodeGroupSlotSpec,
  type NodeGroupSlotState,
  type NodeGroupStatus,
  type NodeProvider,
  NodeProviderError,
  type NodeProviderErrorCode,
} from "../node-provider.js";
import {
  buildNode,
  type KwokInstanceType,
  kwokInstanceTypes,
  NODEGROUP_LABEL,
  PROVIDER_LABEL,
  SLOT_SPEC_HASH_ANNOTATION,
  slotSpecHash,
} from "./node-template.js";

export interface KwokNodeProviderOptions {
  /** Where the nodes go: the local cluster's kubeconfig (`TestCluster.kubeConfig`). */
  readonly kubeConfig: KubeConfig;
  /** Namespace of the ConfigMaps that record each slot's spec. Default `kube-system`. */
  readonly stateNamespace?: string;
  /**
   * Taint nodes `kwok.x-k8s.io/node=fake:NoSchedule`. Default false: in a kwok-only cluster there
   * are no real nodes to protect, and EKS nodes carry no such taint, so workloads should not need
   * a toleration EKS does not. Turn it on in a cluster that also has real nodes.
   */
  readonly taintFakeNodes?: boolean;
  /** `topology.kubernetes.io/region`; default: derived from each zone (`ap-northeast-1a` -> `ap-northeast-1`). */
  readonly region?: string;
  /** Instance-type table; default `data/instance-types.json`. */
  readonly instanceTypes?: Readonly<Record<string, KwokInstanceType>>;
}

const STATE_PREFIX = "tenkai-kwok-nodegroup-";
const STATE_KEY = "spec.json";

export class KwokNodeProvider implements NodeProvider {
  readonly name = "kwok";
  private readonly core: CoreV1Api;
  private readonly stateNamespace: string;
  private readonly taintFakeNodes: boolean;
  private readonly region: string | undefined;
  private readonly instanceTypes: Readonly<Record<string, KwokInstanceType>>;

  constructor(options: KwokNodeProviderOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.stateNamespace = options.stateNamespace ?? "kube-system";
    this.taintFakeNodes = options.taintFakeNodes ?? false;
    this.region = options.region;
    this.instanceTypes = options.instanceTypes ?? kwokInstanceTypes();
  }

  async createSlot(spec: NodeGroupSlotSpec): Promise<void> {
    const name = spec.nodegroupName;
    const problem = validate(spec, this.instanceTypes);
    if (problem)
      throw new NodeProviderError("CREATE_FAILED", `creating node group ${name}: ${problem}`, name);
    const hash = slotSpecHash(spec);
    const nodes: V1Node[] = [];
    for (let i = 0; i < spec.desired; i++) {
      nodes.push(
        buildNode(spec, i, {
          taintFakeNodes: this.taintFakeNodes,
          instanceTypes: this.instanceTypes,
          ...(this.region ? { region: this.region } : {}),
        }),
      );
    }

    // 1. Record the slot, or find it recorded: same hash -> carry on (finishes a create that was
    //    interrupted), another hash -> refuse.
    const state: V1ConfigMap = {
      metadata: {
        name: STATE_PREFIX + name,
        namespace: this.stateNamespace,
        labels: { [PROVIDER_LABEL]: "kwok", [NODEGROUP_LABEL]: name },
        annotations: { [SLOT_SPEC_HASH_ANNOTATION]: hash },
      },
      data: { [STATE_KEY]: JSON.stringify(spec) },
    };
    try {
      await this.core.createNamespacedConfigMap({ namespace: this.stateNamespace, body: state });
    } catch (err) {
      if (kubeStatus(err) !== 409) throw wrap(err, "CREATE_FAILED", name, `recording node group ${name}`);
      const existing = await this.readState(name, "CREATE_FAILED");
      const existingHash = existing?.metadata?.annotations?.[SLOT_SPEC_HASH_ANNOTATION];
      if (existing?.metadata?.deletionTimestamp) {
        throw new NodeProviderError(
          "CREATE_FAILED",
          `node group ${name} is being deleted; create it again once it is gone`,
          name,
        );
      }
      if (existingHash !== hash) {
        throw new NodeProviderError(
          "ALREADY_EXISTS_DIFFERENT",
          `node group ${name} already exists with another spec (hash ${existingHash}, asked ${hash}); delete it first or use the other slot`,
          name,
        );
      }
    }

    // 2. Create the nodes; one that exists already must carry the same hash.
    await Promise.all(
      nodes.map(async (node) => {
        const nodeName = node.metadata?.name ?? "";
        try {
          await this.core.createNode({ body: node });
        } catch (err) {
          if (kubeStatus(err) !== 409)
            throw wrap(err, "CREATE_FAILED", name, `creating node ${nodeName} of node group ${name}`);
          const existing = await this.core.readNode({ name: nodeName }).catch((e: unknown) => {
            throw wrap(e, "CREATE_FAILED", name, `reading node ${nodeName} of node group ${name}`);
          });
          if (existing.metadata?.annotations?.[SLOT_SPEC_HASH_ANNOTATION] !== hash) {
            throw new NodeProviderError(
              "ALREADY_EXISTS_DIFFERENT",
              `node ${nodeName} already exists and was not made for this spec of node group ${name}; delete it or pick another node group name`,
              name,
            );
          }
        }
      }),
    );
  }

  async describeSlot(nodegroupName: string): Promise<NodeGroupSlotState | undefined> {
    const state = await this.readState(nodegroupName, "UNAVAILABLE");
    if (!state) return undefined;
    const nodes = await this.listNodes(nodegroupName, "UNAVAILABLE");
    const ready = nodes.filter((n) =>
      n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    let desired = 0;
    try {
      desired = (JSON.parse(state.data?.[STATE_KEY] ?? "{}") as Partial<NodeGroupSlotSpec>).desired ?? 0;
    } catch {
      // A hand-edited ConfigMap: report what the nodes say.
    }
    let status: NodeGroupStatus = "ACTIVE";
    if (state.metadata?.deletionTimestamp) status = "DELETING";
    else if (nodes.length < desired || ready.length < nodes.length) status = "CREATING";
    return {
      nodegroupName,
      status,
      nodeNames: nodes.map((n) => n.metadata?.name ?? "").sort(compareNodeNames),
      issues: [],
    };
  }

  async deleteSlot(nodegroupName: string): Promise<void> {
    try {
      await this.core.deleteCollectionNode({
        labelSelector: `${NODEGROUP_LABEL}=${nodegroupName},${PROVIDER_LABEL}=kwok`,
      });
    } catch (err) {
      if (kubeStatus(err) !== 404)
        throw wrap(err, "DELETE_FAILED", nodegroupName, `deleting the nodes of node group ${nodegroupName}`);
    }
    try {
      await this.core.deleteNamespacedConfigMap({
        name: STATE_PREFIX + nodegroupName,
        namespace: this.stateNamespace,
      });
    } catch (err) {
      if (kubeStatus(err) !== 404)
        throw wrap(err, "DELETE_FAILED", nodegroupName, `deleting the record of node group ${nodegroupName}`);
    }
  }

  private async readState(name: string, code: NodeProviderErrorCode): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({
        name: STATE_PREFIX + name,
        namespace: this.stateNamespace,
      });
    } catch (err) {
      if (kubeStatus(err) === 404) return undefined;
      throw wrap(err, code, name, `reading the record of node group ${name}`);
    }
  }

  private async listNodes(name: string, code: NodeProviderErrorCode): Promise<V1Node[]> {
    try {
      const list = await this.core.listNode({
        labelSelector: `${NODEGROUP_LABEL}=${name},${PROVIDER_LABEL}=kwok`,
      });
      return list.items;
    } catch (err) {
      throw wrap(err, code, name, `listing the nodes of node group ${name}`);
    }
  }
}

function validate(
  spec: NodeGroupSlotSpec,
  types: Readonly<Record<string, KwokInstanceType>>,
): string | undefined {
  if (spec.zones.length === 0)
    return "no zones given; list the availability zones the node group spreads over";
  if (spec.instanceTypes.length === 0) return "no instance types given";
  const unknown = spec.instanceTypes.filter((t) => types[t] === undefined);
  if (unknown.length > 0) {
    return `instance type ${unknown.join(", ")} is not in data/instance-types.json; use one of ${Object.keys(types).join(", ")} or add it to the table`;
  }
  if (!Number.isInteger(spec.desired) || spec.desired < spec.min || spec.desired > spec.max) {
    return `desired ${spec.desired} must be a whole number between min ${spec.min} and max ${spec.max}`;
  }
  return undefined;
}

/** `general-blue-2` before `general-blue-10`. */
function compareNodeNames(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** 429 from the apiserver (API Priority and Fairness, or max-requests-inflight) is THROTTLED. */
function wrap(
  err: unknown,
  code: NodeProviderErrorCode,
  nodegroupName: string,
  doing: string,
): NodeProviderError {
  const status = kubeStatus(err);
  const finalCode: NodeProviderErrorCode = status === 429 ? "THROTTLED" : code;
  const detail = status !== undefined ? `HTTP ${status}: ${kubeMessage(err)}` : String(err);
  return new NodeProviderError(finalCode, `${doing}: ${detail}`, nodegroupName, { cause: err });
}
