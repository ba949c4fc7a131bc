/**
 * `tenkai nodes status [GROUP]`: where each rotation stands, from its record in the cluster plus
 * a live count of the nodes in each slot and the workload pods still on the old slot.
 */

import { TenkaiError } from "../shared/errors.js";
import { kubeMessage } from "../shared/kube-errors.js";
import type { ClusterClients } from "./cluster.js";
import { decidePod } from "./filters.js";
import { slotNodes } from "./nodes.js";
import { StateStore } from "./state.js";
import type { RotationState } from "./types.js";

export interface RotationStatus extends RotationState {
  readonly live: {
    readonly fromNodes: number;
    readonly fromCordoned: number;
    readonly toNodes: number;
    readonly toReady: number;
    /** Workload pods (not DaemonSet or mirror pods) still on the old slot's nodes. */
    readonly podsLeft: number;
  };
}

/** Where each recorded rotation stands, read through `clients` (`clientsFor(kubeConfig)`). */
export async function rotationStatus(
  clients: ClusterClients,
  group?: string,
  stateNamespace?: string,
): Promise<RotationStatus[]> {
  const store = new StateStore(clients.core, stateNamespace);
  const states = group
    ? [await store.read(group)].filter((s): s is RotationState => s !== undefined)
    : await store.list();
  const out: RotationStatus[] = [];
  for (const s of states.sort((a, b) => a.group.localeCompare(b.group))) {
    const [fromNodes, toNodes] = await Promise.all([
      slotNodes(clients, s.fromNodegroup),
      slotNodes(clients, s.toNodegroup),
    ]);
    let podsLeft = 0;
    for (const n of fromNodes) {
      const pods = await clients.core
        .listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${n.metadata?.name}` })
        .catch((err: unknown) => {
          throw new TenkaiError(
            "ROTATION_LIST_FAILED",
            `listing pods on ${n.metadata?.name}: ${kubeMessage(err)}`,
            "check that tenkai may list pods in every namespace",
            { cause: err },
          );
        });
      podsLeft += pods.items.filter(
        (p) => decidePod(p, { forceUnreplicated: true, deleteEmptyDirData: true }).verdict !== "skip",
      ).length;
    }
    out.push({
      ...s,
      live: {
        fromNodes: fromNodes.length,
        fromCordoned: fromNodes.filter((n) => n.spec?.unschedulable).length,
        toNodes: toNodes.length,
        toReady: toNodes.filter((n) =>
          n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        ).length,
        podsLeft,
      },
    });
  }
  return out;
}
