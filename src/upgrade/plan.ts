/**
 * `tenkai upgrade plan`: decide, as data, everything an upgrade from the running minor to a target
 * would hit, before anything changes — removed and deprecated APIs (live objects, Helm releases,
 * the platform's own manifests, files), version skew, add-ons, what would stop the node rotations,
 * and EKS caveats — and the ordered steps that get there, one control-plane minor at a time.
 * The engine reads, never writes, and never prints: it emits events to the injected sink.
 */

import type { KubeClient } from "../kube/api/client.js";
import { allObjects, renderKubernetesPlane } from "../kube/render/render.js";
import { clusterName } from "../shared/aws-names.js";
import type { Clock } from "../shared/clock.js";
import { eksVersions } from "../shared/data.js";
import { TenkaiError } from "../shared/errors.js";
import { type EventSink, emitter } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import { ADDON_WORKLOADS, type AddonTable, addonTable, decideAddons, imageTag } from "./addons.js";
import { type ApiContext, manifestFindings, objectRef } from "./api-findings.js";
import { ApiRuleIndex, apiRuleTable } from "./api-rules.js";
import { decideEksCaveats, type PodTemplateRef } from "./eks-caveats.js";
import { scanLive } from "./live-scan.js";
import { manifestFiles, readManifestFile } from "./manifests.js";
import { decideRotationBlockers } from "./rotation-blockers.js";
import { COMPUTE_TYPE_LABEL, decideSkew, NODEGROUP_LABEL, type SkewResult } from "./skew.js";
import { type LiveSnapshot, readSnapshot, serverVersion } from "./snapshot.js";
import { buildSteps } from "./steps.js";
import type { Finding, Severity, UpgradeEvent, UpgradePlan } from "./types.js";
import { compareMinor, formatMinor, parseMinor, requireMinor, stepsBetween } from "./versions.js";

export interface UpgradePlanOptions {
  readonly platform: Platform;
  /** The environment overlay the platform was loaded with (`-e`). */
  readonly environment?: string;
  /** Target minor, e.g. "1.37". */
  readonly to: string;
  /** Manifest files or directories to check as well. Default none. */
  readonly paths?: readonly string[];
  /** The spec file, for the commands the steps print. Default `platform.yaml`. */
  readonly specFile?: string;
  /** `kubectl version --client` of the operator; skipped when undefined. */
  readonly kubectlVersion?: string;
  /** Plan the rotations without surging single-replica Deployments. Default false. */
  readonly noSurge?: boolean;
  /** The add-on table. Default `data/eks-addons.json`. */
  readonly addons?: AddonTable;
  /** Where the add-on table came from, for messages. Default `data/eks-addons.json`. */
  readonly addonSource?: string;
  /**
   * Looks the add-on versions up elsewhere (EKS DescribeAddonVersions, see addons-eks.ts) from the
   * table and the minors on the path. A failure falls back to the table with a warning event.
   */
  readonly addonLookup?: (table: AddonTable, path: readonly string[]) => Promise<AddonTable>;
  /** Objects per list page. Default 500. */
  readonly pageSize?: number;
  /** Today, for support dates. Default now. */
  readonly now?: Date;
}

export interface UpgradePlanDeps {
  /** The cluster; without one the plan runs offline (spec version, manifests and tables only). */
  readonly client?: KubeClient;
  readonly sink?: EventSink<UpgradeEvent>;
  /** Default: the system clock (event times). */
  readonly clock?: Pick<Clock, "now">;
}

const SEVERITY_ORDER: Record<Severity, number> = { blocker: 0, warning: 1, info: 2 };

export async function planUpgrade(options: UpgradePlanOptions, deps: UpgradePlanDeps): Promise<UpgradePlan> {
  const t0 = Date.now();
  const { platform } = options;
  const { client } = deps;
  const emit = emitter<UpgradeEvent>(deps.sink, deps.clock);
  const target = requireMinor(options.to, "--to");
  const liveVersion = client ? await serverVersion(client) : undefined;
  const currentText = liveVersion ?? platform.spec.cluster.version;
  const current = parseMinor(currentText);
  if (!current) {
    throw new TenkaiError(
      "UPGRADE_UNKNOWN_VERSION",
      `cannot tell the control plane's version from "${currentText}"`,
      "check the context reaches a Kubernetes API server",
    );
  }
  if (compareMinor(target, current) < 0) {
    throw new TenkaiError(
      "UPGRADE_TARGET_BEHIND",
      `--to ${formatMinor(target)} is older than the control plane's ${formatMinor(current)}; Kubernetes does not downgrade`,
      `pass --to ${formatMinor(current)} or later`,
      { details: { from: formatMinor(current), to: formatMinor(target) } },
    );
  }
  if (target.major !== current.major) {
    throw new TenkaiError(
      "UPGRADE_BAD_VERSION",
      `--to ${options.to}: only Kubernetes 1.x is planned`,
      "pass --to 1.N",
    );
  }
  const path = stepsBetween(current, target).map(formatMinor);
  emit(
    "info",
    "upgrade.version",
    `control plane ${liveVersion ?? `${formatMinor(current)} (from the spec)`} → ${formatMinor(target)}: ${path.length} step(s)`,
    {
      from: formatMinor(current),
      to: formatMinor(target),
      source: liveVersion ? "cluster" : "spec",
      steps: path.length,
    },
  );

  const rules = apiRuleTable();
  const ctx: ApiContext = { rules: new ApiRuleIndex(rules.rules), current, target };
  const findings: Finding[] = [];

  // The platform's own manifests, as tenkai would apply them for this environment.
  const rendered = allObjects(renderKubernetesPlane(platform));
  for (const o of rendered)
    findings.push(...manifestFindings(ctx, o, "platform", `platform ${objectRef(o.kind, o.metadata)}`));

  // Files and directories given on the command line.
  const files = await manifestFiles(options.paths ?? []);
  const fileDocs = (await Promise.all(files.map(readManifestFile))).flat();
  for (const d of fileDocs) findings.push(...manifestFindings(ctx, d.doc, "file", d.location));
  if (files.length > 0)
    emit("info", "upgrade.scan.files", `${files.length} file(s), ${fileDocs.length} object(s) checked`, {
      files: files.length,
      objects: fileDocs.length,
    });

  let live: Awaited<ReturnType<typeof scanLive>> | undefined;
  let snap: LiveSnapshot | undefined;
  let skew: SkewResult | undefined;
  let drained: Readonly<Record<string, readonly string[]>> = {};
  const installed: Record<string, string | undefined> = {};
  if (client) {
    live = await scanLive(ctx, { client, emit, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
    findings.push(...live.findings);
    snap = await readSnapshot(client, options.pageSize);
    skew = decideSkew({
      controlPlane: current,
      target,
      nodes: snap.nodes.map((n) => ({
        name: n.metadata?.name ?? "",
        kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? "",
        ...(n.metadata?.labels?.[NODEGROUP_LABEL] ? { nodegroup: n.metadata.labels[NODEGROUP_LABEL] } : {}),
        fargate: n.metadata?.labels?.[COMPUTE_TYPE_LABEL] === "fargate",
      })),
      nodeGroups: platform.spec.nodeGroups.map((g) => g.name),
      ...(options.kubectlVersion ? { kubectl: options.kubectlVersion } : {}),
    });
    findings.push(...skew.findings);
    const rot = decideRotationBlockers(snap, {
      groups: platform.spec.nodeGroups,
      version: formatMinor(target),
      ...(options.noSurge ? { noSurge: true } : {}),
    });
    drained = rot.drained;
    findings.push(...rot.findings);
    for (const [name, w] of Object.entries(ADDON_WORKLOADS)) {
      const list = w.kind === "Deployment" ? snap.deployments : snap.daemonSets;
      const obj = list.find((o) => o.metadata?.namespace === w.namespace && o.metadata?.name === w.name);
      const image = obj?.spec?.template?.spec?.containers?.[0]?.image;
      installed[name] = image ? (imageTag(image) ?? "unknown") : undefined;
    }
  } else if (options.kubectlVersion) {
    skew = decideSkew({
      controlPlane: current,
      target,
      nodes: [],
      nodeGroups: [],
      kubectl: options.kubectlVersion,
    });
    findings.push(...skew.findings);
  }

  let table = options.addons ?? addonTable();
  let addonSource = options.addonSource ?? "data/eks-addons.json";
  if (options.addonLookup) {
    try {
      table = await options.addonLookup(table, path);
      addonSource = table.source;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      emit("warn", "upgrade.addons.fallback", `${error}; using ${addonSource} (as of ${table.asOf})`, {
        error,
        table: addonSource,
        asOf: table.asOf,
      });
    }
  }
  const addons = decideAddons(table, path, installed, addonSource);
  // On the local target the EKS add-ons running (CoreDNS, kube-proxy) are the cluster scripts'
  // pinned builds, which `upgrade run` leaves alone (control-plane-local.ts): a table without the
  // target's EKS version does not block there; it still warns, as it would block on EKS.
  findings.push(
    ...(platform.spec.target === "local"
      ? addons.findings.map((f) =>
          f.id === "ADDON_NO_VERSION" &&
          f.severity === "blocker" &&
          table.addons[f.object?.replace(/^addon /, "") ?? ""]?.kind === "eks-addon"
            ? {
                ...f,
                severity: "warning" as const,
                message: `${f.message} (on the local target it is the pinned build of cluster/addons.sh and does not move; on EKS this blocks)`,
              }
            : f,
        )
      : addons.findings),
  );

  const templates = [
    ...rendered.flatMap((o) => podTemplatesOf(o)),
    ...fileDocs.flatMap((d) => podTemplatesOf(d.doc)),
    ...(snap
      ? [
          ...snap.deployments.flatMap((o) => podTemplatesOf(o, "Deployment")),
          ...snap.statefulSets.flatMap((o) => podTemplatesOf(o, "StatefulSet")),
          ...snap.daemonSets.flatMap((o) => podTemplatesOf(o, "DaemonSet")),
          ...snap.pods
            .filter((p) => !(p.metadata?.ownerReferences ?? []).some((r) => r.controller))
            .flatMap((o) => podTemplatesOf(o, "Pod")),
        ]
      : []),
  ];
  const autoscaled = new Set<string>();
  const hpas = [
    ...rendered.filter((o) => o.kind === "HorizontalPodAutoscaler"),
    ...fileDocs.map((d) => d.doc).filter((d) => d.kind === "HorizontalPodAutoscaler"),
    ...(snap?.hpas ?? []),
  ] as { metadata?: { namespace?: string }; spec?: { scaleTargetRef?: { kind?: string; name?: string } } }[];
  for (const h of hpas) {
    const r = h.spec?.scaleTargetRef;
    if (r?.kind && r.name) autoscaled.add(`${r.kind} ${h.metadata?.namespace ?? "default"}/${r.name}`);
  }
  const apiVersions = new Map<string, string>();
  for (const o of [...rendered, ...fileDocs.map((d) => d.doc)]) {
    if (typeof o.apiVersion === "string" && typeof o.kind === "string")
      apiVersions.set(objectRef(o.kind, o.metadata), o.apiVersion);
  }
  findings.push(
    ...decideEksCaveats({
      target: platform.spec.target,
      region: platform.spec.aws.region,
      current: formatMinor(current),
      path,
      now: options.now ?? new Date(),
      profiles: platform.spec.fargate.profiles,
      templates: dedupeTemplates(templates),
      autoscaled,
      fargateLogging:
        (snap?.fargateLogging ?? false) ||
        rendered.some((o) => o.kind === "ConfigMap" && o.metadata.namespace === "aws-observability"),
      apiVersions,
    }),
  );

  const sorted = dedupe(findings).sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.area.localeCompare(b.area) ||
      a.id.localeCompare(b.id) ||
      (a.object ?? "").localeCompare(b.object ?? "") ||
      (a.location ?? "").localeCompare(b.location ?? ""),
  );
  for (const f of sorted)
    if (f.severity === "blocker") emit("warn", "upgrade.finding", `${f.id}: ${f.message}`, { finding: f });

  const steps = buildSteps({
    platform,
    specFile: options.specFile ?? "platform.yaml",
    ...(options.environment ? { environment: options.environment } : {}),
    current: formatMinor(current),
    path,
    behind: skew?.behind ?? [],
    drained,
    addonSteps: addons.steps,
    fargate: platform.spec.fargate.profiles.length > 0 || (skew?.fargateNodes ?? 0) > 0,
    cluster: clusterName(platform),
  });

  const counts = { blocker: 0, warning: 0, info: 0 };
  for (const f of sorted) counts[f.severity]++;
  const env = options.environment ? platform.environments[options.environment] : undefined;
  const promotedFrom = options.environment
    ? Object.entries(platform.environments)
        .filter(([, e]) => e.promotesTo === options.environment)
        .map(([n]) => n)
        .sort()
    : [];
  const versions = eksVersions();
  return {
    platform: platform.metadata.name,
    ...(options.environment ? { environment: options.environment } : {}),
    from: formatMinor(current),
    to: formatMinor(target),
    fromSource: liveVersion ? "cluster" : "spec",
    path,
    steps,
    findings: sorted,
    counts,
    scanned: {
      liveObjects: live?.objects ?? 0,
      liveTypes: live?.types ?? [],
      helmReleases: live?.helmReleases ?? 0,
      platformObjects: rendered.length,
      files: files.length,
    },
    data: {
      "deprecated-apis": { asOf: rules.asOf, source: rules.source },
      addons: { asOf: table.asOf, source: table.source },
      "eks-versions": { asOf: versions.asOf, source: versions.source },
    },
    ...(env?.promotesTo ? { promotesTo: env.promotesTo } : {}),
    ...(promotedFrom.length > 0 ? { promotedFrom } : {}),
    ms: Date.now() - t0,
  };
}

type PodSpecLike = PodTemplateRef["spec"];

/** The pod template(s) of a workload object (or the pod itself). */
export function podTemplatesOf(o: object, kindHint?: string): PodTemplateRef[] {
  const obj = o as {
    kind?: string;
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
    spec?: {
      template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpecLike };
      jobTemplate?: {
        spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpecLike } };
      };
    } & PodSpecLike;
  };
  const kind = obj.kind ?? kindHint ?? "";
  const ns = obj.metadata?.namespace ?? "default";
  const ref = objectRef(kind, { name: obj.metadata?.name ?? "", namespace: ns });
  const tpl =
    kind === "CronJob"
      ? obj.spec?.jobTemplate?.spec?.template
      : kind === "Pod"
        ? { metadata: { labels: obj.metadata?.labels ?? {} }, spec: obj.spec }
        : ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(kind)
          ? obj.spec?.template
          : undefined;
  if (!tpl?.spec) return [];
  return [{ ref, kind, namespace: ns, labels: tpl.metadata?.labels ?? {}, spec: tpl.spec }];
}

function dedupeTemplates(list: readonly PodTemplateRef[]): PodTemplateRef[] {
  const m = new Map<string, PodTemplateRef>();
  for (const t of list) m.set(t.ref, t);
  return [...m.values()];
}

function dedupe(list: readonly Finding[]): Finding[] {
  const m = new Map<string, Finding>();
  for (const f of list) {
    const key = [f.id, f.object, f.source, f.location, f.apiVersion, f.step, f.message].join("|");
    if (!m.has(key)) m.set(key, f);
  }
  return [...m.values()];
}
