/**
 * `tenkai/upgrade`: plan a Kubernetes version upgrade — removed and deprecated APIs (live objects
 * with their last-applied annotation and managed fields, Helm releases, the platform's manifests,
 * files), version skew, add-ons, what would block the node rotations, EKS caveats — and the
 * ordered steps, one control-plane minor at a time. Reads only; emits events, never prints.
 */
export { type AddonTable, addonTable, decideAddons } from "./addons.js";
export { liveObjectFindings, manifestFindings } from "./api-findings.js";
export { type ApiRule, ApiRuleIndex, apiRuleTable } from "./api-rules.js";
export { decideEksCaveats } from "./eks-caveats.js";
export { decodeHelmRelease, encodeHelmRelease } from "./helm.js";
export { planUpgrade, type UpgradePlanDeps, type UpgradePlanOptions } from "./plan.js";
export { formatPlanTable, formatPlaybook, PLAYBOOK_MARKER } from "./report.js";
export { decideRotationBlockers } from "./rotation-blockers.js";
export { decideSkew } from "./skew.js";
export type { Finding, PlanStep, Severity, UpgradeEvent, UpgradePlan } from "./types.js";
