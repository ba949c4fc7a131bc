/**
 * The removed-API table against the Kubernetes Deprecated API Migration Guide: for every minor the
 * table covers (1.16 to 1.37), the API versions it says stop being served there are exactly the
 * guide's list for that release, plus only entries that name their own source; each of the guide's
 * entries has the replacement the guide names, and following replacements ends on a version still
 * served on the table's last minor.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ApiRuleIndex, apiRuleTable, apiVersionOf, ruleStatus } from "./api-rules.js";
import { parseMinor, stepsBetween } from "./versions.js";

interface Guide {
  source: string;
  retrieved: string;
  latestReleaseListed: string;
  removed: Record<string, string[]>;
  /** Per minor, per removed entry: the API version(s) the guide says to migrate to (null: none). */
  migrateTo: Record<string, Record<string, (string | null)[]>>;
}

const guide = JSON.parse(
  readFileSync(new URL("./testdata/deprecation-guide.json", import.meta.url), "utf8"),
) as Guide;
const table = apiRuleTable();

describe("data/deprecated-apis.json against the Deprecated API Migration Guide", () => {
  const from = parseMinor(table.minors.from)!;
  const to = parseMinor(table.minors.to)!;
  const minors = [from, ...stepsBetween(from, to)].map((m) => `${m.major}.${m.minor}`);

  it("covers at least 1.16 through 1.37 and is dated with its source", () => {
    assert.ok(minors.includes("1.16") && minors.includes("1.37"), minors.join(","));
    assert.match(table.asOf, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(table.source, /kubernetes\.io\/docs\/reference\/using-api\/deprecation-guide/);
  });

  for (const minor of minors) {
    it(`removals in ${minor} match the guide`, () => {
      const ours = table.rules.filter((r) => r.removedIn === minor);
      const listed = new Set(guide.removed[minor] ?? []);
      const oursKeys = new Set(ours.map((r) => `${apiVersionOf(r)} ${r.kind}`));
      for (const g of listed)
        assert.ok(oursKeys.has(g), `the guide removes ${g} in ${minor}; the table does not`);
      for (const r of ours) {
        const key = `${apiVersionOf(r)} ${r.kind}`;
        if (!listed.has(key))
          assert.ok(
            r.source,
            `${key} is removed in ${minor} by the table but not by the guide, and names no source`,
          );
      }
    });
  }

  it("the guide's releases all lie within the table's minors", () => {
    for (const minor of Object.keys(guide.removed)) assert.ok(minors.includes(minor), minor);
    assert.ok(minors.includes(guide.latestReleaseListed));
  });

  for (const minor of minors) {
    const entries = Object.entries(guide.migrateTo[minor] ?? {});
    if (entries.length === 0) continue;
    it(`replacements of the ${minor} removals are the ones the guide names, and lead to a served version`, () => {
      const idx = new ApiRuleIndex(table.rules);
      const last = parseMinor(table.minors.to)!;
      assert.deepEqual(
        entries.map(([k]) => k).sort(),
        [...(guide.removed[minor] ?? [])].sort(),
        "migrateTo and removed list the same entries",
      );
      for (const [key, named] of entries) {
        const [apiVersion, kind] = key.split(" ") as [string, string];
        const rule = idx.find(apiVersion, kind);
        assert.ok(rule, `${key} is in the table`);
        assert.ok(
          named.includes(rule.replacement),
          `${key}: the table moves to ${rule.replacement}; the guide names ${named.join(" or ")}`,
        );
        const end = idx.replacementOn(rule, last);
        if (rule.replacement === null) {
          assert.equal(end, undefined, `${key} has no replacement`);
          continue;
        }
        assert.ok(end, `${key}: a replacement on ${table.minors.to}`);
        const endRule = idx.find(end, kind);
        const removed = parseMinor(endRule?.removedIn ?? undefined);
        assert.ok(
          !removed || removed.minor > last.minor,
          `${key}: following replacements ends on ${end}, which the table removes in ${endRule?.removedIn}`,
        );
      }
    });
  }

  it("every rule is well formed: deprecated before removed, a replacement or a note saying there is none", () => {
    for (const r of table.rules) {
      const key = `${apiVersionOf(r)} ${r.kind}`;
      const dep = parseMinor(r.deprecatedIn);
      assert.ok(dep, `${key}: deprecatedIn`);
      if (r.removedIn !== null) {
        const rem = parseMinor(r.removedIn)!;
        assert.ok(rem.minor > dep.minor, `${key}: removed ${r.removedIn} after deprecated ${r.deprecatedIn}`);
      }
      if (r.replacement === null) assert.ok(r.notes, `${key}: no replacement and no note saying what to do`);
      assert.match(r.resource, /^[a-z]+$/, `${key}: plural resource`);
    }
  });

  it("follows a replacement that was itself removed (flowcontrol v1beta1 → v1 on 1.32)", () => {
    const idx = new ApiRuleIndex(table.rules);
    const v1beta1 = idx.find("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema")!;
    assert.equal(idx.replacementOn(v1beta1, parseMinor("1.26")!), "flowcontrol.apiserver.k8s.io/v1beta2");
    assert.equal(idx.replacementOn(v1beta1, parseMinor("1.32")!), "flowcontrol.apiserver.k8s.io/v1");
    const psp = idx.find("extensions/v1beta1", "PodSecurityPolicy")!;
    assert.equal(idx.replacementOn(psp, parseMinor("1.30")!), undefined, "PSP ends with no replacement");
  });

  it("says what a rule means between two versions", () => {
    const idx = new ApiRuleIndex(table.rules);
    const v = (s: string) => parseMinor(s)!;
    const fs = idx.find("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema")!;
    assert.equal(ruleStatus(fs, v("1.31"), v("1.32")), "removed-by-target");
    assert.equal(ruleStatus(fs, v("1.32"), v("1.33")), "removed-before");
    assert.equal(ruleStatus(fs, v("1.29"), v("1.30")), "deprecated");
    assert.equal(ruleStatus(idx.find("v1", "Endpoints")!, v("1.35"), v("1.36")), "deprecated");
    assert.equal(ruleStatus(idx.find("v1", "Endpoints")!, v("1.31"), v("1.32")), "fine");
  });
});
