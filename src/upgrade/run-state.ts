/**
 * What `upgrade run` keeps in the cluster, like the rotation keeps its own (rotation/state.ts):
 *
 * - `tenkai-system/upgrade-run`: where the run stands (steps, those done, the one under way),
 *   written before and after every step, so a run killed anywhere resumes at the step it was in.
 * - `tenkai-system/upgrade-verified`: one key per target minor this environment passed with a
 *   green verification (`1.36: {"version":"v1.36.3","verifiedAt":...}`). The environment that this
 *   one promotes to reads it through this environment's kubeconfig context before it may start the
 *   same target (promotion.ts).
 */
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { mergePatch } from "../rotation/cluster.js";
import { TenkaiError } from "../shared/errors.js";
import { kubeMessage, kubeStatus } from "../shared/kube-errors.js";
import type { PromotionRecord, UpgradeRunState } from "./run-types.js";

export const DEFAULT_UPGRADE_NAMESPACE = "tenkai-system";
export const RUN_STATE_NAME = "upgrade-run";
export const PROMOTION_NAME = "upgrade-verified";
const KEY = "state.json";

/** A ConfigMap in `tenkai-system` written with merge patches (created with its namespace if missing). */
class ConfigMapRecord {
  constructor(
    private readonly core: CoreV1Api,
    readonly namespace: string,
    readonly name: string,
  ) {}

  async read(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (kubeStatus(err) === 404) return undefined;
      throw unavailable(err, `reading ${this.namespace}/${this.name}`);
    }
  }

  async patch(data: Record<string, string>): Promise<void> {
    try {
      await this.core.patchNamespacedConfigMap(
        { name: this.name, namespace: this.namespace, body: { data } },
        mergePatch,
      );
      return;
    } catch (err) {
      if (kubeStatus(err) !== 404) throw unavailable(err, `writing ${this.namespace}/${this.name}`);
    }
    try {
      await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    } catch (err) {
      if (kubeStatus(err) !== 409) throw unavailable(err, `creating namespace ${this.namespace}`);
    }
    try {
      await this.core.createNamespacedConfigMap({
        namespace: this.namespace,
        body: {
          metadata: {
            name: this.name,
            namespace: this.namespace,
            labels: { "app.kubernetes.io/managed-by": "tenkai" },
          },
          data,
        },
      });
    } catch (err) {
      if (kubeStatus(err) === 409) return this.patch(data);
      throw unavailable(err, `creating ${this.namespace}/${this.name}`);
    }
  }
}

export class RunStateStore {
  private readonly cm: ConfigMapRecord;
  constructor(core: CoreV1Api, namespace: string = DEFAULT_UPGRADE_NAMESPACE) {
    this.cm = new ConfigMapRecord(core, namespace, RUN_STATE_NAME);
  }

  async read(): Promise<UpgradeRunState | undefined> {
    const cm = await this.cm.read();
    const raw = cm?.data?.[KEY];
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as UpgradeRunState;
    } catch (err) {
      throw new TenkaiError(
        "UPGRADE_STATE_CORRUPT",
        `the upgrade record ${this.cm.namespace}/${this.cm.name} is not valid JSON`,
        `fix or delete it by hand (kubectl -n ${this.cm.namespace} edit configmap ${this.cm.name}), then run again`,
        { cause: err },
      );
    }
  }

  write(state: UpgradeRunState): Promise<void> {
    return this.cm.patch({
      [KEY]: JSON.stringify(state, null, 2),
      target: state.target,
      phase: state.phase,
      current: state.current ?? "",
    });
  }
}

/** This environment's own promotion records (the ConfigMap in its cluster). */
export class PromotionStore {
  private readonly cm: ConfigMapRecord;
  constructor(core: CoreV1Api, namespace: string = DEFAULT_UPGRADE_NAMESPACE) {
    this.cm = new ConfigMapRecord(core, namespace, PROMOTION_NAME);
  }

  get where(): string {
    return `ConfigMap ${this.cm.namespace}/${this.cm.name}`;
  }

  async read(target: string): Promise<PromotionRecord | undefined> {
    const raw = (await this.cm.read())?.data?.[target];
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as PromotionRecord;
    } catch {
      return undefined;
    }
  }

  write(record: PromotionRecord): Promise<void> {
    return this.cm.patch({ [record.target]: JSON.stringify(record) });
  }
}

function unavailable(err: unknown, doing: string): TenkaiError {
  return new TenkaiError(
    "UPGRADE_STATE_UNAVAILABLE",
    `${doing}: ${kubeMessage(err)}`,
    "check that the kubeconfig context reaches the cluster and may read and write ConfigMaps in tenkai-system",
    { cause: err },
  );
}
