import type { V1LabelSelector } from "@kubernetes/client-node";

/**
 * Kubernetes label selector semantics (apimachinery `LabelSelectorAsSelector`): every matchLabels
 * pair and every matchExpression must hold; an empty selector matches everything. What a missing
 * selector means differs by API (a PodDisruptionBudget's selects nothing, a NetworkPolicy peer's
 * everything), so callers decide that before calling.
 */
export function labelSelectorMatches(
  selector: V1LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (has && value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
