/**
 * The image gate: before `tenkai apply` or `tenkai deploy` changes anything, every image the spec
 * runs is looked up in ECR (image-scan.ts) and judged here, as data: each image gets a verdict
 * with a stable code, and the run stops if any image is refused, with one table of every image
 * (STYLE.md 5: gather every blocker before acting).
 *
 * Codes: IMAGE_NOT_FOUND (no such repository or tag), IMAGE_SCAN_INCOMPLETE (never scanned, scan
 * in progress, failed or unsupported), IMAGE_VULNERABLE (findings at or above
 * `registry.blockSeverity`). `--allow-image REPOSITORY:TAG` lets one image through whatever its
 * verdict, and the run says so. The platform's own images (Fluent Bit, the load balancer
 * controller) come from public registries pinned in the repo and are not gated.
 */

import { repositoryName } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { Platform } from "../spec/schema.js";

/** ECR severities, worst first (basic scanning uses the first five and UNDEFINED; Inspector adds UNTRIAGED). */
export const SEVERITIES = [
  "CRITICAL",
  "HIGH",
  "MEDIUM",
  "LOW",
  "INFORMATIONAL",
  "UNDEFINED",
  "UNTRIAGED",
] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One image the spec runs: a repository and tag, and the workloads that run it. */
export interface SpecImage {
  readonly tenant: string;
  readonly repository: string;
  readonly tag: string;
  readonly workloads: readonly string[];
}

/** Every distinct image of every tenant (repository:tag), in spec order. */
export function specImages(platform: Platform): SpecImage[] {
  const byRef = new Map<string, { tenant: string; repository: string; tag: string; workloads: string[] }>();
  for (const t of platform.spec.tenants) {
    for (const w of [...t.services, ...t.cronJobs]) {
      const repository = repositoryName(platform, t.name, w.image);
      const key = `${repository}:${w.tag}`;
      const entry = byRef.get(key) ?? { tenant: t.name, repository, tag: w.tag, workloads: [] };
      entry.workloads.push(w.name);
      byRef.set(key, entry);
    }
  }
  return [...byRef.values()];
}

export const imageRef = (i: { repository: string; tag: string }) => `${i.repository}:${i.tag}`;

/** One finding as the gate shows it (basic: CVE name; enhanced: vulnerability id and package). */
export interface ImageFinding {
  readonly id: string;
  readonly severity: Severity;
  readonly package?: string;
}

/** What ECR says about one image (image-scan.ts fills it from DescribeImages and DescribeImageScanFindings). */
export type ImageScan =
  | { readonly found: false; readonly reason: string }
  | {
      readonly found: true;
      /** ECR's scan status: COMPLETE and ACTIVE (enhanced, continuously monitored) are finished. */
      readonly status: string;
      readonly statusDescription?: string;
      readonly scanType?: "BASIC" | "ENHANCED";
      readonly counts: Readonly<Partial<Record<Severity, number>>>;
      /** Worst first. */
      readonly findings: readonly ImageFinding[];
    };

export type ImageVerdictCode = "OK" | "IMAGE_NOT_FOUND" | "IMAGE_SCAN_INCOMPLETE" | "IMAGE_VULNERABLE";

export interface ImageVerdict extends SpecImage {
  readonly code: ImageVerdictCode;
  /** Let through by `--allow-image` although its code is not OK. */
  readonly allowed: boolean;
  readonly counts: Readonly<Partial<Record<Severity, number>>>;
  /** The worst findings (at most three), worst first. */
  readonly worst: readonly ImageFinding[];
  readonly message: string;
}

export const FINISHED_SCAN_STATUSES = ["COMPLETE", "ACTIVE"] as const;

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Whether a finding of `severity` is at or above `block` (`NONE`: nothing blocks). */
export function blocks(severity: Severity, block: Platform["spec"]["registry"]["blockSeverity"]): boolean {
  if (block === "NONE") return false;
  return rank(severity) <= rank(block);
}

/** Judges one image. */
export function judgeImage(
  image: SpecImage,
  scan: ImageScan,
  block: Platform["spec"]["registry"]["blockSeverity"],
  allowed: boolean,
): ImageVerdict {
  const ref = imageRef(image);
  const base = { ...image, allowed: false, counts: {}, worst: [] as ImageFinding[] };
  let v: Omit<ImageVerdict, "allowed">;
  if (!scan.found) {
    v = { ...base, code: "IMAGE_NOT_FOUND", message: `${ref}: ${scan.reason}` };
  } else if (!(FINISHED_SCAN_STATUSES as readonly string[]).includes(scan.status)) {
    v = {
      ...base,
      code: "IMAGE_SCAN_INCOMPLETE",
      message: `${ref}: scan ${scan.status}${scan.statusDescription ? ` (${scan.statusDescription})` : ""}`,
    };
  } else {
    const over = SEVERITIES.filter((s) => (scan.counts[s] ?? 0) > 0 && blocks(s, block));
    const worst = scan.findings.slice(0, 3);
    v =
      over.length > 0
        ? {
            ...base,
            code: "IMAGE_VULNERABLE",
            counts: scan.counts,
            worst,
            message: `${ref}: ${over.map((s) => `${scan.counts[s]} ${s}`).join(", ")} (blockSeverity ${block})`,
          }
        : {
            ...base,
            code: "OK",
            counts: scan.counts,
            worst,
            message: `${ref}: scanned, nothing at or above ${block}`,
          };
  }
  return { ...v, allowed: allowed && v.code !== "OK" };
}

/** `--allow-image` values: `REPOSITORY:TAG`, the repository as in ECR or as in the spec (`image`). */
export function parseAllowImages(values: readonly string[], images: readonly SpecImage[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    const at = value.lastIndexOf(":");
    const repo = at > 0 ? value.slice(0, at) : "";
    const tag = at > 0 ? value.slice(at + 1) : "";
    const matches = images.filter(
      (i) => i.tag === tag && (i.repository === repo || i.repository.endsWith(`/${repo}`)),
    );
    if (!repo || !tag || matches.length === 0)
      throw new TenkaiError(
        "CLI_BAD_ALLOW_IMAGE",
        `--allow-image ${value} names no image the spec runs`,
        `pass REPOSITORY:TAG as the spec or ECR names it, e.g. --allow-image ${images[0] ? imageRef(images[0]) : "web/shop/api:1.0.0"}`,
      );
    for (const m of matches) out.add(imageRef(m));
  }
  return out;
}

export interface ImageGateResult {
  readonly blockSeverity: Platform["spec"]["registry"]["blockSeverity"];
  readonly images: readonly ImageVerdict[];
}

/** The code the whole run fails with: a missing image first, then an unfinished scan, then findings. */
export function gateErrorCode(
  verdicts: readonly ImageVerdict[],
): Exclude<ImageVerdictCode, "OK"> | undefined {
  const refused = verdicts.filter((v) => v.code !== "OK" && !v.allowed);
  for (const code of ["IMAGE_NOT_FOUND", "IMAGE_SCAN_INCOMPLETE", "IMAGE_VULNERABLE"] as const)
    if (refused.some((v) => v.code === code)) return code;
  return undefined;
}

const FIXES: Record<Exclude<ImageVerdictCode, "OK">, string> = {
  IMAGE_NOT_FOUND:
    "push the image with that tag to the tenant's ECR repository (or fix the tag in the spec), then run again",
  IMAGE_SCAN_INCOMPLETE:
    "wait for the scan to finish (aws ecr describe-image-scan-findings), or start one (aws ecr start-image-scan); --allow-image REPOSITORY:TAG lets one image through",
  IMAGE_VULNERABLE:
    "rebuild the image on patched packages and push a new tag, raise registry.blockSeverity, or pass --allow-image REPOSITORY:TAG to let this one through",
};

/** The table of image, verdict, severity counts and worst findings (for people and for errors). */
export function imageGateTable(verdicts: readonly ImageVerdict[]): string {
  const rows = verdicts.map((v) => [
    imageRef(v),
    v.allowed ? `ALLOWED (${v.code})` : v.code,
    ["CRITICAL", "HIGH", "MEDIUM", "LOW"].map((s) => `${v.counts[s as Severity] ?? 0}`).join("/"),
    v.worst.map((f) => `${f.id} ${f.severity}${f.package ? ` ${f.package}` : ""}`).join("; ") ||
      (v.code === "OK" ? "" : v.message.slice(imageRef(v).length + 2)),
  ]);
  const head = ["IMAGE", "VERDICT", "C/H/M/L", "WORST FINDINGS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Throws the gate's error (with the table) when any image is refused. */
export function enforceImageGate(result: ImageGateResult): void {
  const code = gateErrorCode(result.images);
  if (!code) return;
  const refused = result.images.filter((v) => v.code !== "OK" && !v.allowed);
  throw new TenkaiError(
    code,
    `the image gate refused ${refused.length} of ${result.images.length} images; nothing was changed\n${imageGateTable(result.images)}`,
    FIXES[code],
    { details: { images: result.images } },
  );
}

/** Worst first, then by id. */
export function sortFindings(findings: ImageFinding[]): ImageFinding[] {
  return findings.sort((a, b) => rank(a.severity) - rank(b.severity) || a.id.localeCompare(b.id));
}

export function asSeverity(value: string | undefined): Severity {
  return (SEVERITIES as readonly string[]).includes(value ?? "") ? (value as Severity) : "UNDEFINED";
}
