/**
 * Issue 10, "data loss and crashes": `plan --out` never removes what tenkai did not write, and
 * hostile input gets a coded error with a place and no stack trace.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXAMPLE, hasStack, tenkai } from "./support.js";

const tmp = (name: string) => mkdtemp(join(tmpdir(), `tenkai-${name}-`));

describe("tenkai plan --out never deletes what it did not write", () => {
  it("refuses --out . beside the user's spec and notes, and leaves them as they were", async () => {
    const dir = await tmp("out-dot");
    await copyFile(EXAMPLE, join(dir, "platform.yaml"));
    await writeFile(join(dir, "notes.md"), "my notes\n");
    const r = await tenkai(["plan", "platform.yaml", "--out", ".", "--no-cost"], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error CLI_OUT_NOT_OURS: .*notes\.md.*platform\.yaml/);
    assert.match(r.stderr, /fix: choose a new or empty directory/);
    assert.deepEqual((await readdir(dir)).sort(), ["notes.md", "platform.yaml"]);
    assert.equal(readFileSync(join(dir, "platform.yaml"), "utf8"), readFileSync(EXAMPLE, "utf8"));
  });

  it("refuses a directory holding a runbook (--out docs)", async () => {
    const dir = await tmp("out-docs");
    await mkdir(join(dir, "docs"));
    await writeFile(join(dir, "docs", "runbook.md"), "# runbook\n");
    const r = await tenkai(["plan", EXAMPLE, "--out", "docs", "--no-cost"], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /CLI_OUT_NOT_OURS/);
    assert.equal(readFileSync(join(dir, "docs", "runbook.md"), "utf8"), "# runbook\n");
  });

  it("marks a directory it makes, re-plans into it, and keeps files others put there", async () => {
    const dir = await tmp("out-marked");
    const out = join(dir, "plan");
    const first = await tenkai(["plan", EXAMPLE, "--out", out, "--no-cost", "-q"], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(join(out, ".tenkai-plan")), "the marker");
    await writeFile(join(out, "README.txt"), "kept\n");
    await writeFile(join(out, "manifests", "stale.yaml"), "old\n");
    const second = await tenkai(["plan", EXAMPLE, "--out", out, "--no-cost", "-q"], dir);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readFileSync(join(out, "README.txt"), "utf8"), "kept\n");
    assert.ok(!existsSync(join(out, "manifests", "stale.yaml")), "tenkai's own old output is replaced");
    assert.ok(existsSync(join(out, "plan.json")));
  });

  it("refuses to plan over the spec itself, even in its own marked directory", async () => {
    const dir = await tmp("out-spec");
    const out = join(dir, "plan");
    assert.equal((await tenkai(["plan", EXAMPLE, "--out", out, "--no-cost", "-q"], dir)).code, 0);
    await copyFile(EXAMPLE, join(out, "plan.json"));
    const r = await tenkai(["plan", join(out, "plan.json"), "--out", out, "--no-cost"], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CLI_OUT_HOLDS_SPEC/);
    assert.equal(readFileSync(join(out, "plan.json"), "utf8"), readFileSync(EXAMPLE, "utf8"));
  });
});

describe("hostile input gets a coded error with a place, never a stack trace", () => {
  const cases: { name: string; write: (file: string) => Promise<void>; code: RegExp; where: RegExp }[] = [
    {
      name: "an alias bomb",
      write: (f) =>
        writeFile(
          f,
          ["a", "b", "c", "d", "e", "f", "g", "h"]
            .map((k, i, all) =>
              i === 0
                ? `${k}: &${k} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`
                : `${k}: &${k} [${Array(9)
                    .fill(`*${all[i - 1]}`)
                    .join(",")}]`,
            )
            .join("\n"),
        ),
      code: /SPEC_YAML_ALIASES/,
      where: /:2:\d+: error/,
    },
    {
      name: "a binary file",
      write: (f) => writeFile(f, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe])),
      code: /SPEC_NOT_TEXT/,
      where: /:1:7: error/,
    },
    {
      name: "bytes that are not UTF-8",
      write: (f) => writeFile(f, Buffer.concat([Buffer.from("apiVersion: x\nkind: \xff", "latin1")])),
      code: /SPEC_NOT_TEXT/,
      where: /:2:7: error/,
    },
    {
      name: "a directory",
      write: (f) => mkdir(f),
      code: /SPEC_IS_DIRECTORY.*directory, not a spec file/,
      where: /spec\.yaml: error/,
    },
    {
      name: "a huge file",
      write: async (f) => {
        await writeFile(f, "");
        await truncate(f, 65 * 1024 * 1024 + 1); // sparse: costs no disk
      },
      code: /SPEC_TOO_LARGE/,
      where: /spec\.yaml: error/,
    },
    {
      name: "nesting that exhausts the parser",
      write: (f) => writeFile(f, `a: ${"[".repeat(200_000)}`),
      code: /SPEC_YAML_(TOO_DEEP|SYNTAX)/,
      where: /spec\.yaml:\d+:\d+: error|spec\.yaml: error/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = await tmp("hostile");
      const file = join(dir, "spec.yaml");
      await c.write(file);
      for (const command of ["validate", "plan"]) {
        const r = await tenkai(
          [command, file, "--out", join(dir, "out"), "--no-cost"].slice(0, command === "plan" ? 5 : 2),
          dir,
        );
        const all = r.stdout + r.stderr;
        assert.equal(r.code, 2, all);
        assert.match(all, c.code);
        assert.match(all, c.where);
        assert.ok(!hasStack(all), `no stack trace:\n${all}`);
        assert.ok(all.length < 4000, `a short message, not the file's bytes (${all.length} chars)`);
      }
    });
  }

  it("one tab in the indentation is one error, with a concrete fix", async () => {
    const dir = await tmp("tab");
    const file = join(dir, "platform.yaml");
    await writeFile(file, readFileSync(EXAMPLE, "utf8").replace("      ciRole: arn", "\tciRole: arn"));
    const r = await tenkai(["validate", file], dir);
    assert.equal(r.code, 2);
    const errors = r.stdout.split("\n").filter((l) => / error /.test(l));
    assert.equal(errors.length, 1, r.stdout);
    assert.match(r.stdout, /error SPEC_YAML_TAB[\s\S]*fix: indent with spaces, not tabs/);
  });
});
