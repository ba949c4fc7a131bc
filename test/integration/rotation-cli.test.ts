/**
 * `tenkai nodes rotate` and `tenkai nodes status` as a user runs them (tsx src/cli/run.ts) on the
 * local control plane: NDJSON events on stdout with --output json, the final result, and flag
 * errors with their code and exit status.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";
import { tenkai } from "../support/local-platform.js";
import {
  buildFixture,
  deploymentsNotReady,
  type FixtureSpec,
  mixedWorkloads,
} from "../support/rotation-fixture.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The example platform, on the local target, with its node group pinned to this test's nodes. */
function platformFile(): string {
  const text = readFileSync(join(root, "examples/platform.yaml"), "utf8")
    .replace(/^spec:\n/m, "spec:\n  target: local\n")
    .replace(
      // the general group, one line or several, with one level of nested braces (its `local: { … }`)
      /- \{\s*name: general,(?:[^{}]|\{[^}]*\})*\}/,
      "- { name: general, instanceTypes: [m6i.xlarge], min: 3, max: 12, desired: 3, activeSlot: blue, labels: { tenkai.dev/fixture: general } }",
    );
  assert.match(text, /tenkai\.dev\/fixture: general/, "the example's node group line was found");
  const dir = mkdtempSync(join(tmpdir(), "tenkai-cli-"));
  const file = join(dir, "platform.yaml");
  writeFileSync(file, text);
  return file;
}

let cluster: TestCluster | undefined;
before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  await cluster?.stop();
});

describe("tenkai nodes (CLI)", () => {
  it("rejects a bad --timeout with its code and exit status 2", async () => {
    const r = await tenkai([
      "nodes",
      "rotate",
      "general",
      "--file",
      platformFile(),
      "--timeout",
      "soon",
      "--kubeconfig",
      "/nonexistent",
      "-o",
      "json",
    ]);
    assert.equal(r.code, 2);
    assert.equal(JSON.parse(r.stdout).error.code, "CLI_BAD_DURATION");
  });

  it("rotate --output json streams NDJSON events and ends with the result; status shows it done", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const spec: FixtureSpec = {
      group: "general",
      nodes: 3,
      zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
      instanceType: "m6i.xlarge",
      workloads: mixedWorkloads("cli", 5, 12, 1),
      graceSeconds: 1,
    };
    await buildFixture(cluster.kubeConfig, new KwokNodeProvider({ kubeConfig: cluster.kubeConfig }), spec);
    const file = platformFile();
    const dry = await tenkai([
      "nodes",
      "rotate",
      "general",
      "--file",
      file,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--dry-run",
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stderr,
      /plan general: general-blue \(3 node\(s\) in ap-northeast-1a, ap-northeast-1c, ap-northeast-1d\) -> general-green/,
    );
    assert.match(
      dry.stdout,
      /dry run: general would move 12 pod\(s\), surge 1 Deployment\(s\); nothing changed/,
    );

    const r = await tenkai([
      "nodes",
      "rotate",
      "general",
      "--file",
      file,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "-o",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr || r.stdout.slice(-500));
    // NDJSON events, one per line, then the pretty-printed result document.
    const lines = r.stdout.split("\n");
    const events = lines
      .filter((l) => l.startsWith('{"time"'))
      .map((l) => JSON.parse(l) as { time: string; level: string; code: string; data: { node?: string } });
    const codes = new Set(events.map((e) => e.code));
    for (const code of [
      "rotation.plan",
      "rotation.green.ready",
      "rotation.node.cordoned",
      "rotation.node.draining",
      "rotation.pod.evicted",
      "rotation.surge.started",
      "rotation.node.drained",
      "rotation.slot.deleting",
      "rotation.done",
    ]) {
      assert.ok(codes.has(code), `event ${code} streamed`);
    }
    assert.ok(
      events.every((e) => !Number.isNaN(Date.parse(e.time)) && e.level),
      "every event has time and level",
    );
    assert.equal(events.filter((e) => e.code === "rotation.node.drained").length, 3);
    const result = JSON.parse(r.stdout.slice(r.stdout.indexOf("\n{\n") + 1)) as {
      activeSlot: string;
      phase: string;
    };
    assert.equal(result.activeSlot, "green");
    assert.equal(result.phase, "done");
    assert.deepEqual(await deploymentsNotReady(cluster.kubeConfig, spec.workloads), []);

    const st = await tenkai(["nodes", "status", "general", "--kubeconfig", cluster.kubeconfigPath]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /general: done, active slot green \(general-blue -> general-green\)/);
    assert.match(st.stdout, /general-green: 3 node\(s\), 3 Ready/);
    assert.match(st.stdout, /drained 3\/3/);
  });
});
