/**
 * Which checks `tenkai verify isolation` runs, and the network checks as the command runs them:
 * with the probe image of the local cluster, skipped (with the reason) on a cluster without real
 * nodes unless they were asked for alone.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { localImages } from "../../providers/local/images.js";
import { isTenkaiError, TenkaiError } from "../../shared/errors.js";
import type { EventSink } from "../../shared/events.js";
import type { Platform } from "../../spec/schema.js";
import { type NetworkEvent, type NetworkReport, verifyNetworkIsolation } from "./network.js";

export interface Checks {
  readonly access: boolean;
  readonly network: boolean;
}

/** `access`, `network` or `access,network`. @throws TenkaiError `CLI_BAD_CHECKS`. */
export function parseChecks(value: string): Checks {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s);
  const bad = items.filter((i) => i !== "access" && i !== "network");
  if (bad.length > 0 || items.length === 0)
    throw new TenkaiError(
      "CLI_BAD_CHECKS",
      `--checks takes access, network or both, got "${value}"`,
      "pass --checks access,network",
    );
  return { access: items.includes("access"), network: items.includes("network") };
}

export interface NetworkOutcome {
  readonly ok: boolean;
  /** Why the network probes did not run (no real nodes). */
  readonly skipped?: string;
  readonly report?: NetworkReport;
}

export async function networkChecks(o: {
  readonly platform: Platform;
  readonly kubeConfig: KubeConfig;
  /** The user asked for the network checks alone: no real nodes is then an error, not a skip. */
  readonly required: boolean;
  readonly sink?: EventSink<NetworkEvent>;
}): Promise<NetworkOutcome> {
  try {
    const report = await verifyNetworkIsolation({
      platform: o.platform,
      kubeConfig: o.kubeConfig,
      probeImage: localImages().probe,
      ...(o.sink ? { sink: o.sink } : {}),
    });
    return { ok: report.ok, report };
  } catch (err) {
    if (!o.required && isTenkaiError(err, "VERIFY_NO_REAL_NODES"))
      return { ok: true, skipped: `network probes skipped: ${err.message}` };
    throw err;
  }
}
