/**
 * `tenkai deploy` and `tenkai destroy` as a user runs them, with no AWS credentials anywhere:
 * they synthesize the assembly, say which stacks they would act on, and stop where AWS would be
 * called with an error that says how to sign in; destroy never proceeds unconfirmed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLE = join(ROOT, "examples/platform.yaml");
const work = mkdtempSync(join(tmpdir(), "tenkai-deploy-cli-"));
after(() => rmSync(work, { recursive: true, force: true }));

function tenkai(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/run.ts"), ...args],
      { cwd: ROOT, env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

describe("tenkai deploy / destroy without credentials", () => {
  it("deploy writes the assembly, streams the stack plan as JSON events, and fails with AWS_NO_CREDENTIALS", async () => {
    const out = join(work, "deploy");
    const r = await tenkai(["deploy", EXAMPLE, "--out", out, "-o", "json", "--no-image-gate"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /"code":"image.gate.skipped"/);
    assert.ok(existsSync(join(out, "manifest.json")));
    const docs = r.stdout
      .trim()
      .split("\n")
      .filter((l) => l.startsWith('{"time"'));
    const plan = docs.map((l) => JSON.parse(l)).find((e) => e.code === "aws.plan");
    assert.deepEqual(plan?.data.stacks, [
      "web-network",
      "web-cluster",
      "web-nodes-general",
      "web-addons",
      "web-data",
      "web-tenants-001",
    ]);
    const error = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n  "error"'))).error;
    assert.equal(error.code, "AWS_NO_CREDENTIALS");
    assert.match(error.fix, /aws sso login/);
  });
  it("deploy stops at the image gate before any stack when it cannot look images up, and says how to sign in", async () => {
    const r = await tenkai([
      "deploy",
      EXAMPLE,
      "--out",
      join(work, "gate"),
      "--allow-image",
      "catalog-api:3.2.0",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error AWS_NO_CREDENTIALS: cannot check the spec's images in ECR \(the image gate\)/,
    );
    assert.doesNotMatch(r.stderr, /deploy \d+ stacks/);
  });
  it("destroy refuses to run unconfirmed when it cannot ask", async () => {
    const r = await tenkai(["destroy", EXAMPLE, "--out", join(work, "destroy")]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /error CLI_CONFIRM_REQUIRED: destroy needs confirmation: it deletes web-tenants-001, web-data, web-addons, web-nodes-general, web-cluster, web-network/,
    );
    assert.match(r.stderr, /pass --yes/);
  });
  it("destroy --yes goes as far as AWS and fails with AWS_NO_CREDENTIALS", async () => {
    const r = await tenkai([
      "destroy",
      EXAMPLE,
      "--out",
      join(work, "destroy-yes"),
      "--yes",
      "--stack",
      "web-tenants-001",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /destroy 1 stacks: web-tenants-001/);
    assert.match(r.stderr, /error AWS_NO_CREDENTIALS/);
  });
});
