/**
 * Upstream Helm charts as tenkai ships them: rendered verbatim by scripts/render-charts.sh into
 * `data/charts/<chart>/render.yaml` (provenance beside it), with `${NAME}` placeholders where
 * tenkai's values go. Here the placeholders are filled per platform; nothing else is changed but
 * tenkai's ownership labels.
 */
import { parseAllDocuments } from "yaml";
import { chartRender } from "../../shared/data.js";
import { TenkaiError } from "../../shared/errors.js";
import { baseLabels } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";

export function chartObjects(
  platform: Platform,
  chart: string,
  values: Readonly<Record<string, string>>,
): KubeObject[] {
  const missing = new Set<string>();
  const text = chartRender(chart).replace(/\$\{([A-Z_]+)\}/g, (_m, k: string) => {
    const v = values[k];
    if (v === undefined) missing.add(k);
    return v ?? "";
  });
  if (missing.size > 0) {
    throw new TenkaiError(
      "KUBE_CHART_VALUE_MISSING",
      `chart ${chart} needs value(s) ${[...missing].join(", ")} that tenkai did not give`,
      `data/charts/${chart}/values.yaml uses a placeholder the renderer does not fill: add it in src/kube/render/charts.ts's caller or re-render the chart`,
    );
  }
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object" && "kind" in o)
    .map((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...baseLabels(platform) } },
    }));
}
