/**
 * EKS caveats as rules with ids and fixes, decided as data:
 *
 * - versions: a step EKS does not offer (data/eks-versions.json), and extended support — the date
 *   each version leaves standard support and what extended support costs (data/prices.json);
 * - what EKS does not offer: no alpha APIs (EKS enables no alpha features or API versions) and no
 *   control-plane flags or feature gates of your own;
 * - Fargate limits for pods a Fargate profile selects (EKS user guide, "Fargate considerations"):
 *   no DaemonSets, no privileged containers, no hostNetwork or hostPort, no persistent block
 *   storage (EBS; only EFS mounts), profile and namespace must match, logging only through the
 *   aws-observability router, and no pod metrics from the kubelet (no cAdvisor endpoint to scrape).
 */
import { eksVersions, readData } from "../shared/data.js";
import type { Finding } from "./types.js";

export interface PodTemplateRef {
  /** `Kind namespace/name` of the workload (or pod). */
  readonly ref: string;
  readonly kind: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: {
    readonly hostNetwork?: boolean;
    readonly schedulerName?: string;
    readonly containers?: readonly {
      readonly name: string;
      readonly securityContext?: { readonly privileged?: boolean };
      readonly ports?: readonly { readonly hostPort?: number }[];
    }[];
    readonly volumes?: readonly {
      readonly name: string;
      readonly persistentVolumeClaim?: unknown;
      readonly awsElasticBlockStore?: unknown;
      readonly hostPath?: unknown;
    }[];
  };
}

export interface FargateProfileRef {
  readonly name: string;
  readonly selectors: readonly {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
  }[];
}

export interface EksCaveatInput {
  readonly target: "aws" | "local";
  readonly region: string;
  /** The minor running now and the path the control plane takes. */
  readonly current: string;
  readonly path: readonly string[];
  readonly now: Date;
  readonly profiles: readonly FargateProfileRef[];
  /** Workload pod templates and pods (rendered, from files, and live). */
  readonly templates: readonly PodTemplateRef[];
  /** Namespaces/names of HorizontalPodAutoscaler targets, `Kind namespace/name`. */
  readonly autoscaled: ReadonlySet<string>;
  /** Whether the aws-observability/aws-logging ConfigMap exists (rendered or live). */
  readonly fargateLogging: boolean;
  /** apiVersions of objects tenkai will apply or was given, to spot alpha APIs. */
  readonly apiVersions: ReadonlyMap<string, string>;
}

/** The label tenkai puts on workloads that run on Fargate (src/spec/checks.ts fargatePodLabels). */
export const FARGATE_COMPUTE_LABEL = "tenkai.dev/compute";
export const FARGATE_SCHEDULER = "fargate-scheduler";

export function profileFor(
  profiles: readonly FargateProfileRef[],
  namespace: string,
  labels: Readonly<Record<string, string>>,
): FargateProfileRef | undefined {
  return profiles.find((p) =>
    p.selectors.some(
      (s) => s.namespace === namespace && Object.entries(s.labels).every(([k, v]) => labels[k] === v),
    ),
  );
}

interface PriceTable {
  readonly asOf: string;
  readonly hoursPerMonth: number;
  readonly regions: Readonly<Record<string, { eksControlPlane: { standard: number; extended: number } }>>;
}

export function decideEksCaveats(input: EksCaveatInput): Finding[] {
  const out: Finding[] = [];
  if (input.target === "aws") out.push(...versionCaveats(input));
  out.push(...alphaApis(input));
  out.push(...fargateCaveats(input));
  return out;
}

function versionCaveats(input: EksCaveatInput): Finding[] {
  const out: Finding[] = [];
  const table = eksVersions();
  const prices = readData<PriceTable>("prices.json");
  const cp = prices.regions[input.region]?.eksControlPlane;
  const today = input.now.toISOString().slice(0, 10);
  const extraPerMonth = cp ? Math.round((cp.extended - cp.standard) * prices.hoursPerMonth) : undefined;
  for (const minor of [input.current, ...input.path]) {
    const v = table.versions.find((x) => x.version === minor);
    if (!v) {
      if (minor === input.current) continue;
      out.push({
        id: "EKS_VERSION_UNAVAILABLE",
        severity: "blocker",
        area: "eks",
        message: `EKS does not offer Kubernetes ${minor} (data/eks-versions.json as of ${table.asOf})`,
        fix: `choose a target EKS offers (${table.versions.map((x) => x.version).join(", ")}), or refresh data/eks-versions.json from ${table.source}`,
        step: minor,
      });
      continue;
    }
    const est = v.estimated ? " (estimated)" : "";
    if (v.endOfExtendedSupport <= today) {
      out.push({
        id: "EKS_VERSION_END_OF_SUPPORT",
        severity: minor === input.path[input.path.length - 1] ? "blocker" : "warning",
        area: "eks",
        message: `Kubernetes ${minor} left EKS extended support on ${v.endOfExtendedSupport}${est}; EKS upgrades such clusters automatically`,
        fix: "plan a target still in standard support",
        step: minor,
      });
    } else if (v.endOfStandardSupport <= today) {
      out.push({
        id: "EKS_EXTENDED_SUPPORT",
        severity: "warning",
        area: "eks",
        message: `Kubernetes ${minor} is in EKS extended support since ${v.endOfStandardSupport}${est} (until ${v.endOfExtendedSupport}): the control plane costs $${cp?.extended ?? "?"}/h instead of $${cp?.standard ?? "?"}/h${extraPerMonth !== undefined ? `, about $${extraPerMonth} more a month` : ""}`,
        fix: "move past it; staying costs the extended-support price every hour",
        step: minor,
      });
    } else if (minor === input.path[input.path.length - 1]) {
      out.push({
        id: "EKS_SUPPORT_DATES",
        severity: "info",
        area: "eks",
        message: `Kubernetes ${minor}: EKS standard support until ${v.endOfStandardSupport}${est}, extended support until ${v.endOfExtendedSupport}${extraPerMonth !== undefined ? ` (about $${extraPerMonth} more a month in extended support)` : ""}`,
        fix: `plan the next upgrade before ${v.endOfStandardSupport}`,
        step: minor,
      });
    }
  }
  out.push({
    id: "EKS_NO_CONTROL_PLANE_FLAGS",
    severity: "info",
    area: "eks",
    message:
      "EKS runs the control plane: no kube-apiserver flags or feature gates of your own, so features that are off by default upstream stay off",
    fix: "use only GA and on-by-default beta features; check the EKS release notes of each minor on the path",
  });
  return out;
}

function alphaApis(input: EksCaveatInput): Finding[] {
  if (input.target !== "aws") return [];
  const out: Finding[] = [];
  for (const [ref, apiVersion] of input.apiVersions) {
    if (!/\/v\d+alpha\d+$/.test(apiVersion)) continue;
    out.push({
      id: "EKS_ALPHA_API",
      severity: "blocker",
      area: "eks",
      message: `${ref} uses ${apiVersion}; EKS serves no alpha API versions`,
      fix: "use the API's beta or GA version, or drop the object",
      object: ref,
      apiVersion,
    });
  }
  return out;
}

function fargateCaveats(input: EksCaveatInput): Finding[] {
  const out: Finding[] = [];
  let bound = 0;
  for (const t of input.templates) {
    const profile = profileFor(input.profiles, t.namespace, t.labels);
    const wantsFargate =
      t.labels[FARGATE_COMPUTE_LABEL] === "fargate" || t.spec.schedulerName === FARGATE_SCHEDULER;
    if (!profile) {
      if (wantsFargate) {
        out.push({
          id: "EKS_FARGATE_NO_PROFILE",
          severity: "blocker",
          area: "eks",
          message: `${t.ref} asks for Fargate but no Fargate profile selects namespace ${t.namespace} with its labels; its pods stay Pending`,
          fix: `add a selector { namespace: ${t.namespace}, labels: { ${FARGATE_COMPUTE_LABEL}: fargate } } to a profile in spec.fargate.profiles`,
          object: t.ref,
        });
      }
      continue;
    }
    bound++;
    const on = `${t.ref} is selected by Fargate profile ${profile.name}`;
    if (t.kind === "DaemonSet") {
      out.push({
        id: "EKS_FARGATE_DAEMONSET",
        severity: "warning",
        area: "eks",
        message: `${on}, but DaemonSets do not run on Fargate`,
        fix: "run it as a sidecar of the Fargate workloads, or keep it on EC2 nodes (exclude its labels from the profile)",
        object: t.ref,
      });
    }
    const privileged = (t.spec.containers ?? [])
      .filter((c) => c.securityContext?.privileged)
      .map((c) => c.name);
    if (privileged.length > 0) {
      out.push({
        id: "EKS_FARGATE_PRIVILEGED",
        severity: "blocker",
        area: "eks",
        message: `${on}, but container(s) ${privileged.join(", ")} are privileged, which Fargate refuses`,
        fix: "drop privileged, or run the workload on EC2 nodes",
        object: t.ref,
      });
    }
    const hostPorts = (t.spec.containers ?? []).some((c) =>
      (c.ports ?? []).some((p) => p.hostPort !== undefined),
    );
    if (t.spec.hostNetwork || hostPorts) {
      out.push({
        id: "EKS_FARGATE_HOST_NETWORK",
        severity: "blocker",
        area: "eks",
        message: `${on}, but it uses ${t.spec.hostNetwork ? "hostNetwork" : "hostPort"}, which Fargate does not offer`,
        fix: "remove hostNetwork/hostPort (a Service reaches the pod), or run it on EC2 nodes",
        object: t.ref,
      });
    }
    const block = (t.spec.volumes ?? []).filter(
      (v) =>
        v.persistentVolumeClaim !== undefined ||
        v.awsElasticBlockStore !== undefined ||
        v.hostPath !== undefined,
    );
    if (block.length > 0) {
      out.push({
        id: "EKS_FARGATE_BLOCK_STORAGE",
        severity: "blocker",
        area: "eks",
        message: `${on}, but volume(s) ${block.map((v) => v.name).join(", ")} need persistent block storage or a host path; Fargate mounts only EFS (and emptyDir)`,
        fix: "use an EFS-backed PersistentVolume, or run the workload on EC2 nodes",
        object: t.ref,
      });
    }
    if (input.autoscaled.has(t.ref)) {
      out.push({
        id: "EKS_FARGATE_NO_KUBELET_METRICS",
        severity: "info",
        area: "eks",
        message: `${on} and autoscaled; Fargate exposes no kubelet/cAdvisor pod metrics to scrape, so only metrics-server resource metrics drive it`,
        fix: "scale on CPU/memory through metrics-server, or publish custom metrics (CloudWatch, ADOT)",
        object: t.ref,
      });
    }
  }
  if (bound > 0 && !input.fargateLogging) {
    out.push({
      id: "EKS_FARGATE_LOGGING",
      severity: "warning",
      area: "eks",
      message: `${bound} workload(s) run on Fargate but there is no aws-observability/aws-logging ConfigMap; Fargate ships logs only through that router`,
      fix: "apply the platform (tenkai renders the aws-observability namespace and its aws-logging ConfigMap)",
    });
  }
  return out;
}
