/**
 * Node-level steps of a rotation: find a slot's nodes, cordon/uncordon them, wait for a slot to
 * be Ready in every zone, and work out what green can hold. Each step is idempotent.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import {
  isNodeProviderError,
  type NodeGroupSlotSpec,
  type NodeProvider,
} from "../providers/node-provider.js";
import type { Clock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import type { Emit } from "../shared/events.js";
import { isNotFound, kubeMessage } from "../shared/kube-errors.js";
import { retry } from "../shared/retry.js";
import { parseQuantity } from "../spec/quantity.js";
import { type ClusterClients, EXCLUDE_LB_LABEL, isNodeReady, mergePatch, zoneOf } from "./cluster.js";
import { isFinished, isTerminating } from "./filters.js";
import { podRequests } from "./plan.js";
import type { RotationEvent } from "./types.js";

/** The label EKS puts on the nodes of a managed node group (and the kwok provider copies). */
export const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";

export async function slotNodes(clients: ClusterClients, nodegroup: string): Promise<V1Node[]> {
  try {
    const list = await clients.core.listNode({ labelSelector: `${NODEGROUP_LABEL}=${nodegroup}` });
    return list.items.sort((a, b) =>
      (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "", "en", { numeric: true }),
    );
  } catch (err) {
    throw new TenkaiError(
      "ROTATION_LIST_FAILED",
      `listing the nodes of node group ${nodegroup}: ${kubeMessage(err)}`,
      "check that tenkai may list nodes",
      {
        cause: err,
      },
    );
  }
}

/** Cordons the node and keeps external load balancers off it (one merge patch, so idempotent). */
export async function cordon(clients: ClusterClients, node: string, on: boolean): Promise<void> {
  try {
    await clients.core.patchNode(
      {
        name: node,
        body: {
          metadata: { labels: { [EXCLUDE_LB_LABEL]: on ? "true" : null } },
          spec: { unschedulable: on ? true : null },
        },
      },
      mergePatch,
    );
  } catch (err) {
    if (isNotFound(err)) return;
    throw new TenkaiError(
      "ROTATION_CORDON_FAILED",
      `${on ? "cordoning" : "uncordoning"} node ${node}: ${kubeMessage(err)}`,
      "check that tenkai may patch nodes, then run the same command again",
      { cause: err },
    );
  }
}

/** Provider retries: 250 ms doubling to 10 s, jittered (shared/retry.ts). */
export const PROVIDER_BACKOFF = { baseMs: 250, capMs: 10_000 } as const;

/**
 * Retries a provider call while it says THROTTLED/UNAVAILABLE (`retryable`), with jittered backoff,
 * until the deadline; a provider error that is left is rethrown as `PROVIDER_<code>` with a fix.
 */
export async function withProviderRetry<T>(
  what: string,
  call: () => Promise<T>,
  o: {
    readonly clock: Clock;
    readonly deadline: number;
    readonly signal?: AbortSignal;
    readonly random?: () => number;
  },
): Promise<T> {
  try {
    return await retry(call, {
      ...PROVIDER_BACKOFF,
      ...o,
      retryable: (err) => isNodeProviderError(err) && err.retryable,
    });
  } catch (err) {
    if (isNodeProviderError(err)) {
      throw new TenkaiError(err.code, `${what}: ${err.message}`, providerFix(err.reason), {
        cause: err,
      });
    }
    throw err;
  }
}

function providerFix(code: string): string {
  switch (code) {
    case "ALREADY_EXISTS_DIFFERENT":
      return "the other slot exists with another spec: remove it (tenkai nodes rotate GROUP --rollback) or make the spec match";
    case "THROTTLED":
      return "the provider API kept throttling; wait a minute and run the same command again";
    default:
      return "see the provider's message, fix the cause, and run the same command again: the rotation resumes";
  }
}

/**
 * Waits until the slot has `desired` Ready nodes and a Ready node in every zone the blue nodes
 * use. Fails at once on a provider health issue (e.g. EKS NodeCreationFailure).
 */
export async function waitSlotReady(o: {
  readonly clients: ClusterClients;
  readonly provider: NodeProvider;
  readonly spec: NodeGroupSlotSpec;
  /** Zones that must each have a Ready node. */
  readonly zones: readonly string[];
  readonly clock: Clock;
  readonly deadline: number;
  readonly emit: Emit<RotationEvent>;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
}): Promise<V1Node[]> {
  const { clients, provider, spec, zones, clock, deadline, emit, signal } = o;
  let lastReport = "";
  for (;;) {
    signal?.throwIfAborted();
    const state = await withProviderRetry(
      `describing node group ${spec.nodegroupName}`,
      () => provider.describeSlot(spec.nodegroupName),
      { clock, deadline, ...(signal ? { signal } : {}), ...(o.random ? { random: o.random } : {}) },
    );
    if (
      state &&
      (state.status === "CREATE_FAILED" || state.status === "DEGRADED" || state.issues.length > 0)
    ) {
      const issues = state.issues.map((i) => `${i.code}: ${i.message}`).join("; ");
      throw new TenkaiError(
        "ROTATION_GREEN_FAILED",
        `node group ${spec.nodegroupName} is ${state.status}${issues ? ` (${issues})` : ""}`,
        "fix the cause the provider names (IAM role, subnets, capacity), then run `tenkai nodes rotate GROUP --rollback` and rotate again",
      );
    }
    const nodes = (await slotNodes(clients, spec.nodegroupName)).filter(isNodeReady);
    const have = new Set(nodes.map(zoneOf));
    const missing = zones.filter((z) => !have.has(z));
    if (state && nodes.length >= spec.desired && missing.length === 0) return nodes;
    const report = `${nodes.length}/${spec.desired}/${missing.join(",")}`;
    if (report !== lastReport) {
      lastReport = report;
      emit(
        "info",
        "rotation.green.waiting",
        `green ${spec.nodegroupName}: ${nodes.length}/${spec.desired} nodes Ready${missing.length ? `, none yet in ${missing.join(", ")}` : ""}`,
        { nodegroup: spec.nodegroupName, ready: nodes.length, desired: spec.desired, missingZones: missing },
      );
    }
    if (clock.now() > deadline) {
      throw new TenkaiError(
        "ROTATION_TIMEOUT",
        `node group ${spec.nodegroupName} has ${nodes.length} of ${spec.desired} nodes Ready${missing.length ? ` and none in ${missing.join(", ")}` : ""} after waiting`,
        "check the node group in the provider (capacity, subnets), raise --timeout, and run the same command again",
      );
    }
    await clock.sleep(500, signal);
  }
}

/** Allocatable of the nodes minus the requests of the live pods already on them. */
export function freeCapacity(
  nodes: readonly V1Node[],
  pods: readonly V1Pod[],
): { cpuMilli: number; memoryBytes: number; pods: number } {
  const names = new Set(nodes.map((n) => n.metadata?.name));
  let cpuMilli = 0;
  let memoryBytes = 0;
  let podRoom = 0;
  for (const n of nodes) {
    const a = n.status?.allocatable ?? {};
    cpuMilli += a.cpu ? Math.round(quantity(a.cpu) * 1000) : 0;
    memoryBytes += a.memory ? quantity(a.memory) : 0;
    podRoom += a.pods ? quantity(a.pods) : 0;
  }
  for (const p of pods) {
    if (!names.has(p.spec?.nodeName) || isTerminating(p) || isFinished(p)) continue;
    const r = podRequests(p);
    cpuMilli -= r.cpuMilli;
    memoryBytes -= r.memoryBytes;
    podRoom -= 1;
  }
  return { cpuMilli, memoryBytes, pods: podRoom };
}

function quantity(q: string): number {
  try {
    return parseQuantity(q);
  } catch {
    return 0;
  }
}
