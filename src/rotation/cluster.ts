/**
 * The rotation's view of the cluster: pods and PodDisruptionBudgets kept current by watches
 * (informers), so a drain of thousands of pods reacts to each change instead of polling lists,
 * plus the few writes a rotation makes (cordon, label, evict, scale).
 */
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
} from "@kubernetes/client-node";
import { KubeClient } from "../kube/api/client.js";
import { BudgetTracker } from "./budgets.js";
import { isTerminating } from "./filters.js";

type Informer<T> = ReturnType<typeof makeInformer<T & { metadata?: { name?: string } }>>;

export const EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
export const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface ClusterClients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly evictions: Evictions;
}

/** The Eviction API (policy/v1): the drain's one request per pod. */
export interface Evictions {
  /**
   * Evicts the pod if it still has this UID (a pod re-created under the same name is never
   * evicted by mistake). Throws the API's error: 429 while a budget allows no disruption, 404 or
   * 409 when the pod is gone or replaced.
   */
  evict(namespace: string, name: string, uid: string): Promise<void>;
}

/**
 * The rotation's clients. client-node 1.4 opens a new TLS connection for every request (an agent
 * per request), which cost the drain's process 13 s of CPU in the 1,500-pod bench, and as much on
 * the API server's side of each handshake. A shared keep-alive agent under client-node was tried
 * and taken out: node-fetch 2.7 reports "Premature close" on healthy answers over reused sockets
 * (node-fetch/node-fetch#1767). So the evictions, the one request per pod, go through tenkai's own
 * client (node:https, keep-alive, a stale socket replaced); the rest stay on client-node.
 */
export function clientsFor(kc: KubeConfig): ClusterClients {
  const kube = new KubeClient(kc);
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    evictions: {
      async evict(namespace, name, uid) {
        await kube.request({
          method: "POST",
          path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`,
          body: {
            apiVersion: "policy/v1",
            kind: "Eviction",
            metadata: { name, namespace },
            deleteOptions: { preconditions: { uid } },
          },
          resendable: true,
        });
      },
    },
  };
}

/** What the drain reads: pods by node and namespace, and budgets, current as of the last change. */
export interface PodView {
  readonly budgets: BudgetTracker;
  podsOnNode(node: string): V1Pod[];
  podsInNamespace(namespace: string): V1Pod[];
  allPods(): V1Pod[];
  /** Resolves on the next pod or budget change, or after `ms`. */
  changed(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The cluster a rotation works on: its API clients and a way to start watching pods and budgets.
 * An engine takes this, not a kubeconfig, so unit tests can give it fakes.
 */
export interface RotationCluster {
  readonly clients: ClusterClients;
  watch(now: () => number): Promise<PodView>;
}

/** The real cluster behind a kubeconfig. */
export function rotationCluster(kc: KubeConfig): RotationCluster {
  return { clients: clientsFor(kc), watch: (now) => ClusterView.start(kc, now) };
}

/** Pods by node and budgets, kept current by watches; `changed()` resolves on the next change. */
export class ClusterView implements PodView {
  readonly budgets: BudgetTracker;
  private readonly byNode = new Map<string, Map<string, V1Pod>>();
  private readonly byNamespace = new Map<string, Map<string, V1Pod>>();
  private readonly podsInformer: Informer<V1Pod>;
  private readonly pdbInformer: Informer<V1PodDisruptionBudget>;
  private waiters: (() => void)[] = [];
  private stopped = false;

  private constructor(kc: KubeConfig, now: () => number) {
    const { core, policy } = clientsFor(kc);
    this.budgets = new BudgetTracker(now);
    this.podsInformer = makeInformer<V1Pod>(kc, "/api/v1/pods", () => core.listPodForAllNamespaces());
    this.pdbInformer = makeInformer<V1PodDisruptionBudget>(kc, "/apis/policy/v1/poddisruptionbudgets", () =>
      policy.listPodDisruptionBudgetForAllNamespaces(),
    );
    const onPod = (pod: V1Pod) => {
      this.indexPod(pod);
      if (isTerminating(pod)) this.budgets.podGone(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
      this.notify();
    };
    this.podsInformer.on("add", onPod);
    this.podsInformer.on("update", onPod);
    this.podsInformer.on("delete", (pod) => {
      this.unindexPod(pod);
      this.budgets.podGone(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
      this.notify();
    });
    const onPdb = (pdb: V1PodDisruptionBudget) => {
      this.budgets.upsert(pdb);
      this.notify();
    };
    this.pdbInformer.on("add", onPdb);
    this.pdbInformer.on("update", onPdb);
    this.pdbInformer.on("delete", (pdb) => {
      this.budgets.remove(pdb);
      this.notify();
    });
    // client-node's informer stops on any error but 410; a drain must keep watching.
    for (const inf of [this.podsInformer, this.pdbInformer] as Informer<unknown>[]) {
      inf.on("error", () => {
        if (!this.stopped) setTimeout(() => void inf.start().catch(() => {}), 500);
      });
    }
  }

  static async start(kc: KubeConfig, now: () => number): Promise<ClusterView> {
    const view = new ClusterView(kc, now);
    await Promise.all([view.podsInformer.start(), view.pdbInformer.start()]);
    return view;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.podsInformer.stop(), this.pdbInformer.stop()]);
    this.notify();
  }

  podsOnNode(node: string): V1Pod[] {
    return [...(this.byNode.get(node)?.values() ?? [])];
  }

  podsInNamespace(namespace: string): V1Pod[] {
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  allPods(): V1Pod[] {
    return [...this.podsInformer.list()];
  }

  /** Resolves on the next pod or budget change, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private indexPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? "";
    const ns = pod.metadata?.namespace ?? "";
    let byNs = this.byNamespace.get(ns);
    if (!byNs) {
      byNs = new Map();
      this.byNamespace.set(ns, byNs);
    }
    byNs.set(uid, pod);
    // A pod is bound once, so it is indexed under one node for its whole life.
    const node = pod.spec?.nodeName;
    if (!node) return;
    let m = this.byNode.get(node);
    if (!m) {
      m = new Map();
      this.byNode.set(node, m);
    }
    m.set(uid, pod);
  }

  private unindexPod(pod: V1Pod): void {
    this.byNamespace.get(pod.metadata?.namespace ?? "")?.delete(pod.metadata?.uid ?? "");
    const node = pod.spec?.nodeName;
    if (node) this.byNode.get(node)?.delete(pod.metadata?.uid ?? "");
  }
}

export function isNodeReady(node: V1Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

export function zoneOf(node: V1Node): string | undefined {
  return node.metadata?.labels?.["topology.kubernetes.io/zone"];
}
