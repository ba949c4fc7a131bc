/**
 * An in-memory stand-in for the parts of a cluster the drain, surge and budget tracking touch, so
 * they can be unit tested with a fake clock and injected faults. It is not a fake of the API in
 * general: it answers only the calls the rotation engine makes (evict, list ReplicaSets and
 * Deployments, read and patch a Deployment), with the Eviction API's rules as
 * pkg/registry/core/pod/storage/eviction.go has them: 429 when the budget allows nothing, else the
 * budget's `disruptionsAllowed` goes down by one and the pod is listed in `disruptedPods`.
 *
 * The controllers are a `step()` the view runs each time the drain waits for a change: evicted
 * pods go away, their ReplicaSet's replacement starts Ready on a node that is not leaving, and the
 * disruption controller recounts every budget — every `controllerLag` steps only, to model the
 * lag behind "healthy 18/18, 0 allowed". The integration tests cover the real thing.
 */
import type { V1Deployment, V1Pod, V1PodDisruptionBudget, V1ReplicaSet } from "@kubernetes/client-node";
import { BudgetTracker, budgetMatchesPod, pdbKey } from "../../src/rotation/budgets.js";
import type { ClusterClients, PodView } from "../../src/rotation/cluster.js";
import type { Clock } from "../../src/shared/clock.js";

/** An error shaped like client-node's ApiException (numeric `code`, Status `body`). */
export function apiError(code: number, message = `HTTP ${code}`): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), {
    code,
    body: JSON.stringify({ kind: "Status", message, code }),
  });
}

export interface FakePodOptions {
  readonly node: string;
  readonly app: string;
  readonly namespace?: string;
  readonly owner?: { kind: string; name: string } | null;
  readonly emptyDir?: boolean;
}

export class FakeRotationCluster {
  readonly pods = new Map<string, V1Pod>();
  readonly pdbs = new Map<string, V1PodDisruptionBudget>();
  readonly deployments = new Map<string, V1Deployment>();
  readonly replicaSets = new Map<string, V1ReplicaSet>();
  readonly tracker: BudgetTracker;
  /** Every eviction request, `ns/name`, in order (refused ones too). */
  readonly evictionRequests: string[] = [];
  /** Evictions the fake API accepted, `ns/name`. */
  readonly evicted: string[] = [];
  /** Deployment patches, `ns/name replicas=N`. */
  readonly patches: string[] = [];
  /** Called before each eviction is answered; return an error to fail it (fault injection). */
  evictionFault: (pod: string, attempt: number) => Error | undefined = () => undefined;
  /** Awaited before each Deployment patch is answered (a slow API server). */
  patchDelay: (key: string) => Promise<void> = async () => {};
  /** Called before each Deployment read or patch; return an error to fail it. */
  deploymentFault: (call: "read" | "patch" | "list", key: string) => Error | undefined = () => undefined;
  /** The disruption controller recounts budgets every this many steps (1 = at once). */
  controllerLag = 1;
  /** Nodes replacement pods may start on (the new slot). */
  greenNodes: string[] = ["green-0"];
  /** The most evictions a budget ever had accepted beyond what its status allowed at the time. */
  overspent = 0;
  /** Eviction requests unanswered now, per budget key, and the most ever at once. */
  private readonly requesting = new Map<string, number>();
  readonly mostRequestingPerBudget = new Map<string, number>();
  /** The most eviction requests unanswered at once, all budgets together. */
  mostRequesting = 0;
  private steps = 0;
  private serial = 0;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly clock: Clock) {
    this.tracker = new BudgetTracker(() => clock.now());
  }

  /** A Deployment with `replicas` Ready pods on `nodes` (round robin) and a PDB of `minAvailable`. */
  addDeployment(
    app: string,
    o: { replicas: number; nodes: readonly string[]; minAvailable?: number; namespace?: string },
  ): void {
    const ns = o.namespace ?? "shop";
    const dep: V1Deployment = {
      metadata: { name: app, namespace: ns, uid: `dep-${app}`, generation: 1 },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } } },
      },
      status: { replicas: o.replicas, readyReplicas: o.replicas },
    };
    this.deployments.set(`${ns}/${app}`, dep);
    this.replicaSets.set(`${ns}/${app}-rs`, {
      metadata: {
        name: `${app}-rs`,
        namespace: ns,
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: app, uid: "d", controller: true },
        ],
      },
    });
    for (let i = 0; i < o.replicas; i++) {
      this.addPod(`${app}-${i}`, { node: o.nodes[i % o.nodes.length] as string, app, namespace: ns });
    }
    if (o.minAvailable !== undefined) this.addBudget(app, app, o.minAvailable, ns);
  }

  addPod(name: string, o: FakePodOptions): V1Pod {
    const ns = o.namespace ?? "shop";
    const owner = o.owner === undefined ? { kind: "ReplicaSet", name: `${o.app}-rs` } : o.owner;
    const pod: V1Pod = {
      metadata: {
        name,
        namespace: ns,
        uid: `uid-${name}-${this.serial++}`,
        labels: { app: o.app },
        ...(owner
          ? {
              ownerReferences: [
                { apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: "o", controller: true },
              ],
            }
          : {}),
      },
      spec: {
        nodeName: o.node,
        containers: [{ name: "c", image: "i" }],
        ...(o.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
      },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    };
    this.pods.set(pod.metadata?.uid as string, pod);
    return pod;
  }

  addBudget(name: string, app: string, minAvailable: number, namespace = "shop"): void {
    const pdb: V1PodDisruptionBudget = {
      metadata: { name, namespace, generation: 1 },
      spec: { selector: { matchLabels: { app } }, minAvailable },
    };
    this.pdbs.set(pdbKey(pdb), pdb);
    this.recount(pdb);
    this.tracker.upsert(pdb);
  }

  /** Pods matching a budget that are Ready and not terminating. */
  healthy(pdb: V1PodDisruptionBudget): number {
    return [...this.pods.values()].filter(
      (p) => budgetMatchesPod(pdb, p) && !p.metadata?.deletionTimestamp && p.status?.phase === "Running",
    ).length;
  }

  private recount(pdb: V1PodDisruptionBudget): void {
    const healthy = this.healthy(pdb);
    const desired = Number(pdb.spec?.minAvailable ?? 0);
    const disrupted = { ...(pdb.status?.disruptedPods ?? {}) };
    for (const name of Object.keys(disrupted)) {
      const live = [...this.pods.values()].some(
        (p) => p.metadata?.name === name && !p.metadata?.deletionTimestamp,
      );
      if (!live) delete disrupted[name];
    }
    pdb.status = {
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: healthy,
      disruptionsAllowed: Math.max(0, healthy - desired - Object.keys(disrupted).length),
      disruptedPods: disrupted,
      observedGeneration: pdb.metadata?.generation ?? 1,
    };
  }

  /** The controllers' turn: evicted pods go, replacements start, budgets are recounted (with lag). */
  step(): void {
    this.steps++;
    for (const [uid, pod] of [...this.pods]) {
      if (!pod.metadata?.deletionTimestamp) continue;
      this.pods.delete(uid);
      this.tracker.podGone(pod.metadata.namespace ?? "", pod.metadata.name ?? "");
      const owner = pod.metadata.ownerReferences?.[0];
      if (owner?.kind === "ReplicaSet") {
        const app = pod.metadata.labels?.app as string;
        this.addPod(`${app}-r${this.serial}`, {
          node: this.greenNodes[this.serial % this.greenNodes.length] as string,
          app,
          namespace: pod.metadata.namespace ?? "shop",
        });
      }
    }
    if (this.steps % this.controllerLag === 0) {
      for (const pdb of this.pdbs.values()) {
        this.recount(pdb);
        this.tracker.upsert(pdb);
      }
    }
  }

  /** The Eviction API's answer (eviction.go): 404, 409 on a UID mismatch, 500, 429, or accepted. */
  private answerEviction(
    p: { name: string; namespace: string; body: { deleteOptions?: { preconditions?: { uid?: string } } } },
    key: string,
    attempt: number,
  ): object {
    const fault = this.evictionFault(key, attempt);
    if (fault) throw fault;
    const pod = [...this.pods.values()].find(
      (x) => x.metadata?.namespace === p.namespace && x.metadata?.name === p.name,
    );
    if (!pod) throw apiError(404, `pods "${p.name}" not found`);
    if (
      p.body.deleteOptions?.preconditions?.uid &&
      p.body.deleteOptions.preconditions.uid !== pod.metadata?.uid
    )
      throw apiError(409, "precondition failed: UID");
    const budgets = [...this.pdbs.values()].filter((b) => budgetMatchesPod(b, pod));
    if (budgets.length > 1)
      throw apiError(
        500,
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    for (const b of budgets) {
      if ((b.status?.disruptionsAllowed ?? 0) <= 0)
        throw apiError(429, "Cannot evict pod as it would violate the pod's disruption budget.");
    }
    for (const b of budgets) {
      b.status = {
        ...(b.status as NonNullable<V1PodDisruptionBudget["status"]>),
        disruptionsAllowed: (b.status?.disruptionsAllowed ?? 0) - 1,
        disruptedPods: { ...(b.status?.disruptedPods ?? {}), [p.name]: new Date(this.clock.now()) },
      };
      this.tracker.upsert(b);
    }
    pod.metadata = { ...pod.metadata, deletionTimestamp: new Date(this.clock.now()) };
    this.tracker.podGone(p.namespace, p.name);
    this.evicted.push(key);
    return {};
  }

  view(): PodView & { changes: number } {
    const self = this;
    return {
      budgets: this.tracker,
      changes: 0,
      podsOnNode: (node) => [...self.pods.values()].filter((p) => p.spec?.nodeName === node),
      podsInNamespace: (ns) => [...self.pods.values()].filter((p) => p.metadata?.namespace === ns),
      allPods: () => [...self.pods.values()],
      async changed() {
        this.changes++;
        self.step();
        await new Promise<void>((r) => setImmediate(r));
      },
      async stop() {},
    };
  }

  clients(): ClusterClients {
    const self = this;
    const deploymentKey = (p: { name: string; namespace: string }) => `${p.namespace}/${p.name}`;
    const core = {
      async createNamespacedPodEviction(p: {
        name: string;
        namespace: string;
        body: { deleteOptions?: { preconditions?: { uid?: string } } };
      }) {
        const key = `${p.namespace}/${p.name}`;
        self.evictionRequests.push(key);
        const attempt = (self.attempts.get(key) ?? 0) + 1;
        self.attempts.set(key, attempt);
        const target = [...self.pods.values()].find(
          (x) => x.metadata?.namespace === p.namespace && x.metadata?.name === p.name,
        );
        const under = target
          ? [...self.pdbs.values()].filter((b) => budgetMatchesPod(b, target)).map(pdbKey)
          : [];
        for (const b of under) {
          const n = (self.requesting.get(b) ?? 0) + 1;
          self.requesting.set(b, n);
          self.mostRequestingPerBudget.set(b, Math.max(n, self.mostRequestingPerBudget.get(b) ?? 0));
        }
        self.mostRequesting = Math.max(
          self.mostRequesting,
          [...self.requesting.values()].reduce((a, n) => a + n, 0),
        );
        try {
          // Answered after a few turns of the event loop, so requests sent together overlap.
          for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
          return self.answerEviction(p, key, attempt);
        } finally {
          for (const b of under) self.requesting.set(b, (self.requesting.get(b) ?? 1) - 1);
        }
      },
    };

    const apps = {
      async listReplicaSetForAllNamespaces() {
        const fault = self.deploymentFault("list", "*");
        if (fault) throw fault;
        return { items: [...self.replicaSets.values()] };
      },
      async listDeploymentForAllNamespaces() {
        const fault = self.deploymentFault("list", "*");
        if (fault) throw fault;
        return { items: [...self.deployments.values()].map((d) => structuredClone(d)) };
      },
      async readNamespacedDeployment(p: { name: string; namespace: string }) {
        const fault = self.deploymentFault("read", deploymentKey(p));
        if (fault) throw fault;
        const d = self.deployments.get(deploymentKey(p));
        if (!d) throw apiError(404, `deployments "${p.name}" not found`);
        return structuredClone(d);
      },
      async patchNamespacedDeployment(p: {
        name: string;
        namespace: string;
        body: { metadata?: { annotations?: Record<string, string | null> }; spec?: { replicas?: number } };
      }) {
        const key = deploymentKey(p);
        await self.patchDelay(key);
        const fault = self.deploymentFault("patch", key);
        if (fault) throw fault;
        const d = self.deployments.get(key);
        if (!d) throw apiError(404, `deployments "${p.name}" not found`);
        const annotations = { ...(d.metadata?.annotations ?? {}) };
        for (const [k, v] of Object.entries(p.body.metadata?.annotations ?? {})) {
          if (v === null) delete annotations[k];
          else annotations[k] = v;
        }
        d.metadata = { ...d.metadata, annotations };
        const replicas = p.body.spec?.replicas;
        if (replicas !== undefined) {
          const before = d.spec?.replicas ?? 1;
          d.spec = { ...(d.spec as NonNullable<V1Deployment["spec"]>), replicas };
          self.patches.push(`${key} replicas=${replicas}`);
          // The ReplicaSet controller: a scale-up starts a Ready pod on the new slot.
          const app = d.spec.selector.matchLabels?.app as string;
          for (let i = before; i < replicas; i++) {
            self.addPod(`${app}-s${self.serial}`, {
              node: self.greenNodes[0] as string,
              app,
              namespace: p.namespace,
            });
          }
        }
        return structuredClone(d);
      },
    };
    const evictions = {
      evict: (namespace: string, name: string, uid: string) =>
        core.createNamespacedPodEviction({
          name,
          namespace,
          body: { deleteOptions: { preconditions: { uid } } },
        }),
    };
    return { core, apps, policy: {}, evictions } as unknown as ClusterClients;
  }
}
