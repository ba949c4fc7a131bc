/**
 * Decide first, as data (STYLE.md 5): from a snapshot of the blue nodes, their pods, the budgets
 * and the green slot, work out what the rotation will evict, surge and skip, and every reason it
 * cannot go ahead. Nothing here talks to the cluster; `--dry-run` prints this plan.
 */
import type {
  V1Deployment,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
} from "@kubernetes/client-node";
import type { NodeGroupSlotSpec, Slot } from "../providers/node-provider.js";
import { nodegroupName } from "../shared/aws-names.js";
import { parseQuantity } from "../spec/quantity.js";
import { budgetMatchesPod, pdbKey } from "./budgets.js";
import { blockCode, controllerOf, decidePod, fixFor, podKey } from "./filters.js";
import type { Blocker, RotationPlan } from "./types.js";

export interface PlanInput {
  readonly group: string;
  readonly from: Slot;
  readonly to: Slot;
  readonly blueNodes: readonly V1Node[];
  readonly bluePods: readonly V1Pod[];
  readonly pdbs: readonly V1PodDisruptionBudget[];
  readonly replicaSets: readonly V1ReplicaSet[];
  readonly deployments: readonly V1Deployment[];
  readonly greenSpec: NodeGroupSlotSpec;
  /** What green offers for the moved pods (allocatable minus what already runs there). */
  readonly greenFree: { readonly cpuMilli: number; readonly memoryBytes: number; readonly pods: number };
  readonly forceUnreplicated: boolean;
  readonly deleteEmptyDirData: boolean;
  readonly noSurge: boolean;
  /** Tenant namespaces: their budgets are gotten past after `budgetTimeoutMs` (none when unset). */
  readonly tenantNamespaces?: ReadonlySet<string>;
  readonly budgetTimeoutMs?: number;
}

/** The Deployment that owns a pod through its ReplicaSet, if any. */
export function deploymentOf(
  pod: V1Pod,
  replicaSets: ReadonlyMap<string, V1ReplicaSet>,
  deployments: ReadonlyMap<string, V1Deployment>,
): V1Deployment | undefined {
  const owner = controllerOf(pod);
  if (owner?.kind !== "ReplicaSet") return undefined;
  const ns = pod.metadata?.namespace ?? "";
  const rs = replicaSets.get(`${ns}/${owner.name}`);
  const dep = rs?.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "Deployment");
  return dep ? deployments.get(`${ns}/${dep.name}`) : undefined;
}

export function keyed<T extends { metadata?: { namespace?: string; name?: string } }>(
  items: readonly T[],
): Map<string, T> {
  return new Map(items.map((i) => [`${i.metadata?.namespace ?? ""}/${i.metadata?.name ?? ""}`, i]));
}

/** Requests of a pod the way the scheduler counts them: max(sum of containers, largest init container). */
export function podRequests(pod: V1Pod): { cpuMilli: number; memoryBytes: number } {
  const sum = (
    cs: readonly { resources?: { requests?: Record<string, string> } }[] | undefined,
    key: string,
    reduce: "sum" | "max",
  ) =>
    (cs ?? []).reduce((acc, c) => {
      const q = c.resources?.requests?.[key];
      const v = q === undefined ? 0 : parseQuantity(q);
      return reduce === "sum" ? acc + v : Math.max(acc, v);
    }, 0);
  const cpu = Math.max(sum(pod.spec?.containers, "cpu", "sum"), sum(pod.spec?.initContainers, "cpu", "max"));
  const mem = Math.max(
    sum(pod.spec?.containers, "memory", "sum"),
    sum(pod.spec?.initContainers, "memory", "max"),
  );
  return { cpuMilli: Math.round(cpu * 1000), memoryBytes: Math.round(mem) };
}

/**
 * Healthy pods a budget demands when `expected` pods are expected, as the disruption controller
 * computes it (pkg/controller/disruption: percentages round up).
 */
export function desiredHealthy(pdb: V1PodDisruptionBudget, expected: number): number {
  const scaled = (v: number | string) =>
    typeof v === "number" ? v : Math.ceil((Number.parseFloat(v) / 100) * expected);
  const minAvailable = pdb.spec?.minAvailable;
  const maxUnavailable = pdb.spec?.maxUnavailable;
  if (maxUnavailable !== undefined) return Math.max(0, expected - scaled(maxUnavailable as number | string));
  if (minAvailable !== undefined) return scaled(minAvailable as number | string);
  return expected;
}

export function decide(input: PlanInput): RotationPlan {
  const blockers: Blocker[] = [];
  const warnings: { pod: string; code: string; message: string }[] = [];
  const skipped: { pod: string; reason: string }[] = [];
  const evict: string[] = [];
  const surge = new Set<string>();
  const rsByKey = keyed(input.replicaSets);
  const depByKey = keyed(input.deployments);
  let cpuMilli = 0;
  let memoryBytes = 0;
  let pods = 0;

  for (const pod of input.bluePods) {
    const key = podKey(pod);
    const node = pod.spec?.nodeName ?? "";
    const d = decidePod(pod, input);
    if (d.verdict === "skip") {
      skipped.push({ pod: key, reason: d.reason });
      continue;
    }
    if (d.verdict === "block") {
      blockers.push({
        code: blockCode(d.reason),
        message: `on node ${node}: ${d.message}`,
        fix: fixFor(d.reason),
        pod: key,
        node,
      });
      continue;
    }
    if (d.warning)
      warnings.push({ pod: key, code: `POD_${d.reason.toUpperCase()}_FORCED`, message: d.warning });
    if (d.reason === "finished") {
      evict.push(key);
      continue;
    }
    evict.push(key);
    const req = podRequests(pod);
    cpuMilli += req.cpuMilli;
    memoryBytes += req.memoryBytes;
    pods += 1;

    const deployment = deploymentOf(pod, rsByKey, depByKey);
    const depKey = deployment ? `${deployment.metadata?.namespace}/${deployment.metadata?.name}` : undefined;
    const surged = !input.noSurge && deployment !== undefined && (deployment.spec?.replicas ?? 1) === 1;
    if (surged && depKey && !surge.has(depKey)) {
      surge.add(depKey);
      cpuMilli += req.cpuMilli;
      memoryBytes += req.memoryBytes;
      pods += 1;
    }

    const budgets = input.pdbs.filter((b) => budgetMatchesPod(b, pod));
    // A tenant's budget bounds the rotation's wait, it cannot stop it (drain.ts: budget-overridden).
    const overridable =
      input.budgetTimeoutMs !== undefined &&
      Number.isFinite(input.budgetTimeoutMs) &&
      input.tenantNamespaces?.has(pod.metadata?.namespace ?? "") === true;
    const after = overridable ? `${((input.budgetTimeoutMs ?? 0) / 60_000).toFixed(1)} min` : "";
    if (budgets.length > 1 && overridable) {
      warnings.push({
        pod: key,
        code: "BUDGET_WILL_BE_OVERRIDDEN",
        message: `${key} on node ${node} is covered by ${budgets.length} PodDisruptionBudgets (${budgets.map(pdbKey).join(", ")}), which the Eviction API refuses; it is a tenant's pod, so it will be deleted after ${after}`,
      });
      continue;
    }
    if (budgets.length > 1) {
      blockers.push({
        code: "POD_MULTIPLE_BUDGETS",
        message: `${key} on node ${node} is covered by ${budgets.length} PodDisruptionBudgets (${budgets.map(pdbKey).join(", ")}); the Eviction API refuses such pods with HTTP 500`,
        fix: "narrow the budgets' selectors so each pod is covered by at most one",
        pod: key,
        node,
        budgets: budgets.map(pdbKey),
      });
      continue;
    }
    const pdb = budgets[0];
    if (pdb) {
      const expected = (pdb.status?.expectedPods ?? 0) + (surged ? 1 : 0);
      const want = desiredHealthy(pdb, expected);
      if (expected > 0 && want >= expected && overridable) {
        warnings.push({
          pod: key,
          code: "BUDGET_WILL_BE_OVERRIDDEN",
          message: `PodDisruptionBudget ${pdbKey(pdb)} allows no disruption of its ${expected} pod(s) (needs ${want} healthy); ${key} on node ${node} is a tenant's pod, so it will be deleted after ${after} of waiting`,
        });
      } else if (expected > 0 && want >= expected) {
        blockers.push({
          code: "BUDGET_ALLOWS_NONE",
          message: `PodDisruptionBudget ${pdbKey(pdb)} allows no disruption of its ${expected} pod(s) (needs ${want} healthy), so ${key} on node ${node} can never be evicted`,
          fix:
            surged || input.noSurge
              ? "relax the budget (maxUnavailable ≥ 1 or a lower minAvailable) or add replicas"
              : "relax the budget or add replicas (single-replica Deployments are surged unless --no-surge)",
          pod: key,
          node,
          budgets: [pdbKey(pdb)],
        });
      }
    }
  }

  const greenZones = new Set(input.greenSpec.zones);
  const blueZones = [
    ...new Set(
      input.blueNodes
        .map((n) => n.metadata?.labels?.["topology.kubernetes.io/zone"])
        .filter((z): z is string => !!z),
    ),
  ].sort();
  const missing = blueZones.filter((z) => !greenZones.has(z));
  if (missing.length > 0) {
    blockers.push({
      code: "ZONE_NOT_COVERED",
      message: `blue nodes run in ${missing.join(", ")} but the green slot ${input.greenSpec.nodegroupName} spreads only over ${[...greenZones].join(", ")}`,
      fix: "give the green slot subnets in every zone the blue nodes use",
    });
  }
  const short: string[] = [];
  if (cpuMilli > input.greenFree.cpuMilli)
    short.push(`CPU ${cpuMilli}m requested, ${input.greenFree.cpuMilli}m allocatable`);
  if (memoryBytes > input.greenFree.memoryBytes) {
    short.push(`memory ${mib(memoryBytes)}Mi requested, ${mib(input.greenFree.memoryBytes)}Mi allocatable`);
  }
  if (pods > input.greenFree.pods) short.push(`${pods} pods, room for ${input.greenFree.pods}`);
  if (short.length > 0) {
    blockers.push({
      code: "GREEN_TOO_SMALL",
      message: `the green slot ${input.greenSpec.nodegroupName} (${input.greenSpec.desired} × ${input.greenSpec.instanceTypes.join("/")}) cannot hold the pods to move: ${short.join("; ")}`,
      fix: "raise the node group's desired/max or pick a larger instance type in platform.yaml",
    });
  }

  return {
    group: input.group,
    from: input.from,
    to: input.to,
    fromNodegroup: nodegroupName(input.group, input.from),
    toNodegroup: input.greenSpec.nodegroupName,
    blueNodes: input.blueNodes
      .map((n) => n.metadata?.name ?? "")
      .sort((a, b) => a.localeCompare(b, "en", { numeric: true })),
    zones: blueZones,
    greenSpec: input.greenSpec,
    evict,
    surge: [...surge].sort(),
    skipped,
    warnings,
    blockers,
    capacity: {
      cpuMilli,
      memoryBytes,
      pods,
      greenCpuMilli: input.greenFree.cpuMilli,
      greenMemoryBytes: input.greenFree.memoryBytes,
      greenPods: input.greenFree.pods,
    },
  };
}

function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}
