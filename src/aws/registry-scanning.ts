/**
 * Enhanced scanning (Amazon Inspector) for the platform's ECR repositories without overwriting
 * the account's other scanning rules.
 *
 * The registry scanning configuration is one document per account and region, and
 * PutRegistryScanningConfiguration replaces all of it (ECR API reference); so does CloudFormation's
 * AWS::ECR::RegistryScanningConfiguration, which is why the cluster stack does not declare one.
 * `tenkai deploy` reads the current configuration, adds the filter `<platform>/*` to its
 * CONTINUOUS_SCAN rule (creating the rule if there is none), keeps every other rule and filter as
 * it was, and writes it back only when something changed (read-merge-write, as data first:
 * `mergeRegistryScanning` is pure). Two deploys racing on the same account could still lose one
 * write: ECR has no conditional put; the next deploy puts the filter back.
 *
 * The scan type is registry-wide: switching BASIC to ENHANCED moves the account's other
 * repositories with rules to Inspector as well (billed per image). The merge reports that as a
 * warning naming the rules it affects.
 */
import {
  type ECRClient,
  GetRegistryScanningConfigurationCommand,
  PutRegistryScanningConfigurationCommand,
  type RegistryScanningRule,
} from "@aws-sdk/client-ecr";
import { type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";

export interface RegistryScanning {
  readonly scanType: string;
  readonly rules: readonly RegistryScanningRule[];
}

export interface RegistryScanningMerge {
  readonly next: RegistryScanning;
  readonly changed: boolean;
  /** Rules of other repositories that a BASIC → ENHANCED switch moves to Inspector. */
  readonly switchedRules: readonly string[];
}

/** The platform's repositories: `<platform>/<tenant>/<image>`. */
export function platformRepositoryFilter(platform: Pick<Platform, "metadata">): string {
  return `${platform.metadata.name}/*`;
}

export function mergeRegistryScanning(current: RegistryScanning, filter: string): RegistryScanningMerge {
  const rules = current.rules.map((r) => ({ ...r, repositoryFilters: [...(r.repositoryFilters ?? [])] }));
  const has = (r: RegistryScanningRule) => r.repositoryFilters?.some((f) => f.filter === filter) ?? false;
  let continuous = rules.find((r) => r.scanFrequency === "CONTINUOUS_SCAN");
  const alreadyScanned = continuous ? has(continuous) : false;
  if (!continuous) {
    continuous = { scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [] };
    rules.push(continuous);
  }
  if (!alreadyScanned) continuous.repositoryFilters?.push({ filter, filterType: "WILDCARD" });
  const switching = current.scanType !== "ENHANCED";
  const switchedRules = switching
    ? current.rules.flatMap((r) =>
        (r.repositoryFilters ?? [])
          .filter((f) => f.filter !== filter)
          .map((f) => `${r.scanFrequency} ${f.filter}`),
      )
    : [];
  return {
    next: { scanType: "ENHANCED", rules },
    changed: switching || !alreadyScanned,
    switchedRules,
  };
}

export type RegistryScanningEvent = TenkaiEvent<
  "aws.registry.scanning",
  { readonly changed: boolean; readonly switchedRules: readonly string[] }
>;

/** Read-merge-write of the registry scanning configuration (only when enhancedScanning is on). */
export async function ensureEnhancedScanning(
  ecr: ECRClient,
  platform: Platform,
  sink?: EventSink<RegistryScanningEvent>,
): Promise<RegistryScanningMerge | undefined> {
  if (!platform.spec.registry.enhancedScanning) return undefined;
  const out = await ecr.send(new GetRegistryScanningConfigurationCommand({}));
  const current: RegistryScanning = {
    scanType: out.scanningConfiguration?.scanType ?? "BASIC",
    rules: out.scanningConfiguration?.rules ?? [],
  };
  const filter = platformRepositoryFilter(platform);
  const merge = mergeRegistryScanning(current, filter);
  if (merge.changed) {
    await ecr.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: "ENHANCED",
        rules: [...merge.next.rules],
      }),
    );
  }
  emitter(sink)(
    merge.switchedRules.length > 0 ? "warn" : "info",
    "aws.registry.scanning",
    merge.changed
      ? `registry scanning: Inspector scans ${filter} continuously; ${current.rules.length} existing rule(s) kept${
          merge.switchedRules.length > 0
            ? `; warning: the registry switched from ${current.scanType} to ENHANCED, so these rules now scan with Inspector too: ${merge.switchedRules.join(", ")}`
            : ""
        }`
      : `registry scanning: ${filter} already scanned continuously by Inspector`,
    { changed: merge.changed, switchedRules: merge.switchedRules },
  );
  return merge;
}
