/**
 * `tenkai upgrade plan --offline` as a user runs it (no cluster, no AWS): exit codes 0 (clear),
 * 1 (blockers), 2 (bad input), the JSON document, and the playbook file it will and will not write.
 * The live-cluster half is test/integration/upgrade-plan.test.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;

function tenkai(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    AWS_EC2_METADATA_DISABLED: "true",
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/run.ts"), ...args],
      { cwd: ROOT, env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The example on the local target (no EKS version table in play). */
function localSpec(dir: string): string {
  const file = join(dir, "platform.yaml");
  writeFileSync(
    file,
    readFileSync(join(ROOT, "examples/platform.yaml"), "utf8").replace(
      /^spec:\n/m,
      "spec:\n  target: local\n",
    ),
  );
  return file;
}

describe("tenkai upgrade plan --offline", () => {
  const dir = mkdtempSync(join(tmpdir(), "tenkai-upgrade-cli-"));
  const spec = localSpec(dir);

  it("exits 0 when nothing blocks, with the plan as JSON", async () => {
    writeFileSync(join(dir, "ok.yaml"), "apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: ok }\n");
    const r = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.35",
      "-f",
      spec,
      "--offline",
      "--kubectl-version",
      "v1.35.0",
      "-o",
      "json",
      join(dir, "ok.yaml"),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const plan = JSON.parse(r.stdout.slice(r.stdout.indexOf("{\n"))) as {
      counts: { blocker: number };
      fromSource: string;
      scanned: { files: number };
    };
    assert.equal(plan.counts.blocker, 0);
    assert.equal(plan.fromSource, "spec");
    assert.equal(plan.scanned.files, 1);
  });

  it("exits 1 with blockers, names file:line and the fix, and writes the playbook", async () => {
    const bad = join(dir, "old.yaml");
    writeFileSync(
      bad,
      "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: { name: pdb, namespace: shop }\n",
    );
    const playbook = join(dir, "upgrade.md");
    const r = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.36",
      "-f",
      spec,
      "--offline",
      "--kubectl-version",
      "v1.36.0",
      "--playbook",
      playbook,
      bad,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`blocker\\s+API_GONE\\s+PodDisruptionBudget shop/pdb\\s+${bad}:1`));
    assert.match(r.stdout, /change apiVersion to policy\/v1/);
    assert.match(r.stdout, /1\. \[1\.36\] control plane → 1\.36/);
    const md = readFileSync(playbook, "utf8");
    assert.match(md, /## Blockers/);
    assert.match(md, /### Kubernetes 1\.36/);
    // A second run may overwrite the playbook it wrote.
    const again = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.36",
      "-f",
      spec,
      "--offline",
      "--playbook",
      playbook,
      bad,
    ]);
    assert.equal(again.code, 1, again.stderr);
  });

  it("exits 2 on bad input: a malformed or past target, a missing path, a file tenkai did not write", async () => {
    const cases: [string[], string][] = [
      [["--to", "latest"], "CLI_BAD_VERSION"],
      [["--to", "1.30"], "CLI_TARGET_BEHIND"],
      [["--to", "1.36", join(dir, "missing.yaml")], "CLI_BAD_PATH"],
      [[], "CLI_MISSING_TO"],
    ];
    for (const [args, code] of cases) {
      const r = await tenkai(["upgrade", "plan", "-f", spec, "--offline", "-o", "json", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, code);
    }
    const mine = join(dir, "notes.md");
    writeFileSync(mine, "my notes\n");
    const r = await tenkai(["upgrade", "plan", "--to", "1.36", "-f", spec, "--offline", "--playbook", mine]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CLI_FILE_EXISTS/);
    assert.equal(readFileSync(mine, "utf8"), "my notes\n");
  });
});
