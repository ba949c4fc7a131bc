import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cycles, FLOORS, importEdges, place, violations } from "./floors.js";

const SRC = new URL("../../src", import.meta.url).pathname;
const edges = importEdges(SRC);

describe("floors (docs/architecture.md)", () => {
  it("finds the imports it checks", () => {
    assert.ok(edges.length > 300, `only ${edges.length} imports found: the scanner is broken`);
  });

  it("no import points up a floor or sideways into another module on the same floor", () => {
    const v = violations(edges);
    assert.deepEqual(
      v.map((x) => x.message),
      [],
    );
  });

  it("no import cycle between files", () => {
    assert.deepEqual(cycles(edges), []);
  });

  it("catches an upward import, a sideways import and a cycle (the check can fail)", () => {
    const bad = [
      { from: "shared/errors.ts", to: "spec/schema.ts", typeOnly: true },
      { from: "aws/synth.ts", to: "kube/render/render.ts", typeOnly: false },
      { from: "kube/render/a.ts", to: "kube/render/b.ts", typeOnly: false },
      { from: "kube/render/b.ts", to: "kube/render/a.ts", typeOnly: false },
    ];
    assert.deepEqual(
      violations(bad).map((x) => x.reason),
      ["upward", "sideways"],
    );
    assert.equal(cycles(bad).length, 1);
  });

  it("places every shipped module on a floor", () => {
    assert.equal(place("kube/api/apply.ts")?.module, "kube/api");
    assert.equal(place("kube/index.ts")?.floor, FLOORS.length - 1);
    assert.equal(place("shared/errors.ts")?.floor, 0);
  });
});
