/**
 * Decide, as data, what an object or a manifest says about removed and deprecated APIs. Three
 * places name the apiVersion a client used:
 *
 * - a manifest's own `apiVersion` (files, Helm release manifests, the platform's rendered objects);
 * - `kubectl.kubernetes.io/last-applied-configuration`, which client-side `kubectl apply` writes
 *   (the only place kubent and pluto look);
 * - `metadata.managedFields[].apiVersion`, which the API server records for every field manager
 *   (server-side apply, `kubectl create/edit/patch`, controllers) with the version of the request
 *   it wrote through (k8s.io/apimachinery ManagedFieldsEntry: "APIVersion defines the version of
 *   this resource that this field set applies to"), so a client still writing through an old
 *   version shows up there even when nobody ran `kubectl apply`.
 */
import { type ApiRule, type ApiRuleIndex, apiVersionOf, type RuleStatus, ruleStatus } from "./api-rules.js";
import type { Finding, FindingSource, Severity } from "./types.js";
import { formatMinor, type Minor } from "./versions.js";

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Field managers of the control plane itself. They write through whatever version the server
 * prefers, so their entries say nothing about a client that must change.
 */
export const CONTROL_PLANE_MANAGERS: ReadonlySet<string> = new Set([
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "endpoint-controller",
  "endpointslice-controller",
  "endpointslicemirroring-controller",
]);

export interface ApiContext {
  readonly rules: ApiRuleIndex;
  readonly current: Minor;
  readonly target: Minor;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly managedFields?: readonly {
    readonly manager?: string;
    readonly operation?: string;
    readonly apiVersion?: string;
    readonly time?: string;
  }[];
}

export function objectRef(kind: string, meta: { name?: string; namespace?: string } | undefined): string {
  const ns = meta?.namespace;
  return `${kind} ${ns ? `${ns}/` : ""}${meta?.name ?? "(unnamed)"}`;
}

/** What a use of `rule` found at `source` weighs, given where the cluster goes. */
function severityFor(status: RuleStatus, source: FindingSource): Severity | undefined {
  switch (status) {
    case "removed-by-target":
      return "blocker";
    case "removed-before":
      // A manifest or Helm release that names a version no longer served cannot be applied or
      // upgraded at all (Helm fails to build the diff); a live record of one is history that the
      // next `kubectl apply` of the same file will repeat.
      return source === "file" || source === "helm" || source === "platform" ? "blocker" : "warning";
    case "deprecated":
      return "warning";
    default:
      return undefined;
  }
}

function idFor(status: RuleStatus): string {
  return status === "deprecated"
    ? "API_DEPRECATED"
    : status === "removed-before"
      ? "API_GONE"
      : "API_REMOVED";
}

export function apiFinding(
  ctx: ApiContext,
  rule: ApiRule,
  source: FindingSource,
  object: string,
  location: string | undefined,
): Finding | undefined {
  const status = ruleStatus(rule, ctx.current, ctx.target);
  const severity = severityFor(status, source);
  if (!severity) return undefined;
  const apiVersion = apiVersionOf(rule);
  const replacement = ctx.rules.replacementOn(rule, ctx.target);
  const where =
    source === "live:last-applied"
      ? "its last-applied configuration names"
      : source === "live:managed-fields"
        ? `field manager ${location ?? "?"} wrote it through`
        : source === "live:served"
          ? "it is served through"
          : "it is written as";
  const when =
    status === "removed-before"
      ? `no longer served since ${rule.removedIn}`
      : status === "removed-by-target"
        ? `removed in ${rule.removedIn}`
        : `deprecated since ${rule.deprecatedIn}${rule.removedIn ? `, removed in ${rule.removedIn}` : ", no removal scheduled"}`;
  const to = replacement ?? "nothing (the API has no replacement)";
  const fix =
    source === "live:managed-fields"
      ? `update the client that runs as field manager "${location}" to write ${rule.kind} through ${to}`
      : source === "live:last-applied"
        ? `change the manifest you apply to apiVersion ${to} and apply it again (the annotation then records the new version)`
        : source === "helm"
          ? `upgrade the chart to a version that renders ${to}; a release stuck on a removed API needs its stored manifest mapped first (helm mapkubeapis)`
          : `change apiVersion to ${to}${rule.notes ? ` (${rule.notes})` : ""}`;
  return {
    id: idFor(status),
    severity,
    area: "api",
    message: `${object}: ${where} ${apiVersion} ${rule.kind}, ${when}`,
    fix,
    object,
    source,
    ...(location ? { location } : {}),
    ...(rule.removedIn && status === "removed-by-target" ? { step: rule.removedIn } : {}),
    apiVersion,
    replacement: replacement ?? null,
    removedIn: rule.removedIn,
  };
}

/** Findings from a manifest (a file's document, a Helm release's document, a rendered object). */
export function manifestFindings(
  ctx: ApiContext,
  doc: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string; namespace?: string } },
  source: FindingSource,
  location: string,
): Finding[] {
  if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") return [];
  const out: Finding[] = [];
  const rule = ctx.rules.find(doc.apiVersion, doc.kind);
  if (rule) {
    const f = apiFinding(ctx, rule, source, objectRef(doc.kind, doc.metadata), location);
    if (f) out.push(f);
  }
  return out;
}

/**
 * Findings from a live object's metadata (it was listed through a served version of `kind`):
 * the last-applied annotation and every managed-fields entry of a client.
 */
export function liveObjectFindings(ctx: ApiContext, kind: string, meta: ObjectMeta): Finding[] {
  const out: Finding[] = [];
  const object = objectRef(kind, meta);
  const raw = meta.annotations?.[LAST_APPLIED];
  if (raw) {
    const applied = parseLastApplied(raw);
    const rule = applied ? ctx.rules.find(applied.apiVersion, applied.kind) : undefined;
    if (rule) {
      const f = apiFinding(ctx, rule, "live:last-applied", object, undefined);
      if (f) out.push(f);
    }
  }
  const seen = new Set<string>();
  for (const entry of meta.managedFields ?? []) {
    if (!entry.apiVersion || !entry.manager || CONTROL_PLANE_MANAGERS.has(entry.manager)) continue;
    const rule = ctx.rules.find(entry.apiVersion, kind);
    if (!rule) continue;
    const key = `${entry.manager} ${entry.apiVersion}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const f = apiFinding(ctx, rule, "live:managed-fields", object, entry.manager);
    if (f) out.push(entry.time ? { ...f, message: `${f.message} (last write ${entry.time})` } : f);
  }
  return out;
}

function parseLastApplied(raw: string): { apiVersion: string; kind: string } | undefined {
  try {
    const v = JSON.parse(raw) as { apiVersion?: unknown; kind?: unknown };
    return typeof v.apiVersion === "string" && typeof v.kind === "string"
      ? { apiVersion: v.apiVersion, kind: v.kind }
      : undefined;
  } catch {
    return undefined;
  }
}

export function describeTarget(ctx: ApiContext): string {
  return `${formatMinor(ctx.current)} → ${formatMinor(ctx.target)}`;
}
