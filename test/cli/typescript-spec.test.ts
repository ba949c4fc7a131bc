/**
 * Issue 10: a platform written in TypeScript, `import { definePlatform } from "tenkai"`, in an
 * ordinary CommonJS package and in an ESM package, with tenkai installed in the package as the
 * README says (here a symlink to this checkout, as `npm install --save-dev <path>` makes).
 * The ESM entry is the built dist/: the test builds it when it is missing.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { EXAMPLE, ROOT, tenkai } from "./support.js";

const spec = JSON.stringify(parse(readFileSync(EXAMPLE, "utf8")), null, 2);

async function project(type: "commonjs" | "module", body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tenkai-ts-${type}-`));
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "my-platform", private: true, type }));
  await mkdir(join(dir, "node_modules"));
  await symlink(ROOT, join(dir, "node_modules", "tenkai"), "dir");
  await writeFile(join(dir, "platform.ts"), body);
  return dir;
}

describe("a TypeScript spec imports definePlatform from tenkai", () => {
  before(() => {
    if (!existsSync(join(ROOT, "dist/index.js")))
      execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  });

  for (const type of ["commonjs", "module"] as const) {
    it(`in a ${type} package: validate and plan accept it`, async () => {
      const dir = await project(
        type,
        `import { definePlatform } from "tenkai";\nexport default definePlatform(${spec} as const);\n`,
      );
      const v = await tenkai(["validate", "platform.ts"], dir);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /platform\.ts: valid/);
      const p = await tenkai(["plan", "platform.ts", "--out", "out", "--no-cost", "-q"], dir);
      assert.equal(p.code, 0, p.stderr);
      assert.ok(existsSync(join(dir, "out", "plan.json")));
    });

    it(`in a ${type} package: a mistake is reported with its field and fix`, async () => {
      const dir = await project(
        type,
        `import { definePlatform } from "tenkai";\nconst p = ${spec};\n(p.spec.aws as { region: string }).region = "ap-northeast-9";\nexport default definePlatform(p as never);\n`,
      );
      const v = await tenkai(["validate", "platform.ts", "-o", "json"], dir);
      assert.equal(v.code, 2, v.stdout + v.stderr);
      const problems = JSON.parse(v.stdout).problems as { code: string; path: string; fix: string }[];
      const region = problems.find((x) => x.code === "SPEC_UNKNOWN_REGION");
      assert.ok(region, JSON.stringify(problems));
      assert.equal(region.path, "spec.aws.region");
      assert.match(region.fix, /ap-northeast-1/);
    });
  }
});
