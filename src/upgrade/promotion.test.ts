/** What counts as a predecessor's pass of a target (the entry in its `upgrade-verified` ConfigMap). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { recordProblem } from "./promotion.js";

const good = {
  environment: "staging",
  target: "1.36",
  version: "v1.36.3",
  verifiedAt: "2026-12-02T04:00:00.000Z",
  summary: "control plane v1.36.3; 1 node(s) Ready on 1.36",
};
const problem = (rec: unknown) => recordProblem(JSON.stringify(rec), "staging", "1.36");

describe("recordProblem", () => {
  it("accepts the entry a green run writes", () => {
    assert.equal(problem(good), undefined);
  });

  it("names what makes an entry not count", () => {
    assert.match(problem({ ...good, target: "1.35" }) ?? "", /names target 1\.35, not 1\.36/);
    assert.match(problem({ ...good, environment: "qa" }) ?? "", /written by qa, not staging/);
    assert.match(problem({ ...good, version: "v1.35.4" }) ?? "", /v1\.35\.4 is not on 1\.36/);
    assert.match(problem({ ...good, version: undefined }) ?? "", /undefined is not on 1\.36/);
    assert.match(problem({ ...good, verifiedAt: "yesterday" }) ?? "", /no time of verification/);
    assert.match(recordProblem("passed", "staging", "1.36") ?? "", /not valid JSON/);
    assert.match(recordProblem("null", "staging", "1.36") ?? "", /not a record/);
  });
});
