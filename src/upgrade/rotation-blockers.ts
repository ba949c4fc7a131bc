/**
 * What would stop the node rotations of an upgrade, decided before anything moves. Each node
 * group is rotated onto nodes of the new version, so every pod on a managed node is evicted once.
 * The rotation's own decision (src/rotation/plan.ts `decide`, with kubectl's drain filters and the
 * PodDisruptionBudget arithmetic) is reused as it is; the upgrade adds what only matters when
 * every node moves:
 *
 * - pods with no readiness probe (the replacement takes traffic before it can serve);
 * - single replicas that cannot be surged (StatefulSets, bare ReplicaSets, or any with --no-surge);
 * - fail-closed admission webhooks served only from nodes to be drained: while their pod moves,
 *   the API server rejects every request the webhook matches — including the pods that would
 *   replace it.
 */
import type {
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1ReplicaSet,
  V1Service,
  V1StatefulSet,
  V1ValidatingWebhookConfiguration,
} from "@kubernetes/client-node";
import type { Slot } from "../providers/node-provider.js";
import { budgetMatchesPod, selectorMatches } from "../rotation/budgets.js";
import { controllerOf, isReady, podKey } from "../rotation/filters.js";
import { decide, deploymentOf, keyed } from "../rotation/plan.js";
import { groupOfSlot, NODEGROUP_LABEL } from "./skew.js";
import type { Finding } from "./types.js";

export interface ClusterSnapshot {
  readonly nodes: readonly V1Node[];
  readonly pods: readonly V1Pod[];
  readonly pdbs: readonly V1PodDisruptionBudget[];
  readonly replicaSets: readonly V1ReplicaSet[];
  readonly deployments: readonly V1Deployment[];
  readonly statefulSets: readonly V1StatefulSet[];
  readonly services: readonly V1Service[];
  readonly validatingWebhooks: readonly V1ValidatingWebhookConfiguration[];
  readonly mutatingWebhooks: readonly V1MutatingWebhookConfiguration[];
}

export interface RotationGroup {
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly min: number;
  readonly max: number;
  readonly desired?: number;
}

export interface RotationBlockerOptions {
  readonly groups: readonly RotationGroup[];
  /** The minor the new nodes run. */
  readonly version: string;
  /** Single-replica Deployments are evicted without a surge replica first. Default false. */
  readonly noSurge?: boolean;
}

export interface RotationBlockerResult {
  readonly findings: Finding[];
  /** Spec group → nodes that would be drained. */
  readonly drained: Readonly<Record<string, readonly string[]>>;
  /** Pods that would be evicted, over all groups. */
  readonly evicted: number;
}

const ZONE_LABEL = "topology.kubernetes.io/zone";

export function decideRotationBlockers(
  snap: ClusterSnapshot,
  options: RotationBlockerOptions,
): RotationBlockerResult {
  const findings: Finding[] = [];
  const drained: Record<string, readonly string[]> = {};
  const groupNames = options.groups.map((g) => g.name);
  const podsByNode = new Map<string, V1Pod[]>();
  for (const p of snap.pods) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    const list = podsByNode.get(n) ?? [];
    list.push(p);
    podsByNode.set(n, list);
  }
  const leaving = new Set<string>();
  let evicted = 0;
  const evictedPods: V1Pod[] = [];

  for (const g of options.groups) {
    const nodes = snap.nodes.filter((n) => {
      const ng = n.metadata?.labels?.[NODEGROUP_LABEL];
      return ng !== undefined && groupOfSlot(ng, groupNames) === g.name;
    });
    if (nodes.length === 0) continue;
    const from: Slot = nodes[0]?.metadata?.labels?.[NODEGROUP_LABEL]?.endsWith("-green") ? "green" : "blue";
    const to: Slot = from === "blue" ? "green" : "blue";
    const pods = nodes.flatMap((n) => podsByNode.get(n.metadata?.name ?? "") ?? []);
    for (const n of nodes) leaving.add(n.metadata?.name ?? "");
    const zones = [
      ...new Set(nodes.map((n) => n.metadata?.labels?.[ZONE_LABEL]).filter((z): z is string => !!z)),
    ];
    // Capacity and zones of the new slot are the rotation's own check at run time (the slot does not
    // exist yet); here the new slot is taken as large enough so only pod and budget blockers remain.
    const plan = decide({
      group: g.name,
      from,
      to,
      blueNodes: nodes,
      bluePods: pods,
      pdbs: snap.pdbs,
      replicaSets: snap.replicaSets,
      deployments: snap.deployments,
      greenSpec: {
        group: g.name,
        slot: to,
        nodegroupName: `${g.name}-${to}`,
        instanceTypes: g.instanceTypes,
        desired: g.desired ?? g.min,
        min: g.min,
        max: g.max,
        zones,
        kubernetesVersion: options.version,
        labels: {},
        taints: [],
        capacityType: "ON_DEMAND",
      },
      greenFree: {
        cpuMilli: Number.POSITIVE_INFINITY,
        memoryBytes: Number.POSITIVE_INFINITY,
        pods: Number.POSITIVE_INFINITY,
      },
      forceUnreplicated: false,
      deleteEmptyDirData: false,
      noSurge: options.noSurge ?? false,
    });
    drained[g.name] = plan.blueNodes;
    evicted += plan.evict.length;
    const evictSet = new Set(plan.evict);
    evictedPods.push(...pods.filter((p) => evictSet.has(podKey(p))));
    for (const b of plan.blockers) {
      findings.push({
        id: `ROTATION_${b.code}`,
        severity: "blocker",
        area: "rotation",
        message: `rotating ${g.name}: ${b.message}`,
        fix: b.fix,
        ...(b.pod ? { object: `Pod ${b.pod}` } : {}),
      });
    }
  }

  findings.push(...readinessAndReplicas(snap, evictedPods, options.noSurge ?? false));
  findings.push(...failClosedWebhooks(snap, leaving));
  return { findings, drained, evicted };
}

function readinessAndReplicas(snap: ClusterSnapshot, pods: readonly V1Pod[], noSurge: boolean): Finding[] {
  const out: Finding[] = [];
  const rsByKey = keyed(snap.replicaSets);
  const depByKey = keyed(snap.deployments);
  const stsByKey = keyed(snap.statefulSets);
  const seenOwners = new Set<string>();
  for (const pod of pods) {
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    const owner = controllerOf(pod);
    const ns = pod.metadata?.namespace ?? "";
    const dep = deploymentOf(pod, rsByKey, depByKey);
    const ownerKey = dep
      ? `Deployment ${ns}/${dep.metadata?.name}`
      : owner
        ? `${owner.kind} ${ns}/${owner.name}`
        : `Pod ${podKey(pod)}`;
    if (seenOwners.has(ownerKey)) continue;
    seenOwners.add(ownerKey);
    const noProbe = (pod.spec?.containers ?? []).filter((c) => !c.readinessProbe).map((c) => c.name);
    if (noProbe.length > 0 && owner?.kind !== "Job") {
      out.push({
        id: "ROTATION_NO_READINESS_PROBE",
        severity: "blocker",
        area: "rotation",
        message: `${ownerKey}: container(s) ${noProbe.join(", ")} have no readiness probe, so a replacement pod takes traffic before it can serve while its node is drained`,
        fix: "add a readinessProbe to every container that serves traffic",
        object: ownerKey,
      });
    }
    let replicas: number | undefined;
    let why = "";
    if (dep && noSurge) {
      replicas = dep.spec?.replicas ?? 1;
      why = "and --no-surge evicts it before a replacement is Ready";
    } else if (owner?.kind === "StatefulSet") {
      replicas = stsByKey.get(`${ns}/${owner.name}`)?.spec?.replicas ?? 1;
      why = "and a StatefulSet's pod is re-created only after the old one is gone";
    } else if (owner?.kind === "ReplicaSet" && !dep) {
      replicas = rsByKey.get(`${ns}/${owner.name}`)?.spec?.replicas ?? 1;
      why = "and a bare ReplicaSet is not surged";
    }
    if (replicas === 1) {
      out.push({
        id: "ROTATION_SINGLE_REPLICA",
        severity: "blocker",
        area: "rotation",
        message: `${ownerKey} runs a single replica ${why}: it is down while its pod moves`,
        fix: "run at least 2 replicas (with a PodDisruptionBudget of maxUnavailable 1)",
        object: ownerKey,
      });
    }
  }
  return out;
}

type Webhook = {
  name: string;
  failurePolicy?: string;
  clientConfig: { service?: { namespace: string; name: string } };
};

function failClosedWebhooks(snap: ClusterSnapshot, leaving: ReadonlySet<string>): Finding[] {
  const out: Finding[] = [];
  const services = keyed(snap.services);
  const configs: { kind: string; name: string; webhooks: readonly Webhook[] }[] = [
    ...snap.validatingWebhooks.map((c) => ({
      kind: "ValidatingWebhookConfiguration",
      name: c.metadata?.name ?? "",
      webhooks: (c.webhooks ?? []) as Webhook[],
    })),
    ...snap.mutatingWebhooks.map((c) => ({
      kind: "MutatingWebhookConfiguration",
      name: c.metadata?.name ?? "",
      webhooks: (c.webhooks ?? []) as Webhook[],
    })),
  ];
  for (const c of configs) {
    for (const w of c.webhooks) {
      // admissionregistration.k8s.io/v1 defaults failurePolicy to Fail.
      if ((w.failurePolicy ?? "Fail") !== "Fail" || !w.clientConfig.service) continue;
      const { namespace, name } = w.clientConfig.service;
      const svc = services.get(`${namespace}/${name}`);
      const selector = svc?.spec?.selector;
      if (!selector) continue;
      const backing = snap.pods.filter(
        (p) =>
          p.metadata?.namespace === namespace &&
          selectorMatches({ matchLabels: selector }, p.metadata?.labels ?? {}) &&
          p.status?.phase !== "Succeeded" &&
          p.status?.phase !== "Failed",
      );
      const staying = backing.filter((p) => isReady(p) && !leaving.has(p.spec?.nodeName ?? ""));
      const moving = backing.filter((p) => leaving.has(p.spec?.nodeName ?? ""));
      if (moving.length === 0 || staying.length > 0) continue;
      const guarded = snap.pdbs.some((b) => moving.some((p) => budgetMatchesPod(b, p)));
      if (moving.length >= 2 && guarded) continue;
      out.push({
        id: "ROTATION_WEBHOOK_FAIL_CLOSED",
        severity: "blocker",
        area: "rotation",
        message: `${c.kind} ${c.name} webhook ${w.name} fails closed and is served only by ${moving.length} pod(s) of Service ${namespace}/${name} on nodes to be drained${guarded ? "" : " with no PodDisruptionBudget"}; while they move, the API server rejects every request it matches`,
        fix: `run the webhook with 2+ replicas and a PodDisruptionBudget, or set failurePolicy: Ignore for the upgrade`,
        object: `${c.kind} ${c.name}`,
      });
    }
  }
  return out;
}
