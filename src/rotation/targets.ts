/**
 * The rotation's last check before it deletes the old slot: the pods it moved must be healthy
 * targets of their load balancer in their new place, or deleting the old slot would leave the
 * ALB with nothing healthy behind a rule (the old targets are draining, the new ones not yet in).
 *
 * Provider-neutral part: the AWS Load Balancer Controller injects a readiness gate
 * `target-health.elbv2.k8s.aws/<TargetGroupBinding>` into every pod behind an ALB target group of
 * type ip, in namespaces labelled `elbv2.k8s.aws/pod-readiness-gate-inject: enabled`, and sets the
 * pod condition of that type True once the target is healthy in the target group (upstream
 * docs/deploy/pod_readiness_gate.md). A pod whose gate condition is not True is not a healthy
 * target yet. Optional part: a {@link TargetHealthSource} (elbv2 DescribeTargetHealth on EKS)
 * confirms the same from the load balancer's side.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { TargetHealthSource, TargetPod, UnhealthyTarget } from "../providers/target-health.js";
import type { Clock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import type { Emit } from "../shared/events.js";
import type { PodView } from "./cluster.js";
import { isTerminating } from "./filters.js";
import type { RotationEvent } from "./types.js";

/** Prefix of the readiness gates the load balancer controller injects (pod_readiness_gate.md). */
export const TARGET_HEALTH_GATE_PREFIX = "target-health.elbv2.k8s.aws/";

/** The pod's ALB target-health readiness gates whose condition is not True yet. */
export function openTargetGates(pod: V1Pod): string[] {
  const gates = (pod.spec?.readinessGates ?? [])
    .map((g) => g.conditionType)
    .filter((t) => t.startsWith(TARGET_HEALTH_GATE_PREFIX));
  const conditions = pod.status?.conditions ?? [];
  return gates.filter((g) => !conditions.some((c) => c.type === g && c.status === "True"));
}

/**
 * The pods a rotation moved: made since it started (each evicted pod's replacement, each surged
 * Deployment's new pod), alive, and not on the slot that is leaving. Decided from creation time,
 * not from an in-memory list, so a rotation resumed at `deleting-blue` checks the same pods.
 */
export function movedPods(pods: readonly V1Pod[], since: number, leaving: ReadonlySet<string>): V1Pod[] {
  // creationTimestamp has whole seconds: compare from the start of the second the rotation began.
  const from = Math.floor(since / 1000) * 1000;
  return pods.filter((p) => {
    const created = p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0;
    return created >= from && !isTerminating(p) && !leaving.has(p.spec?.nodeName ?? "");
  });
}

const podKey = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

export interface TargetWaitArgs {
  readonly group: string;
  /** The slot about to be deleted (named in events and the error). */
  readonly nodegroup: string;
  readonly view: PodView;
  readonly clock: Clock;
  readonly emit: Emit<RotationEvent>;
  /** Epoch ms; past it the wait stops with ROTATION_TARGETS_UNHEALTHY. */
  readonly deadline: number;
  /** When the rotation started (its record's `startedAt`), epoch ms. */
  readonly since: number;
  /** Nodes of the leaving slot. */
  readonly leaving: ReadonlySet<string>;
  /** The load balancer's own view, when there is one (EKS). Default: the readiness gates only. */
  readonly source?: TargetHealthSource;
  readonly signal?: AbortSignal;
}

interface Pending {
  readonly gates: readonly { pod: string; gates: readonly string[] }[];
  readonly targets: readonly UnhealthyTarget[];
  readonly sourceError?: unknown;
}

/**
 * Waits until every moved pod's target-health gates are True and, with a source, the load
 * balancer reports each moved pod it serves `healthy`. Emits `rotation.targets.waiting` whenever
 * the set it waits for changes and `rotation.targets.healthy` at the end (nothing when no moved
 * pod sits behind a load balancer).
 * @throws TenkaiError ROTATION_TARGETS_UNHEALTHY past the deadline; the old slot is left as it is.
 */
export async function waitTargetsHealthy(a: TargetWaitArgs): Promise<void> {
  const started = a.clock.now();
  let lastSeen = "";
  let waited = false;
  for (;;) {
    const pending = await pendingTargets(a);
    const names = [...new Set([...pending.gates.map((g) => g.pod), ...pending.targets.map((t) => t.pod)])];
    if (names.length === 0 && pending.sourceError === undefined) {
      if (waited) {
        const ms = a.clock.now() - started;
        a.emit(
          "info",
          "rotation.targets.healthy",
          `${a.group}: the moved pods are healthy load balancer targets (waited ${(ms / 1000).toFixed(1)} s); deleting ${a.nodegroup}`,
          { group: a.group, nodegroup: a.nodegroup, ms },
        );
      }
      return;
    }
    const seen = `${names.join(",")}|${pending.sourceError === undefined ? "" : "error"}`;
    if (seen !== lastSeen) {
      lastSeen = seen;
      waited = true;
      a.emit(
        "info",
        "rotation.targets.waiting",
        `${a.group}: waiting for ${names.length} moved pod(s) to be healthy load balancer targets before deleting ${a.nodegroup}: ${describe(pending).slice(0, 3).join("; ")}${names.length > 3 ? "; ..." : ""}`,
        {
          group: a.group,
          nodegroup: a.nodegroup,
          pods: names,
          gates: pending.gates.length,
          targets: pending.targets.length,
          ...(pending.sourceError === undefined ? {} : { sourceError: errorText(pending.sourceError) }),
        },
      );
    }
    if (a.clock.now() > a.deadline) throw timedOut(a, pending, names);
    if (a.signal?.aborted) throw a.signal.reason;
    // Gates change with pod updates (the watch wakes us); the load balancer is polled.
    if (pending.gates.length > 0) await a.view.changed(1000);
    else await a.clock.sleep(2000, a.signal);
  }
}

async function pendingTargets(a: TargetWaitArgs): Promise<Pending> {
  const moved = movedPods(a.view.allPods(), a.since, a.leaving);
  const gates = moved.flatMap((p) => {
    const open = openTargetGates(p);
    return open.length > 0 ? [{ pod: podKey(p), gates: open }] : [];
  });
  // The load balancer is asked once the gates (the cheap, watched check) are all True.
  if (gates.length > 0 || !a.source) return { gates, targets: [] };
  const pods: TargetPod[] = moved
    .filter((p) => p.status?.podIP)
    .map((p) => ({
      pod: podKey(p),
      namespace: p.metadata?.namespace ?? "",
      ip: p.status?.podIP ?? "",
      labels: p.metadata?.labels ?? {},
    }));
  if (pods.length === 0) return { gates, targets: [] };
  try {
    return { gates, targets: await a.source.unhealthy(pods) };
  } catch (err) {
    return { gates, targets: [], sourceError: err };
  }
}

function describe(p: Pending): string[] {
  return [
    ...p.gates.map((g) => `${g.pod} (readiness gate ${g.gates.join(", ")} not True)`),
    ...p.targets.map(
      (t) => `${t.pod} (${t.ip} is ${t.state}${t.reason ? ` [${t.reason}]` : ""} in ${t.targetGroupArn})`,
    ),
    ...(p.sourceError === undefined
      ? []
      : [`the load balancer could not be read: ${errorText(p.sourceError)}`]),
  ];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function timedOut(a: TargetWaitArgs, p: Pending, names: readonly string[]): TenkaiError {
  const lines = describe(p);
  return new TenkaiError(
    "ROTATION_TARGETS_UNHEALTHY",
    `${names.length || "the"} moved pod(s) are not healthy load balancer targets in their new place, so ${a.nodegroup} is not deleted: ${lines.slice(0, 5).join("; ")}${lines.length > 5 ? `; and ${lines.length - 5} more` : ""}`,
    "find why the load balancer finds them unhealthy (`kubectl describe pod` shows the readiness gates; check the target group's health check path and port and the load balancer controller's logs), fix it, then run the same command again: the rotation resumes here and deletes the old slot once they are healthy",
    {
      ...(p.sourceError === undefined ? {} : { cause: p.sourceError }),
      details: {
        group: a.group,
        nodegroup: a.nodegroup,
        pods: names,
        targets: p.targets.map((t) => ({ ...t })),
      },
    },
  );
}
