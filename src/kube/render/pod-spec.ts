/**
 * The pod template every tenant workload gets: it passes Pod Security `restricted` (non-root,
 * seccomp RuntimeDefault, all capabilities dropped, no privilege escalation, read-only root with a
 * writable /tmp), names its own ServiceAccount, and carries the Fargate labels when it runs there.
 */
import { tenantDatabaseName, tenantDatabaseSecretName } from "../../shared/aws-names.js";
import { imageRef, WORKLOAD_LABEL } from "../../shared/kube-names.js";
import { fargatePodLabels } from "../../spec/checks.js";
import type { CronJob, Platform, Service, Tenant } from "../../spec/schema.js";
import { shutdownTiming } from "../../spec/shutdown.js";
import { TENANT_PRIORITY_CLASS } from "./tenant-namespace.js";

/** UID/GID the containers run as when the image does not say (a non-root, nobody-like id). */
export const RUN_AS_ID = 65532;

export function podLabels(tenant: Tenant, workload: Service | CronJob): Record<string, string> {
  return {
    [WORKLOAD_LABEL]: workload.name,
    "app.kubernetes.io/part-of": tenant.name,
    ...(workload.compute === "fargate" ? fargatePodLabels(workload.name) : {}),
  };
}

/**
 * The emptyDir volumes whose data may be lost when the pod is evicted, in the cluster
 * autoscaler's annotation (which node rotation honours too): tenkai's `/tmp` is scratch.
 */
export const SAFE_TO_EVICT_VOLUMES = "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes";
export const SCRATCH_VOLUME = "tmp";

export function podAnnotations(): Record<string, string> {
  return { [SAFE_TO_EVICT_VOLUMES]: SCRATCH_VOLUME };
}

export function containerSecurityContext(): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A pod that runs as the image's unprivileged user under the runtime's seccomp profile (Pod Security restricted). */
export function podSecurityContext(): {
  runAsNonRoot: true;
  runAsUser: number;
  runAsGroup: number;
  seccompProfile: { type: string };
} {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_ID,
    runAsGroup: RUN_AS_ID,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export interface PodSpecOptions {
  readonly restartPolicy?: "Always" | "OnFailure";
  /** Container port and probes (services only). */
  readonly service?: Service;
}

export function podSpec(
  platform: Platform,
  tenant: Tenant,
  workload: Service | CronJob,
  options: PodSpecOptions = {},
): Record<string, unknown> {
  const vars: Record<string, string> = { ...("env" in workload ? workload.env : {}) };
  if (workload.database) {
    // Where the tenant's credentials are (Secrets Manager, readable by the workload's IRSA role).
    vars.DATABASE_SECRET_NAME ??= tenantDatabaseSecretName(platform, tenant.name);
    vars.DATABASE_NAME ??= tenantDatabaseName(tenant.name);
  }
  const env = Object.entries(vars)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  const container: Record<string, unknown> = {
    name: workload.name,
    image: imageRef(platform, tenant.name, workload.image, workload.tag),
    ...("command" in workload && workload.command ? { command: [...workload.command] } : {}),
    ...(env.length > 0 ? { env } : {}),
    resources: {
      requests: { cpu: workload.resources.cpu, memory: workload.resources.memory },
      limits: { cpu: workload.resources.cpu, memory: workload.resources.memory },
    },
    securityContext: containerSecurityContext(),
    volumeMounts: [{ name: SCRATCH_VOLUME, mountPath: "/tmp" }],
  };
  const s = options.service;
  if (s) {
    container.ports = [{ name: "http", containerPort: s.port, protocol: "TCP" }];
    const probe = { httpGet: { path: s.healthPath, port: "http" } };
    container.readinessProbe = { ...probe, periodSeconds: 10, failureThreshold: 3 };
    container.livenessProbe = { ...probe, initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 };
    // Keep serving while the ALB drains this target (spec/shutdown.ts). The sleep action needs
    // no binary in the image (PodLifecycleSleepAction, on by default since Kubernetes 1.30).
    container.lifecycle = { preStop: { sleep: { seconds: shutdownTiming(platform, s).preStopSeconds } } };
  }
  const spec: Record<string, unknown> = {
    serviceAccountName: workload.name,
    automountServiceAccountToken: false,
    priorityClassName: TENANT_PRIORITY_CLASS,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_ID,
      runAsGroup: RUN_AS_ID,
      fsGroup: RUN_AS_ID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(s ? { terminationGracePeriodSeconds: shutdownTiming(platform, s).gracePeriodSeconds } : {}),
    containers: [container],
    volumes: [{ name: SCRATCH_VOLUME, emptyDir: { sizeLimit: "256Mi" } }],
    ...(options.restartPolicy ? { restartPolicy: options.restartPolicy } : {}),
  };
  // Fargate places one pod per micro-VM: zone spreading is Fargate's own business there.
  if (workload.compute !== "fargate" && options.service) {
    const selector = { matchLabels: { [WORKLOAD_LABEL]: workload.name } };
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        // ScheduleAnyway: a zone short of capacity must slow spreading, not block a rollout.
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
        nodeTaintsPolicy: "Honor",
        nodeAffinityPolicy: "Honor",
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
        nodeTaintsPolicy: "Honor",
      },
    ];
  }
  return spec;
}
