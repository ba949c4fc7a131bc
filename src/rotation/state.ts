/**
 * Where a rotation stands, recorded in the cluster (ConfigMap `rotation-<group>` in
 * `tenkai-system`) after every step, so a run killed at any point resumes where it stopped. The
 * record of a finished rotation also says which slot is active now.
 */
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { type Clock, systemClock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import { kubeError, kubeMessage, kubeStatus } from "../shared/kube-errors.js";
import { retry } from "../shared/retry.js";
import { mergePatch } from "./cluster.js";
import type { RotationState } from "./types.js";

export const DEFAULT_STATE_NAMESPACE = "tenkai-system";
/** Retries of a record write that got no answer or a 429/5xx: 200 ms doubling to 5 s, six tries. */
const STATE_BACKOFF = { baseMs: 200, capMs: 5_000 } as const;
const KEY = "state.json";
export const STATE_LABEL = "tenkai.dev/rotation";

export function stateName(group: string): string {
  return `rotation-${group}`;
}

export class StateStore {
  constructor(
    private readonly core: CoreV1Api,
    readonly namespace: string = DEFAULT_STATE_NAMESPACE,
    private readonly clock: Clock = systemClock,
  ) {}

  async read(group: string): Promise<RotationState | undefined> {
    let cm: V1ConfigMap;
    try {
      cm = await this.core.readNamespacedConfigMap({ name: stateName(group), namespace: this.namespace });
    } catch (err) {
      if (kubeStatus(err) === 404) return undefined;
      throw stateError(err, `reading ${this.namespace}/${stateName(group)}`);
    }
    return parse(cm, group);
  }

  async list(): Promise<RotationState[]> {
    try {
      const list = await this.core.listNamespacedConfigMap({
        namespace: this.namespace,
        labelSelector: STATE_LABEL,
      });
      return list.items.flatMap((cm) => {
        const s = parse(cm, cm.metadata?.labels?.[STATE_LABEL] ?? "");
        return s ? [s] : [];
      });
    } catch (err) {
      if (kubeStatus(err) === 404) return [];
      throw stateError(err, `listing rotations in ${this.namespace}`);
    }
  }

  async write(state: RotationState): Promise<void> {
    const name = stateName(state.group);
    const data = { [KEY]: JSON.stringify(state, null, 2), phase: state.phase, activeSlot: state.activeSlot };
    try {
      // A record written after every step: a dropped connection on a busy API server is waited
      // out (the write is idempotent), not the end of the rotation.
      await retry(
        () =>
          this.core.patchNamespacedConfigMap({ name, namespace: this.namespace, body: { data } }, mergePatch),
        { ...STATE_BACKOFF, clock: this.clock, attempts: 6, retryable: (err) => kubeError(err).transient },
      );
      return;
    } catch (err) {
      if (kubeStatus(err) !== 404) throw stateError(err, `writing ${this.namespace}/${name}`);
    }
    await this.ensureNamespace();
    try {
      await this.core.createNamespacedConfigMap({
        namespace: this.namespace,
        body: { metadata: { name, namespace: this.namespace, labels: { [STATE_LABEL]: state.group } }, data },
      });
    } catch (err) {
      if (kubeStatus(err) === 409) return this.write(state);
      throw stateError(err, `creating ${this.namespace}/${name}`);
    }
  }

  private async ensureNamespace(): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    } catch (err) {
      if (kubeStatus(err) !== 409) throw stateError(err, `creating namespace ${this.namespace}`);
    }
  }
}

function parse(cm: V1ConfigMap, group: string): RotationState | undefined {
  const raw = cm.data?.[KEY];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as RotationState;
  } catch (err) {
    throw new TenkaiError(
      "ROTATION_STATE_CORRUPT",
      `the rotation record ${cm.metadata?.namespace}/${cm.metadata?.name} for node group ${group} is not valid JSON`,
      "fix or delete the ConfigMap by hand (kubectl -n tenkai-system edit configmap rotation-<group>), then run again",
      { cause: err },
    );
  }
}

function stateError(err: unknown, doing: string): TenkaiError {
  return new TenkaiError(
    "ROTATION_STATE_UNAVAILABLE",
    `${doing}: ${kubeMessage(err)}`,
    "check that the kubeconfig context reaches the cluster and may read and write ConfigMaps in tenkai-system",
    { cause: err },
  );
}
