/**
 * Issue 10, "CI and scripting": `tenkai diff --against` a previous plan shows which AWS resources
 * and Kubernetes objects change, offline; `--exit-code` gates CI; `-o json` is one document.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { diffPlannedObjects } from "../../src/kube/api/offline-diff.js";
import { EXAMPLE, tenkai } from "./support.js";

describe("tenkai diff --against a previous plan (no AWS, no cluster)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tenkai-diff-"));
  const base = join(dir, "base");
  const planned = await tenkai(["plan", EXAMPLE, "--out", base, "--no-cost", "-q"]);
  const changedSpec = join(dir, "changed.yaml");
  await writeFile(
    changedSpec,
    readFileSync(EXAMPLE, "utf8")
      .replace("    - name: orders\n", "    - name: billing\n    - name: orders\n")
      .replace('tag: "3.2.0"', 'tag: "3.3.0"'),
  );
  const badSpec = join(dir, "bad.yaml");
  await writeFile(badSpec, readFileSync(EXAMPLE, "utf8").replace("port: 3000", "port: three"));
  const run = (spec: string, ...more: string[]) =>
    tenkai([
      "diff",
      spec,
      "--against",
      base,
      "--out",
      join(dir, `cx-${Math.random()}`),
      "--exit-code",
      ...more,
    ]);
  const [same, changed, json, bad] = await Promise.all([
    run(EXAMPLE),
    run(changedSpec),
    run(changedSpec, "-o", "json"),
    run(badSpec),
  ]);

  it("exits 0 when nothing changes", () => {
    assert.equal(planned.code, 0, planned.stderr);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /changes: none/);
  });

  it("exits 1 with changes and names each resource and object", () => {
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /\+ AWS::Logs::LogGroup billingLogs added/);
    assert.match(changed.stdout, /\+ Namespace billing added/);
    assert.match(
      changed.stdout,
      /~ Deployment\.apps shop\/catalog-api modified\n\s+~ spec\.template\.spec\.containers\[0\]\.image: .*3\.2\.0" → .*3\.3\.0"/,
    );
    assert.match(changed.stdout, /\d+ added, \d+ modified, 0 replaced, 0 removed, \d+ unchanged \(offline/);
  });

  it("-o json is one JSON document", () => {
    assert.equal(json.code, 1, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.changes, true);
    const tenants = doc.aws.stacks.find((s: { stackName: string }) => s.stackName === "web-tenants-001");
    assert.ok(
      tenants.resources.some(
        (r: { logicalId: string; action: string }) => r.logicalId === "billingLogs" && r.action === "add",
      ),
    );
    assert.ok(
      doc.kubernetes.objects.some(
        (o: { ref: string; action: string }) => o.ref === "Namespace billing" && o.action === "create",
      ),
    );
  });

  it("exits 2 on a bad spec", () => {
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SPEC_/);
  });
});

describe("offline Kubernetes diff", () => {
  it("calls a change to an immutable field a replacement, other changes modifications", () => {
    const dep = (selector: string, image: string) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "api", namespace: "t" },
      spec: {
        selector: { matchLabels: { app: selector } },
        template: { spec: { containers: [{ name: "a", image }] } },
      },
    });
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "old", namespace: "t" } };
    const d = diffPlannedObjects([dep("a", "x:1"), cm], [dep("b", "x:1")], "test");
    assert.deepEqual(
      d.objects.map((o) => [o.ref, o.action]),
      [
        ["Deployment.apps t/api", "replace"],
        ["ConfigMap t/old", "prune"],
      ],
    );
    const m = diffPlannedObjects([dep("a", "x:1")], [dep("a", "x:2")], "test");
    assert.equal(m.objects[0]?.action, "update");
    assert.equal(m.summary.update, 1);
  });
});
