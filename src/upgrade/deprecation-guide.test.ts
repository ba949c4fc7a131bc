/**
 * The removed-API table against the Kubernetes Deprecated API Migration Guide: for every minor the
 * table covers (1.16 to 1.37), the API versions it says stop being served there are exactly the
 * guide's list for that release, plus only entries that name their own source.
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
