/**
 * The `kwok` node provider: a node group slot is a set of simulated Node objects in a local
 * cluster (cluster/up.sh), which kwok turns Ready, keeps alive with Leases and runs pods on.
 * The slot's spec lives in a ConfigMap, the way EKS keeps a node group that has zero nodes, so
 * `describeSlot` answers for a slot with `desired: 0` too.
 */
import { CoreV1Api, type V1Node } from "@kubernetes/client-node";
import {
  PROVIDER_LABEL,
  SLOT_SPEC_HASH_ANNOTATION,
  slotSpecHash,
  slotSpecProblem,
} from "../node-placement.js";
import {
  type NodeGroupSlotSpec,
  type NodeGroupSlotState,
  type NodeGroupStatus,
  type NodeProvider,
  NodeProviderError,
  type NodeProviderErrorCode,
} from "../node-provider.js";
import {
  compareNodeNames,
  type InClusterProviderOptions,
  recordedSpec,
  SlotRecords,
  statusOf,
  wrapApiError as wrap,
} from "../slot-records.js";
import { buildNode, type KwokInstanceType, kwokInstanceTypes, NODEGROUP_LABEL } from "./node-template.js";

export interface KwokNodeProviderOptions extends InClusterProviderOptions {
  /**
   * Taint nodes `kwok.x-k8s.io/node=fake:NoSchedule`. Default false: in a kwok-only cluster there
   * are no real nodes to protect, and EKS nodes carry no such taint, so workloads should not need
   * a toleration EKS does not. Turn it on in a cluster that also has real nodes.
   */
  readonly taintFakeNodes?: boolean;
}

export class KwokNodeProvider implements NodeProvider {
  readonly name = "kwok";
  private readonly core: CoreV1Api;
  private readonly records: SlotRecords;
  private readonly taintFakeNodes: boolean;
  private readonly region: string | undefined;
  private readonly instanceTypes: Readonly<Record<string, KwokInstanceType>>;

  constructor(options: KwokNodeProviderOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.records = new SlotRecords(this.core, options.stateNamespace ?? "kube-system", "kwok");
    this.taintFakeNodes = options.taintFakeNodes ?? false;
    this.region = options.region;
    this.instanceTypes = options.instanceTypes ?? kwokInstanceTypes();
  }

  async createSlot(spec: NodeGroupSlotSpec): Promise<void> {
    const name = spec.nodegroupName;
    const problem = slotSpecProblem(spec, this.instanceTypes);
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
    await this.records.record(spec, hash);

    // 2. Create the nodes; one that exists already must carry the same hash.
    await Promise.all(
      nodes.map(async (node) => {
        const nodeName = node.metadata?.name ?? "";
        try {
          await this.core.createNode({ body: node });
        } catch (err) {
          if (statusOf(err) !== 409)
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
    const state = await this.records.read(nodegroupName, "UNAVAILABLE");
    if (!state) return undefined;
    const nodes = await this.listNodes(nodegroupName, "UNAVAILABLE");
    const ready = nodes.filter((n) =>
      n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    // A hand-edited record that no longer parses: report what the nodes say.
    const desired = recordedSpec(state)?.desired ?? 0;
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
      if (statusOf(err) !== 404)
        throw wrap(err, "DELETE_FAILED", nodegroupName, `deleting the nodes of node group ${nodegroupName}`);
    }
    await this.records.remove(nodegroupName);
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
