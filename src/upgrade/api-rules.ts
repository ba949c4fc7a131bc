/**
 * The removed and deprecated API table (data/deprecated-apis.json) and the questions the planner
 * asks it: which rules matter on the way from one minor to another, what a rule says about a
 * given target, and what to move to when a replacement was itself removed later (flowcontrol
 * v1beta1 → v1beta2 → v1).
 */
import { readData } from "../shared/data.js";
import { compareMinor, type Minor, parseMinor } from "./versions.js";

export interface ApiRule {
  /** API group, "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Plural resource name, e.g. `ingresses`. */
  readonly resource: string;
  readonly deprecatedIn: string;
  /** First minor that no longer serves this version; null when no removal is scheduled. */
  readonly removedIn: string | null;
  /** The apiVersion to move to; null when there is none (see notes). */
  readonly replacement: string | null;
  readonly replacementAvailableIn?: string;
  readonly notes?: string;
  /** Where this entry comes from when it is not the table's own source. */
  readonly source?: string;
}

export interface ApiRuleTable {
  readonly asOf: string;
  readonly source: string;
  /** The minors the table has been checked for. */
  readonly minors: { readonly from: string; readonly to: string };
  readonly rules: readonly ApiRule[];
}

export function apiRuleTable(): ApiRuleTable {
  return readData<ApiRuleTable>("deprecated-apis.json");
}

export function apiVersionOf(rule: Pick<ApiRule, "group" | "version">): string {
  return rule.group ? `${rule.group}/${rule.version}` : rule.version;
}

export function ruleKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

/** What a rule means for a cluster that will run `target`. */
export type RuleStatus =
  /** Not served any more by the current version already. */
  | "removed-before"
  /** Served now, not served once the target runs: must be migrated before the step that removes it. */
  | "removed-by-target"
  /** Still served on the target but deprecated there. */
  | "deprecated"
  /** Neither removed nor deprecated by the target. */
  | "fine";

export function ruleStatus(rule: ApiRule, current: Minor, target: Minor): RuleStatus {
  const removed = parseMinor(rule.removedIn ?? undefined);
  if (removed && compareMinor(removed, current) <= 0) return "removed-before";
  if (removed && compareMinor(removed, target) <= 0) return "removed-by-target";
  const deprecated = parseMinor(rule.deprecatedIn);
  if (deprecated && compareMinor(deprecated, target) <= 0) return "deprecated";
  return "fine";
}

/** Looks rules up by apiVersion and kind. */
export class ApiRuleIndex {
  private readonly byKey = new Map<string, ApiRule>();
  private readonly byKind = new Map<string, ApiRule[]>();

  constructor(readonly rules: readonly ApiRule[]) {
    for (const r of rules) {
      this.byKey.set(ruleKey(apiVersionOf(r), r.kind), r);
      const list = this.byKind.get(r.kind) ?? [];
      list.push(r);
      this.byKind.set(r.kind, list);
    }
  }

  find(apiVersion: string, kind: string): ApiRule | undefined {
    return this.byKey.get(ruleKey(apiVersion, kind));
  }

  /** Every kind some rule names. */
  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  forKind(kind: string): readonly ApiRule[] {
    return this.byKind.get(kind) ?? [];
  }

  /**
   * The apiVersion to move to on `target`: the rule's replacement, followed while that is itself
   * gone by the target. Undefined when the chain ends with no replacement (PodSecurityPolicy).
   */
  replacementOn(rule: ApiRule, target: Minor): string | undefined {
    let cur: ApiRule = rule;
    for (let i = 0; i < 10; i++) {
      if (!cur.replacement) return undefined;
      const next = this.find(cur.replacement, cur.kind);
      const removed = parseMinor(next?.removedIn ?? undefined);
      if (!next || !removed || compareMinor(removed, target) > 0) return cur.replacement;
      cur = next;
    }
    return cur.replacement ?? undefined;
  }
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}
