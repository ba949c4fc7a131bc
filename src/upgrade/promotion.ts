/**
 * Staging first: an environment that another promotes to (`promotesTo` in platform.yaml) may start
 * a target only after that predecessor passed the same target with a green verification. Each
 * environment records what it passed in its own cluster (`tenkai-system/upgrade-verified`, see
 * run-state.ts); the next one reads it through the predecessor's kubeconfig context. The same holds
 * on the local target (the predecessor's local cluster) and on EKS (the predecessor's EKS cluster).
 */
import type { CoreV1Api } from "@kubernetes/client-node";
import type { Platform } from "../spec/schema.js";
import { PromotionStore } from "./run-state.js";
import type { PromotionRecord, PromotionRecords } from "./run-types.js";

/** The environments whose `promotesTo` names `environment` (the spec allows one; all are checked). */
export function predecessorsOf(platform: Platform, environment: string | undefined): string[] {
  if (!environment) return [];
  return Object.entries(platform.environments)
    .filter(([, e]) => e.promotesTo === environment)
    .map(([name]) => name)
    .sort();
}

export interface KubePromotionRecordsOptions {
  /** This run's environment and its cluster (where it writes what it passed). */
  readonly environment: string | undefined;
  readonly core: CoreV1Api;
  /** A client of another environment's cluster (its kubeconfig context). */
  readonly coreFor: (environment: string) => CoreV1Api | Promise<CoreV1Api>;
  /** The kubeconfig context of an environment, for messages. */
  readonly contextOf: (environment: string) => string | undefined;
  readonly namespace?: string;
}

export class KubePromotionRecords implements PromotionRecords {
  constructor(private readonly o: KubePromotionRecordsOptions) {}

  async read(environment: string, target: string): Promise<PromotionRecord | undefined> {
    const core = environment === this.o.environment ? this.o.core : await this.o.coreFor(environment);
    return new PromotionStore(core, this.o.namespace).read(target);
  }

  async write(record: PromotionRecord): Promise<void> {
    await new PromotionStore(this.o.core, this.o.namespace).write(record);
  }

  where(environment: string): string {
    const ctx = this.o.contextOf(environment);
    return `${new PromotionStore(this.o.core, this.o.namespace).where} in ${environment}'s cluster (${ctx ? `context ${ctx}` : "the current context"})`;
  }
}
