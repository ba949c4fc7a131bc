/** Issue 10, "CI and scripting": the conventions every command shares, through the real CLI. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runAction, setGlobalFlags } from "../../src/cli/output.js";
import { EXAMPLE, hasStack, tenkai } from "./support.js";

describe("usage errors exit 2, printed once", () => {
  for (const args of [
    ["bogus"],
    ["validate", "--bogus"],
    ["tenant", "add"],
    ["plan", "a.yaml", "-f", "b.yaml"],
  ]) {
    it(args.join(" "), async () => {
      const r = await tenkai(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      const lines = r.stderr.split("\n").filter((l) => l.startsWith("error"));
      assert.equal(lines.length, 1, r.stderr);
    });
  }
});

describe("the spec is named the same way everywhere", () => {
  it("defaults to platform.yaml, takes -f/--file or a positional", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenkai-conv-"));
    await copyFile(EXAMPLE, join(dir, "platform.yaml"));
    await copyFile(EXAMPLE, join(dir, "other.yaml"));
    for (const args of [
      ["validate"],
      ["validate", "-f", "other.yaml"],
      ["validate", "--file", "other.yaml"],
      ["validate", "other.yaml"],
    ]) {
      const r = await tenkai(args, dir);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`${args[2] ?? args[1] ?? "platform.yaml"}: valid`));
    }
  });
});

describe("help and completion", () => {
  it("every command's help ends with an example", async () => {
    for (const cmd of [
      ["init"],
      ["validate"],
      ["plan"],
      ["diff"],
      ["apply"],
      ["deploy"],
      ["destroy"],
      ["tenant", "add"],
      ["tenant", "remove"],
      ["nodes", "rotate"],
      ["nodes", "status"],
      ["verify", "isolation"],
      ["schema"],
      ["completion"],
    ]) {
      const r = await tenkai([...cmd, "--help"]);
      assert.equal(r.code, 0, cmd.join(" "));
      assert.match(r.stdout, /Examples?:\n {2}\$ tenkai /, cmd.join(" "));
    }
  });

  it("bash completion completes commands and a command's options", async () => {
    const script = (await tenkai(["completion", "bash"])).stdout;
    const complete = (words: string[]) =>
      execFileSync(
        "bash",
        [
          "-c",
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _tenkai; echo "\${COMPREPLY[@]}"`,
        ],
        {
          encoding: "utf8",
        },
      ).trim();
    assert.deepEqual(complete(["tenkai", "pl"]).split(" "), ["plan"]);
    assert.match(complete(["tenkai", "diff", "--ex"]), /--exit-code/);
    assert.deepEqual(complete(["tenkai", "tenant", "re"]).split(" "), ["remove"]);
  });
});

describe("an unexpected error shows its stack only with --debug", () => {
  const capture = async (debug: boolean) => {
    let err = "";
    setGlobalFlags({ debug });
    await runAction(
      {},
      async () => {
        throw new Error("boom");
      },
      { stdout: { write: () => true }, stderr: { write: (c: string) => (err += c) } },
    );
    setGlobalFlags({ debug: false });
    process.exitCode = 0;
    return err;
  };
  it("without --debug: the message and how to get the stack", async () => {
    const err = await capture(false);
    assert.match(err, /error INTERNAL: boom\n.*run again with --debug/);
    assert.ok(!hasStack(err), err);
  });
  it("with --debug: the stack", async () => {
    assert.ok(hasStack(await capture(true)));
  });
});
