/**
 * Builds rotation set-ups on a local cluster for the integration tests and the benchmark: a blue
 * slot of kwok nodes carrying Deployments with a mix of budgets (maxUnavailable 1, minAvailable
 * 50%, single replica with minAvailable 1) and a grace period every pod deletion honours.
 * Test support, not used by the CLI.
 */
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PolicyV1Api,
  type V1Deployment,
  type V1PodDisruptionBudget,
} from "@kubernetes/client-node";
import type { NodeGroupSlotSpec, NodeProvider } from "../../src/providers/node-provider.js";
import type { RotationOptions } from "../../src/rotation/types.js";

export type BudgetKind = "maxUnavailable1" | "minAvailable50" | "single" | "none";

export interface WorkloadSpec {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  readonly budget: BudgetKind;
}

export interface FixtureSpec {
  readonly group: string;
  readonly nodes: number;
  readonly zones: readonly string[];
  readonly instanceType: string;
  readonly workloads: readonly WorkloadSpec[];
  /** terminationGracePeriodSeconds of every pod; kwok deletes the pod when it ends. */
  readonly graceSeconds: number;
  /** Pods turn Ready this long after they are bound (kwok pod-ready delay), e.g. "1s". */
  readonly readyDelay?: string;
}

/** Pods of a fixture only run on its own nodes, so fixtures share one cluster. */
export const FIXTURE_LABEL = "tenkai.dev/fixture";

/**
 * `count` Deployments holding `pods` pods in all: a fifth single-replica (minAvailable 1), the
 * rest split between maxUnavailable 1 and minAvailable 50%, spread over `namespaces` namespaces.
 */
export function mixedWorkloads(
  prefix: string,
  count: number,
  pods: number,
  namespaces: number,
): WorkloadSpec[] {
  const singles = Math.max(1, Math.floor(count / 5));
  const multi = count - singles;
  const perMulti = (pods - singles) / multi;
  const out: WorkloadSpec[] = [];
  let placed = 0;
  for (let i = 0; i < count; i++) {
    const ns = `${prefix}-${i % namespaces}`;
    if (i < singles) {
      out.push({ namespace: ns, name: `solo-${i}`, replicas: 1, budget: "single" });
      placed += 1;
      continue;
    }
    const j = i - singles;
    const replicas =
      j === multi - 1 ? pods - placed : Math.round(perMulti * (j + 1)) - Math.round(perMulti * j);
    placed += replicas;
    out.push({
      namespace: ns,
      name: `web-${i}`,
      replicas,
      budget: j % 2 === 0 ? "maxUnavailable1" : "minAvailable50",
    });
  }
  return out;
}

export function fixtureSlot(spec: FixtureSpec): Omit<NodeGroupSlotSpec, "slot" | "nodegroupName"> {
  return {
    group: spec.group,
    instanceTypes: [spec.instanceType],
    desired: spec.nodes,
    min: 0,
    max: Math.max(spec.nodes, 1) * 2,
    zones: spec.zones,
    kubernetesVersion: "1.36",
    labels: { [FIXTURE_LABEL]: spec.group },
    taints: [],
    capacityType: "ON_DEMAND",
  };
}

export function fixtureOptions(spec: FixtureSpec, over: Partial<RotationOptions> = {}): RotationOptions {
  return { group: spec.group, slotTemplate: fixtureSlot(spec), specActiveSlot: "blue", ...over };
}

async function limit<T>(items: readonly T[], n: number, f: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const item = items[i++] as T;
        await f(item);
      }
    }),
  );
}

/** Creates the blue slot and the workloads, and waits until every Deployment is fully Ready. */
export async function buildFixture(
  kc: KubeConfig,
  provider: NodeProvider,
  spec: FixtureSpec,
  timeoutMs = 300_000,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  await provider.createSlot({ ...fixtureSlot(spec), slot: "blue", nodegroupName: `${spec.group}-blue` });
  const namespaces = [...new Set(spec.workloads.map((w) => w.namespace))];
  await limit(namespaces, 8, async (ns) => {
    await core.createNamespace({ body: { metadata: { name: ns } } }).catch((e: unknown) => {
      if ((e as { code?: number }).code !== 409) throw e;
    });
    for (let i = 0; i < 300; i++) {
      try {
        await core.readNamespacedServiceAccount({ name: "default", namespace: ns });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  await limit(spec.workloads, 16, async (w) => {
    const labels = { app: w.name };
    const dep: V1Deployment = {
      metadata: { name: w.name, namespace: w.namespace },
      spec: {
        replicas: w.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: {
            labels,
            ...(spec.readyDelay
              ? { annotations: { "pod-ready.stage.kwok.x-k8s.io/delay": spec.readyDelay } }
              : {}),
          },
          spec: {
            nodeSelector: { [FIXTURE_LABEL]: spec.group },
            terminationGracePeriodSeconds: spec.graceSeconds,
            containers: [
              {
                name: "app",
                image: "registry.example/app:1.0",
                resources: { requests: { cpu: "10m", memory: "16Mi" } },
              },
            ],
          },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace: w.namespace, body: dep });
    const pdb = budgetFor(w);
    if (pdb) await policy.createNamespacedPodDisruptionBudget({ namespace: w.namespace, body: pdb });
  });
  await waitDeploymentsReady(kc, spec.workloads, timeoutMs);
}

function budgetFor(w: WorkloadSpec): V1PodDisruptionBudget | undefined {
  const base = {
    metadata: { name: w.name, namespace: w.namespace },
    spec: { selector: { matchLabels: { app: w.name } } },
  };
  switch (w.budget) {
    case "maxUnavailable1":
      return { ...base, spec: { ...base.spec, maxUnavailable: 1 } };
    case "minAvailable50":
      return { ...base, spec: { ...base.spec, minAvailable: "50%" } };
    case "single":
      return { ...base, spec: { ...base.spec, minAvailable: 1 } };
    default:
      return undefined;
  }
}

/** Deployments (`ns/name`) not at full ready replicas (or still surged above their spec). */
export async function deploymentsNotReady(
  kc: KubeConfig,
  workloads: readonly WorkloadSpec[],
): Promise<string[]> {
  const apps = kc.makeApiClient(AppsV1Api);
  const namespaces = [...new Set(workloads.map((w) => w.namespace))];
  const want = new Map(workloads.map((w) => [`${w.namespace}/${w.name}`, w.replicas]));
  const bad: string[] = [];
  for (const ns of namespaces) {
    const list = await apps.listNamespacedDeployment({ namespace: ns });
    for (const d of list.items) {
      const key = `${ns}/${d.metadata?.name}`;
      const replicas = want.get(key);
      if (replicas === undefined) continue;
      const s = d.status;
      if (
        d.spec?.replicas !== replicas ||
        s?.readyReplicas !== replicas ||
        s?.updatedReplicas !== replicas ||
        (s?.replicas ?? 0) !== replicas
      ) {
        bad.push(
          `${key} (spec ${d.spec?.replicas}, ready ${s?.readyReplicas ?? 0}, total ${s?.replicas ?? 0}, want ${replicas})`,
        );
      }
    }
  }
  return bad;
}

export async function waitDeploymentsReady(
  kc: KubeConfig,
  workloads: readonly WorkloadSpec[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bad = await deploymentsNotReady(kc, workloads);
    if (bad.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`Deployments not Ready after ${timeoutMs} ms: ${bad.slice(0, 5).join(", ")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until every budget of the workloads has a status that counts all its pods healthy. */
export async function waitBudgetsSettled(
  kc: KubeConfig,
  workloads: readonly WorkloadSpec[],
  timeoutMs: number,
): Promise<void> {
  const policy = kc.makeApiClient(PolicyV1Api);
  const deadline = Date.now() + timeoutMs;
  const namespaces = [...new Set(workloads.map((w) => w.namespace))];
  for (;;) {
    let pending = 0;
    for (const ns of namespaces) {
      const list = await policy.listNamespacedPodDisruptionBudget({ namespace: ns });
      for (const p of list.items) {
        const s = p.status;
        if (
          !s ||
          (s.observedGeneration ?? 0) < (p.metadata?.generation ?? 0) ||
          s.currentHealthy !== s.expectedPods ||
          (s.expectedPods ?? 0) === 0
        )
          pending++;
      }
    }
    if (pending === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${pending} PodDisruptionBudget(s) not settled after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
