/**
 * `tenkai/kube`: the Kubernetes plane. `render/` turns the platform into objects (pure);
 * `api/` talks to the API server: client, discovery, server-side apply with an ApplySet, diff,
 * waits. Imports @kubernetes/client-node, so it is a subpath of its own.
 */
export {
  type ApplyOptions,
  type ApplyResult,
  applyObjects,
  applyPlatform,
  FIELD_MANAGER,
  type ObjectResult,
} from "./api/apply.js";
export type { ApplyEvent, ApplyOutcome, ApplySummary } from "./api/apply-events.js";
export { isKubeApiError, KubeApiError, KubeClient, type KubeClientOptions } from "./api/client.js";
export {
  type DiffOptions,
  diffKubernetesPlane,
  type KubernetesPlaneDiff,
  type ObjectDiff,
} from "./api/diff.js";
export { type KubeConfigOptions, loadKubeConfig } from "./api/kubeconfig.js";
export { allObjects, renderKubernetesPlane } from "./render/render.js";
