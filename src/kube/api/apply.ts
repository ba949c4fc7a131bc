/**
 * `tenkai apply`: server-side apply (field manager `tenkai`) of the rendered plane, recorded as an
 * ApplySet, in dependency order, with bounded concurrency; then rollouts awaited and objects that
 * left the spec pruned. Emits events; never prints (STYLE.md 6).
 *
 * A second apply of the same spec changes nothing: each object's resourceVersion before (from the
 * ApplySet listing) and after the patch are compared, so `unchanged` is what the server says.
 */
import { type Clock, systemClock } from "../../shared/clock.js";
import { TenkaiError } from "../../shared/errors.js";
import { type EventSink, emitter } from "../../shared/events.js";
import type { KubeObject } from "../../shared/planes.js";
import { retry } from "../../shared/retry.js";
import type { Platform } from "../../spec/schema.js";
import { allObjects, renderKubernetesPlane } from "../render/render.js";
import type { ApplyEvent, ApplyOutcome, ApplySummary } from "./apply-events.js";
import {
  APPLYSET_GKS_ANNOTATION,
  APPLYSET_NAMESPACES_ANNOTATION,
  applySetId,
  applySetParent,
  groupKind,
  objectKey,
  parentObject,
  parseGroupKinds,
  withPartOf,
} from "./applyset.js";
import { type Live, listChildren, prune, refuseOtherPlatform } from "./applyset-live.js";
import { isKubeApiError, type KubeClient } from "./client.js";
import { alreadyApplied, applyChanged, withAppliedHash } from "./compare.js";
import { mapLimit } from "./concurrency.js";
import { Discovery, resourcePath } from "./discovery.js";
import { FIELD_MANAGER_NAME } from "./field-manager.js";
import { hasLateBound, resolveLateBound } from "./late-bound.js";
import { diffObjects, normalizeObject } from "./object-diff.js";
import { PHASE_NAMES, type Phase, phaseOf } from "./order.js";

export type { ApplyEvent, ApplyOutcome, ApplySummary } from "./apply-events.js";

import { waitForCrds, waitForQuotas, waitForRollouts } from "./wait.js";

export const FIELD_MANAGER = FIELD_MANAGER_NAME;

export interface ApplyOptions {
  readonly client: KubeClient;
  /** Names the ApplySet parent (`tenkai-applyset-<name>` in tenkai-system): the platform name. */
  readonly applySetName: string;
  /** Server-side dry run for every write (`dryRun=All`); nothing changes, nothing is awaited. Default false. */
  readonly dryRun?: boolean;
  /** Delete children of the ApplySet that are no longer rendered. Default true. */
  readonly prune?: boolean;
  /** Wait for changed Deployments, DaemonSets and StatefulSets to roll out. Default true. */
  readonly wait?: boolean;
  /** How long to wait for rollouts, in ms. Default 300 000. */
  readonly waitTimeoutMs?: number;
  /** Requests in flight at once. Default 32. */
  readonly concurrency?: number;
  /**
   * Take over fields another manager owns on objects tenkai does not yet own. Default false:
   * objects already in tenkai's ApplySet are always applied with force (tenkai owns them).
   */
  readonly forceConflicts?: boolean;
  /**
   * Skip the request for objects whose live fields already equal what tenkai would set and that
   * were applied from the same rendered object (hash annotation). Default true; false sends every
   * object to the server (what `kubectl apply --server-side` does).
   */
  readonly skipUnchanged?: boolean;
  /** Where events go (shared/events.ts). Default: nowhere. */
  readonly sink?: EventSink<ApplyEvent>;
  readonly clock?: Clock;
  /**
   * The cluster's VPC id for the AWS Load Balancer Controller (the AWS plane's; see
   * late-bound.ts). Needed only when the objects carry it (target aws).
   */
  readonly vpcId?: string;
}

export interface ObjectResult {
  readonly ref: string;
  readonly outcome: ApplyOutcome;
}

export interface ApplyResult {
  readonly summary: ApplySummary;
  readonly objects: readonly ObjectResult[];
  readonly pruned: readonly string[];
}

/** Renders the platform and applies it (the ApplySet is named after the platform). */
export function applyPlatform(
  platform: Platform,
  options: Omit<ApplyOptions, "applySetName">,
): Promise<ApplyResult> {
  return applyObjects(allObjects(renderKubernetesPlane(platform)), {
    ...options,
    applySetName: platform.metadata.name,
  });
}

export async function applyObjects(
  rendered: readonly KubeObject[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  const { client } = options;
  // Values only the cluster (or the AWS plane) knows: the webhook certificate, the VPC id.
  const objects = hasLateBound(rendered)
    ? await resolveLateBound(rendered, {
        ...(options.vpcId ? { vpcId: options.vpcId } : {}),
        readSecret: async (namespace, name) =>
          (await getOrUndefined(client, `/api/v1/namespaces/${namespace}/secrets/${name}`))?.data as
            | Record<string, string>
            | undefined,
      })
    : rendered;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const emit = emitter(options.sink, clock);
  const dryRun = options.dryRun ?? false;
  const limit = options.concurrency ?? 32;
  const parent = applySetParent(options.applySetName);
  const id = applySetId(parent);
  const discovery = new Discovery(client);
  await discovery.refresh();
  await refuseOtherPlatform(client, parent.name);
  emit(
    "info",
    "apply.start",
    `${dryRun ? "dry run: " : ""}applying ${objects.length} objects as ApplySet ${parent.namespace}/${parent.name}`,
    { applySetId: id, objects: objects.length, dryRun },
  );

  const desired = objects.map((o) => withAppliedHash(withPartOf(o, id)));
  const desiredKeys = new Set(desired.map(objectKey));
  if (desiredKeys.size !== desired.length)
    throw new TenkaiError(
      "KUBE_DUPLICATE_OBJECT",
      "the rendered objects contain the same object twice",
      "report this as a tenkai bug",
    );

  // Decide first: what the ApplySet holds now (every kind it ever recorded, plus the new ones).
  const liveParent = await getOrUndefined(
    client,
    `/api/v1/namespaces/${parent.namespace}/configmaps/${parent.name}`,
  );
  const parentAnnotations = ((liveParent?.metadata as { annotations?: Record<string, string> } | undefined)
    ?.annotations ?? {}) as Record<string, string>;
  const priorGks = parseGroupKinds(parentAnnotations[APPLYSET_GKS_ANNOTATION]);
  const priorNamespaces = parseGroupKinds(parentAnnotations[APPLYSET_NAMESPACES_ANNOTATION]);
  const gks = new Set([...priorGks, ...desired.map(groupKind)]);
  const namespaces = new Set(desired.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])));
  const existing = await listChildren(client, discovery, [...gks], id, limit);

  const results = new Map<string, ApplyOutcome>();
  const applyOne = async (o: KubeObject) => {
    const key = objectKey(o);
    const before = existing.get(key);
    // Decide first: an object whose fields already hold every value tenkai sets, applied from
    // the same rendered spec (hash annotation), needs no request at all.
    if (before && (options.skipUnchanged ?? true) && alreadyApplied(before, o)) {
      results.set(key, "unchanged");
      emit("debug", "apply.object", `${key} unchanged`, { ref: key, outcome: "unchanged" });
      return undefined;
    }
    let after: Live;
    try {
      after = await serverSideApply(client, discovery, o, {
        dryRun,
        force: before !== undefined || (options.forceConflicts ?? false),
        clock,
      });
    } catch (err) {
      // A dry run cannot create into a namespace or kind that the same apply would create first.
      if (!dryRun || !unverifiableInDryRun(err)) throw err;
      results.set(key, "created");
      emit("debug", "apply.object", `${key} created (dry run; its namespace or CRD does not exist yet)`, {
        ref: key,
        outcome: "created",
      });
      return undefined;
    }
    // Changed when the server wrote it (new resourceVersion) and what tenkai manages moved; a
    // controller's write between list and patch (status, HPA replicas) is not tenkai's change.
    const outcome: ApplyOutcome = !before
      ? "created"
      : dryRun
        ? diffObjects(normalizeObject(before), normalizeObject(after)).length > 0
          ? "configured"
          : "unchanged"
        : applyChanged(before, after, o)
          ? "configured"
          : "unchanged";
    results.set(key, outcome);
    emit("debug", "apply.object", `${key} ${outcome}${dryRun ? " (dry run)" : ""}`, { ref: key, outcome });
    return after;
  };

  // The parent's namespace comes first; the parent then records a superset of old and new kinds
  // before any child is written, so an interrupted apply can still prune what it started.
  const parentNs = desired.find((o) => o.kind === "Namespace" && o.metadata.name === parent.namespace);
  if (parentNs) await applyOne(parentNs);
  if (!dryRun)
    await serverSideApply(client, discovery, parentObject(parent, gks, [...namespaces, ...priorNamespaces]), {
      dryRun,
      force: true,
      clock,
    });

  for (const phase of [0, 1, 2] as Phase[]) {
    const batch = desired.filter((o) => phaseOf(o.kind) === phase && o !== parentNs);
    if (batch.length === 0) continue;
    emit("info", "apply.phase", `phase ${phase}: ${PHASE_NAMES[phase]} (${batch.length} objects)`, {
      phase,
      objects: batch.length,
    });
    await mapLimit(batch, limit, applyOne);
    if (phase === 0) {
      const crds = batch.filter((o) => o.kind === "CustomResourceDefinition").map((o) => o.metadata.name);
      if (crds.length > 0 && !dryRun) {
        await waitForCrds(client, crds, {
          clock,
          onEstablished: (name) => emit("info", "apply.crd-established", `CRD ${name} established`, { name }),
        });
      }
      if (crds.length > 0) await discovery.refresh();
    }
    if (phase === 1 && !dryRun) {
      // What phase 2 creates may be counted by a quota this phase just raised.
      const quotas = batch
        .filter((o) => o.kind === "ResourceQuota" && results.get(objectKey(o)) !== "unchanged")
        .map((o) => ({ namespace: o.metadata.namespace ?? "", name: o.metadata.name }));
      const behind = quotas.length > 0 ? await waitForQuotas(client, quotas, { clock }) : [];
      if (behind.length > 0)
        emit(
          "warn",
          "apply.quota-not-current",
          `the resource quota controller has not taken up the new limits of ${behind.join(", ")} after 60 s: objects they count may be refused against the old limits`,
          { quotas: behind },
        );
    }
  }

  if (!dryRun && (options.wait ?? true)) {
    const changed = desired.filter(
      (o) =>
        ["Deployment", "DaemonSet", "StatefulSet"].includes(o.kind) &&
        results.get(objectKey(o)) !== "unchanged",
    );
    await waitForRollouts(client, changed, {
      clock,
      timeoutMs: options.waitTimeoutMs ?? 300_000,
      concurrency: limit,
      onProgress: (p) =>
        emit(
          "info",
          "apply.rollout",
          `${p.ref}: ${p.ready}/${p.desired} ready${p.done ? ", rolled out" : ""}`,
          { ...p },
        ),
    });
  }

  const pruned =
    (options.prune ?? true)
      ? await prune(client, discovery, existing, desiredKeys, { dryRun, limit, emit })
      : [];
  if (!dryRun)
    await serverSideApply(client, discovery, parentObject(parent, desired.map(groupKind), namespaces), {
      dryRun,
      force: true,
      clock,
    });

  const count = (o: ApplyOutcome) => [...results.values()].filter((x) => x === o).length;
  const summary: ApplySummary = {
    applySetId: id,
    dryRun,
    total: desired.length,
    created: count("created"),
    configured: count("configured"),
    unchanged: count("unchanged"),
    pruned: pruned.length,
    durationMs: clock.now() - started,
  };
  emit(
    "info",
    "apply.done",
    `${dryRun ? "dry run: " : ""}${summary.created} created, ${summary.configured} configured, ${summary.unchanged} unchanged, ${summary.pruned} pruned in ${(summary.durationMs / 1000).toFixed(1)} s`,
    { summary },
  );
  return {
    summary,
    objects: desired.map((o) => ({ ref: objectKey(o), outcome: results.get(objectKey(o)) ?? "unchanged" })),
    pruned,
  };
}

const RETRIES = 5;
/** Apply retries: 500 ms doubling to 8 s, jittered (shared/retry.ts). */
const APPLY_BACKOFF = { baseMs: 500, capMs: 8_000 } as const;

/**
 * Errors that a moment fixes: throttling and server errors, and admission that has not caught up
 * with objects this apply just wrote (a new ResourceQuota before the quota controller filled its
 * status: "status unknown for quota"; a policy binding before its param ConfigMap reached the
 * admission informer: "no params found").
 */
export function isTransient(err: unknown): boolean {
  if (!isKubeApiError(err)) return false;
  if (err.status === 429 || err.status >= 500) return true;
  // The quota admission plugin updates the namespace's ResourceQuota with optimistic concurrency;
  // when other writes in the namespace win that race it answers 409 "Operation cannot be fulfilled
  // on resourcequotas" (not a field-manager conflict): the same request a moment later goes through.
  if (err.status === 409 && /cannot be fulfilled on resourcequotas/i.test(err.message)) return true;
  return /status unknown for quota|no params found|failed to find param/i.test(err.message);
}

export async function serverSideApply(
  client: KubeClient,
  discovery: Discovery,
  o: KubeObject,
  opts: { dryRun: boolean; force: boolean; clock?: Clock },
): Promise<Live> {
  const r = await discovery.resourceFor(o.apiVersion, o.kind);
  const path = resourcePath(r, o.metadata.namespace, o.metadata.name);
  const send = (force: boolean) =>
    retry(
      () =>
        client.request<Live>({
          method: "PATCH",
          path,
          query: {
            fieldManager: FIELD_MANAGER,
            force: String(force),
            ...(opts.dryRun ? { dryRun: "All" } : {}),
          },
          contentType: "application/apply-patch+yaml",
          body: o,
        }),
      { ...APPLY_BACKOFF, attempts: RETRIES, clock: opts.clock ?? systemClock, retryable: isTransient },
    );
  try {
    return (await send(opts.force)).body;
  } catch (err) {
    const key = objectKey(o);
    if (isKubeApiError(err, 409)) {
      throw new TenkaiError(
        "KUBE_APPLY_CONFLICT",
        `${key}: ${err.message}`,
        "another tool manages these fields; re-run with --force-conflicts to let tenkai take them over",
        { cause: err },
      );
    }
    if (err instanceof TenkaiError)
      throw new TenkaiError(err.code, `applying ${key}: ${err.message}`, err.fix, { cause: err });
    throw err;
  }
}

/** A dry-run write that failed only because an earlier write of the same apply did not happen. */
export function unverifiableInDryRun(err: unknown): boolean {
  if (err instanceof TenkaiError && err.code === "KUBE_UNKNOWN_KIND") return true;
  const cause = err instanceof Error ? err.cause : undefined;
  return (
    isKubeApiError(cause, 404) ||
    isKubeApiError(err, 404) ||
    (cause instanceof TenkaiError && cause.code === "KUBE_UNKNOWN_KIND")
  );
}

async function getOrUndefined(
  client: KubeClient,
  path: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    return (await client.request({ method: "GET", path })).body;
  } catch (err) {
    if (isKubeApiError(err, 404)) return undefined;
    throw err;
  }
}
