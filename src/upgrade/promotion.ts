/**
 * Staging first: an environment that another promotes to (`promotesTo` in platform.yaml) may start
 * a target only after that predecessor passed the same target with a green verification. Each
 * environment records what it passed in its own cluster (`tenkai-system/upgrade-verified`, see
 * run-state.ts); the next one reads it through the predecessor's kubeconfig context. The same holds
 * on the local target (the predecessor's local cluster) and on EKS (the predecessor's EKS cluster).
 *
 * Only a record that says exactly "this predecessor passed this target on a control plane of that
 * minor" counts. A record that cannot be read — the predecessor names no context, its context is
 * not in the kubeconfig, its cluster does not answer in time or refuses the read — never counts as
 * passed: the run stops with `UPGRADE_PREDECESSOR_UNREADABLE`, which says so apart from "not
 * passed" (`UPGRADE_PREDECESSOR_NOT_VERIFIED`).
 */
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { TenkaiError } from "../shared/errors.js";
import { kubeMessage, kubeStatus } from "../shared/kube-errors.js";
import type { Platform } from "../spec/schema.js";
import { DEFAULT_UPGRADE_NAMESPACE, PROMOTION_NAME, PromotionStore } from "./run-state.js";
import type { PromotionRecord, PromotionRecords } from "./run-types.js";
import { formatMinor, parseMinor } from "./versions.js";

/** The environments whose `promotesTo` names `environment` (the spec allows one; all are checked). */
export function predecessorsOf(platform: Platform, environment: string | undefined): string[] {
  if (!environment) return [];
  return Object.entries(platform.environments)
    .filter(([, e]) => e.promotesTo === environment)
    .map(([name]) => name)
    .sort();
}

const DEFAULT_READ_TIMEOUT_MS = 30_000;

export interface KubePromotionRecordsOptions {
  /** This run's environment and its cluster (where it writes what it passed). */
  readonly environment: string | undefined;
  readonly core: CoreV1Api;
  /** A client of another environment's cluster (its kubeconfig context). */
  readonly coreFor: (environment: string) => CoreV1Api | Promise<CoreV1Api>;
  /** The kubeconfig context of an environment (platform.yaml `environments.<name>.context`). */
  readonly contextOf: (environment: string) => string | undefined;
  readonly namespace?: string;
  /** Bound on reading another environment's record (default 30 s); past it, the read failed. */
  readonly readTimeoutMs?: number;
}

export class KubePromotionRecords implements PromotionRecords {
  constructor(private readonly o: KubePromotionRecordsOptions) {}

  private get namespace(): string {
    return this.o.namespace ?? DEFAULT_UPGRADE_NAMESPACE;
  }

  async read(environment: string, target: string): Promise<PromotionRecord | undefined> {
    if (environment === this.o.environment)
      return new PromotionStore(this.o.core, this.o.namespace).read(target);
    const where = this.where(environment);
    const context = this.o.contextOf(environment);
    // Without a context of its own, "the current context" would be whichever cluster the
    // kubeconfig points at — most likely this environment's own: never read a record there.
    if (!context)
      throw unreadable(
        environment,
        target,
        where,
        `${environment} names no kubeconfig context in platform.yaml, so its cluster is unknown`,
        `add environments.${environment}.context (the kubeconfig context of ${environment}'s cluster) to platform.yaml`,
      );
    let cm: V1ConfigMap;
    try {
      const core = await this.o.coreFor(environment);
      cm = await bounded(
        core.readNamespacedConfigMap({ name: PROMOTION_NAME, namespace: this.namespace }),
        this.o.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      );
    } catch (err) {
      if (kubeStatus(err) === 404) return undefined;
      throw unreadable(
        environment,
        target,
        where,
        kubeMessage(err),
        `make context ${context} reach ${environment}'s cluster and allow reading ConfigMaps in ${this.namespace} (kubectl --context ${context} -n ${this.namespace} get configmap ${PROMOTION_NAME}), then run again`,
        err,
      );
    }
    const raw = cm.data?.[target];
    if (!raw) return undefined;
    const problem = recordProblem(raw, environment, target);
    if (problem)
      throw new TenkaiError(
        "UPGRADE_PREDECESSOR_NOT_VERIFIED",
        `${where} holds an entry for ${target} that does not count as ${environment} passing it: ${problem}`,
        `upgrade ${environment} again (its green verification rewrites the entry), then run this again`,
        { details: { predecessor: environment, target, where, entry: raw } },
      );
    return JSON.parse(raw) as PromotionRecord;
  }

  async write(record: PromotionRecord): Promise<void> {
    await new PromotionStore(this.o.core, this.o.namespace).write(record);
  }

  where(environment: string): string {
    const ctx = this.o.contextOf(environment);
    return `ConfigMap ${this.namespace}/${PROMOTION_NAME} in ${environment}'s cluster (${ctx ? `context ${ctx}` : "no context named"})`;
  }
}

/** Why an entry is not a record of `environment` passing `target` (undefined when it is one). */
export function recordProblem(raw: string, environment: string, target: string): string | undefined {
  let rec: Partial<Record<keyof PromotionRecord, unknown>>;
  try {
    rec = JSON.parse(raw) as typeof rec;
  } catch {
    return "it is not valid JSON";
  }
  if (typeof rec !== "object" || rec === null) return "it is not a record";
  if (rec.target !== target) return `it names target ${String(rec.target)}, not ${target}`;
  if (rec.environment !== environment)
    return `it was written by ${String(rec.environment)}, not ${environment}`;
  const minor = typeof rec.version === "string" ? parseMinor(rec.version) : undefined;
  if (!minor || formatMinor(minor) !== target)
    return `its control plane version ${String(rec.version)} is not on ${target}`;
  if (typeof rec.verifiedAt !== "string" || Number.isNaN(Date.parse(rec.verifiedAt)))
    return "it has no time of verification";
  return undefined;
}

function unreadable(
  environment: string,
  target: string,
  where: string,
  why: string,
  fix: string,
  cause?: unknown,
): TenkaiError {
  return new TenkaiError(
    "UPGRADE_PREDECESSOR_UNREADABLE",
    `cannot read whether ${environment} passed ${target} from ${where}: ${why}; a record that cannot be read never counts as passed`,
    fix,
    { details: { predecessor: environment, target, where }, ...(cause === undefined ? {} : { cause }) },
  );
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
