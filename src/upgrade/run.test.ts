/** The run's pure decisions: step ids from the plan, and when a kubelet counts as on the target. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { builtRelease, releaseOf } from "./control-plane-local.js";
import { kubeletOn, toRunSteps } from "./run.js";

describe("upgrade run decisions", () => {
  it("names each step by order, kind, minor and its group or add-on, so a resumed run finds it", () => {
    const steps = toRunSteps([
      {
        order: 1,
        kind: "addon-before",
        minor: "1.36",
        title: "a",
        gate: "g",
        addon: { name: "lbc", kind: "chart", to: "3.5.0" },
      },
      { order: 2, kind: "control-plane", minor: "1.36", title: "cp", gate: "g" },
      { order: 3, kind: "rotate-node-group", minor: "1.36", title: "r", gate: "g", group: "general" },
      { order: 4, kind: "verify", minor: "1.36", title: "v", gate: "g" },
    ]);
    assert.deepEqual(
      steps.map((s) => s.id),
      [
        "1-addon-before-1.36-lbc",
        "2-control-plane-1.36",
        "3-rotate-node-group-1.36-general",
        "4-verify-1.36",
      ],
    );
    assert.equal(steps[2]?.group, "general");
    assert.deepEqual(steps[0]?.addon, { name: "lbc", kind: "chart", to: "3.5.0" });
  });

  it("a kubelet is on a release when it is exactly that release, on a minor when its minor matches", () => {
    assert.equal(kubeletOn("v1.36.3", "1.36.3"), true);
    assert.equal(kubeletOn("v1.36.0", "1.36.3"), false);
    assert.equal(kubeletOn("v1.36.2-eks-1234", "1.36"), true);
    assert.equal(kubeletOn("v1.35.4", "1.36"), false);
    assert.equal(kubeletOn(undefined, "1.36"), false);
    assert.equal(releaseOf("v1.36.3-eks-1"), "1.36.3");
  });

  it("the local release of a minor is the newest built with its node binaries", () => {
    const cache = mkdtempSync(join(tmpdir(), "tenkai-cache-"));
    const built = (d: string) => {
      mkdirSync(join(cache, "bin", d), { recursive: true });
      writeFileSync(join(cache, "bin", d, ".complete"), "");
    };
    assert.equal(builtRelease("1.36", cache), undefined);
    built("k8s-v1.36.3");
    assert.equal(builtRelease("1.36", cache), undefined, "no node binaries of 1.36.3 yet");
    built("k8s-node-v1.36.3");
    built("k8s-v1.36.10");
    built("k8s-node-v1.36.10");
    built("k8s-v1.37.0");
    mkdirSync(join(cache, "bin", "k8s-v1.36.11.tmp.1"), { recursive: true });
    assert.equal(builtRelease("1.36", cache), "v1.36.10");
  });
});
