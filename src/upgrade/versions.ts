/**
 * Kubernetes minor versions as the upgrade planner counts them: "1.35", compared numerically, and
 * the one-minor-per-step path the control plane must take (kube-apiserver supports upgrades of one
 * minor at a time: https://kubernetes.io/releases/version-skew-policy/#supported-component-upgrade-order).
 */
import { TenkaiError } from "../shared/errors.js";

export interface Minor {
  readonly major: number;
  readonly minor: number;
}

/** Parses "1.35", "v1.35.2", "v1.35.2-eks-1234" or "1.35+" to its minor; undefined when it is none. */
export function parseMinor(text: string | undefined): Minor | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec((text ?? "").trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** Like parseMinor, but bad input is an error naming the place it came from. */
export function requireMinor(text: string, where: string): Minor {
  const v = parseMinor(text);
  if (!v)
    throw new TenkaiError(
      "UPGRADE_BAD_VERSION",
      `${where}: "${text}" is not a Kubernetes version`,
      "give a minor version like 1.36",
    );
  return v;
}

export function formatMinor(v: Minor): string {
  return `${v.major}.${v.minor}`;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareMinor(a: Minor, b: Minor): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/** Minors after `from` up to and including `to` ("1.35" → "1.37" gives 1.36, 1.37). */
export function stepsBetween(from: Minor, to: Minor): Minor[] {
  const out: Minor[] = [];
  if (from.major !== to.major) return out;
  for (let m = from.minor + 1; m <= to.minor; m++) out.push({ major: from.major, minor: m });
  return out;
}

/** How many minors `b` is behind `a` (a - b), same major assumed (Kubernetes 1.x). */
export function minorsBehind(a: Minor, b: Minor): number {
  return (a.major - b.major) * 1000 + (a.minor - b.minor);
}
