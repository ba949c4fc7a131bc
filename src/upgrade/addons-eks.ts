/**
 * The add-on table from EKS itself, when AWS credentials exist: DescribeAddonVersions per add-on
 * and minor gives the versions EKS offers for that Kubernetes version and which is its default
 * (compatibilities[].defaultVersion). Only `eks-addon` entries are asked for; charts keep the
 * table's versions. Failures (no credentials, throttling) are the caller's to report: it falls
 * back to the dated table.
 */
import {
  DescribeAddonVersionsCommand,
  type DescribeAddonVersionsCommandOutput,
  type EKSClient,
} from "@aws-sdk/client-eks";
import { TenkaiError } from "../shared/errors.js";
import type { AddonTable } from "./addons.js";

/** The dated table with every EKS add-on's version per minor replaced by EKS's default for it. */
export async function eksAddonTable(
  client: EKSClient,
  base: AddonTable,
  minors: readonly string[],
  now: Date = new Date(),
): Promise<AddonTable> {
  const addons: Record<string, AddonTable["addons"][string]> = { ...base.addons };
  for (const [name, entry] of Object.entries(base.addons)) {
    if (entry.kind !== "eks-addon") continue;
    const versions: Record<string, string> = { ...entry.versions };
    for (const minor of minors) {
      let out: DescribeAddonVersionsCommandOutput;
      try {
        out = await client.send(
          new DescribeAddonVersionsCommand({ addonName: name, kubernetesVersion: minor }),
        );
      } catch (cause) {
        throw new TenkaiError(
          "UPGRADE_EKS_ADDONS_UNAVAILABLE",
          `EKS DescribeAddonVersions for ${name} on ${minor} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          "sign in to AWS (or pass --profile), or plan from the dated table without --eks-addons",
          { cause },
        );
      }
      const list = out.addons?.[0]?.addonVersions ?? [];
      const compatible = list.filter((v) =>
        (v.compatibilities ?? []).some((c) => c.clusterVersion === minor),
      );
      const pick =
        compatible.find((v) =>
          v.compatibilities?.some((c) => c.clusterVersion === minor && c.defaultVersion),
        ) ?? compatible[0];
      if (pick?.addonVersion) versions[minor] = pick.addonVersion;
      else delete versions[minor];
    }
    addons[name] = { ...entry, versions };
  }
  return {
    ...base,
    asOf: now.toISOString().slice(0, 10),
    source: `EKS DescribeAddonVersions (eks-addon entries), ${base.source} (charts)`,
    addons,
  };
}
