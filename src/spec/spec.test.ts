import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isTenkaiError } from "../shared/errors.js";
import { isValidCronSchedule, runsPerMonth } from "./cron.js";
import { definePlatform } from "./define.js";
import { platformJsonSchema } from "./json-schema.js";
import { loadPlatform, validateFile, validateText } from "./load.js";
import { subnetPlan } from "./network.js";
import { SpecError } from "./problems.js";
import { starterSpec, writeStarter } from "./starter.js";

const EXAMPLE = new URL("../../examples/platform.yaml", import.meta.url).pathname;
const NOW = new Date("2026-11-28T00:00:00Z");

describe("the example platform", () => {
  it("loads with defaults filled", async () => {
    const p = await loadPlatform(EXAMPLE, { now: NOW });
    assert.equal(p.metadata.name, "web");
    assert.deepEqual(
      p.spec.tenants.map((t) => t.name),
      ["shop", "users", "orders"],
    );
    const cart = p.spec.tenants[0]!.services.find((s) => s.name === "cart-api")!;
    assert.deepEqual(cart.resources, { cpu: "250m", memory: "256Mi" }, "default resources");
    assert.equal(cart.healthPath, "/healthz");
    assert.equal(p.spec.registry.keepImages, 30);
    assert.equal(p.spec.tenants[2]!.cronJobs[0]!.concurrencyPolicy, "Forbid");
  });

  it("applies an environment overlay over the base spec", async () => {
    const staging = await loadPlatform(EXAMPLE, { environment: "staging", now: NOW });
    assert.equal(staging.spec.aws.account, "210987654321", "overlay wins");
    assert.equal(staging.spec.aws.region, "ap-northeast-1", "maps merge key by key");
    const r = await validateFile(EXAMPLE, { environment: "qa", now: NOW });
    assert.equal(r.problems[0]?.code, "SPEC_UNKNOWN_ENVIRONMENT");
    assert.match(r.problems[0]?.fix ?? "", /staging, production/);
  });
});

describe("definePlatform", () => {
  it("runs the same checks and throws every problem with its path", () => {
    const spec = validateText(readFileSync(EXAMPLE, "utf8"), EXAMPLE, { now: NOW }).platform!;
    const broken = structuredClone(spec) as unknown as {
      spec: { tenants: { name: string }[]; nodeGroups: { min: number }[] };
    };
    broken.spec.tenants[1]!.name = "shop";
    broken.spec.nodeGroups[0]!.min = 50;
    assert.throws(
      () => definePlatform(broken as never, { now: NOW }),
      (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.ok(isTenkaiError(err, "SPEC_INVALID"));
        assert.deepEqual(err.problems.map((p) => [p.code, p.path]).sort(), [
          ["SPEC_DESIRED_OUT_OF_RANGE", "spec.nodeGroups[0].desired"],
          ["SPEC_DUPLICATE_TENANT", "spec.tenants[1].name"],
          ["SPEC_MIN_OVER_MAX", "spec.nodeGroups[0].min"],
        ]);
        assert.equal(err.problems[0]?.line, undefined, "no positions for a TypeScript spec");
        return true;
      },
    );
  });

  it("returns the platform with defaults", () => {
    const p = definePlatform(
      {
        apiVersion: "tenkai.dev/v1alpha1",
        kind: "Platform",
        metadata: { name: "ts" },
        spec: {
          aws: { account: "123456789012", region: "us-east-1" },
          cluster: { version: "1.35", creatorAdmin: true },
          nodeGroups: [{ name: "general", instanceTypes: ["m6i.large"], min: 2, max: 4 }],
        },
      },
      { now: NOW },
    );
    assert.equal(p.spec.network.vpcCidr, "10.0.0.0/16");
    assert.equal(p.spec.nodeGroups[0]!.activeSlot, "blue");
  });
});

describe("warnings do not block", () => {
  it("an open public endpoint is a warning with a fix, and the platform still loads", () => {
    const text = readFileSync(EXAMPLE, "utf8").replace(
      /publicCidrs: \["203.0.113.0\/24"\]/,
      "publicCidrs: []",
    );
    const r = validateText(text, "p.yaml", { now: NOW });
    assert.ok(r.platform);
    const w = r.problems.find((p) => p.code === "SPEC_ENDPOINT_OPEN");
    assert.equal(w?.severity, "warning");
    assert.match(w?.fix ?? "", /publicCidrs/);
  });

  it("a version in extended support warns about the 6x price", () => {
    const text = readFileSync(EXAMPLE, "utf8").replace('version: "1.35"', 'version: "1.32"');
    const r = validateText(text, "p.yaml", { now: NOW });
    assert.ok(r.platform);
    assert.match(r.problems.find((p) => p.code === "SPEC_VERSION_EXTENDED")?.message ?? "", /6x/);
  });
});

describe("cron schedules", () => {
  const table: [string, boolean, number | undefined][] = [
    ["0 3 * * *", true, 30],
    ["*/15 9-17 * * MON-FRI", true, 22 * 9 * 4],
    ["@hourly", true, 720],
    ["0 0 1 */3 *", true, 4 / 12],
    ["0 0 * * SUN", true, 4],
    // robfig/cron (the CronJob controller's parser) takes 0-6 for day-of-week: 7 is refused.
    ["0 0 * * 7", false, undefined],
    ["60 * * * *", false, undefined],
    ["* * *", false, undefined],
    ["TZ=UTC 0 3 * * *", false, undefined],
    ["0 3 * * FUNDAY", false, undefined],
  ];
  for (const [schedule, valid, runs] of table) {
    it(`${schedule} is ${valid ? "valid" : "invalid"}`, () => {
      assert.equal(isValidCronSchedule(schedule), valid);
      if (runs !== undefined)
        assert.ok(
          Math.abs(runsPerMonth(schedule) - runs) < 1e-9,
          `runs ${runsPerMonth(schedule)} vs ${runs}`,
        );
    });
  }
});

describe("network layout", () => {
  it("carves private quarters and small public subnets without overlap", () => {
    const plan = subnetPlan({ vpcCidr: "10.0.0.0/16", azs: 3 });
    assert.deepEqual(plan.private, ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]);
    assert.deepEqual(plan.public, ["10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21"]);
  });
});

describe("tenkai init starter", () => {
  it("is valid as written and picks a version in standard support", () => {
    const text = starterSpec({ name: "acme", account: "111122223333", region: "eu-west-1", now: NOW });
    const r = validateText(text, "platform.yaml", { now: NOW });
    assert.deepEqual(
      r.problems.filter((p) => p.severity === "error"),
      [],
    );
    assert.equal(r.platform?.spec.cluster.version, "1.36");
    assert.match(text, /# /, "it is commented");
  });

  it("never overwrites an existing spec unless forced", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenkai-init-"));
    const file = join(dir, "platform.yaml");
    await writeFile(file, "mine\n");
    await assert.rejects(
      writeStarter(file, { name: "a", account: "111122223333", region: "us-east-1", force: false }),
      (e: unknown) => isTenkaiError(e, "CLI_FILE_EXISTS"),
    );
    assert.equal(await readFile(file, "utf8"), "mine\n", "nothing lost");
    await writeStarter(file, { name: "a", account: "111122223333", region: "us-east-1", force: true });
    assert.match(await readFile(file, "utf8"), /apiVersion: tenkai.dev\/v1alpha1/);
  });
});

describe("JSON Schema", () => {
  it("the shipped schema file is the one generated from the zod schema (run `npm run schema`)", () => {
    const shipped = JSON.parse(
      readFileSync(new URL("../../schema/platform.schema.json", import.meta.url), "utf8"),
    );
    assert.deepEqual(shipped, platformJsonSchema());
  });

  it("describes the fields an editor completes", () => {
    const s = platformJsonSchema() as {
      properties: { spec: { properties: Record<string, unknown> } };
      required: string[];
    };
    assert.deepEqual(Object.keys(s.properties.spec.properties).sort(), [
      "aws",
      "cluster",
      "database",
      "fargate",
      "ingress",
      "logging",
      "network",
      "nodeGroups",
      "registry",
      "target",
      "tenants",
    ]);
    assert.deepEqual(s.required.sort(), ["apiVersion", "kind", "metadata", "spec"]);
  });
});

describe("platforms written in TypeScript", () => {
  it("loads the default export of a .ts module through the same checks", async () => {
    const p = await loadPlatform(new URL("../../examples/platform.ts", import.meta.url).pathname, {
      now: NOW,
    });
    assert.deepEqual(
      p.spec.tenants.map((t) => t.services[0]?.route?.host),
      ["alpha.example.com", "beta.example.com"],
    );
  });

  it("reports a module without a default export, naming the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenkai-ts-"));
    const file = join(dir, "p.mjs");
    await writeFile(file, "export const platform = {};\n");
    const r = await validateFile(file);
    assert.equal(r.problems[0]?.code, "SPEC_MODULE_NO_DEFAULT");
    assert.match(r.problems[0]?.fix ?? "", /export default definePlatform/);
  });
});

describe("environments: promotesTo", () => {
  const base = readFileSync(EXAMPLE, "utf8");
  const codes = (text: string) =>
    validateText(text, "p.yaml", { now: NOW }).problems.map((p) => `${p.severity} ${p.code} ${p.path}`);

  it("the example's staging → production is valid", () => {
    assert.ok(!codes(base).some((c) => c.includes("PROMOT")), codes(base).join("\n"));
  });
  it("an unknown environment, itself, or a loop is an error naming the field", () => {
    const unknown = codes(base.replace("promotesTo: production", "promotesTo: prod"));
    assert.ok(
      unknown.includes("error SPEC_PROMOTES_TO_UNKNOWN environments.staging.promotesTo"),
      unknown.join("\n"),
    );
    const self = codes(base.replace("promotesTo: production", "promotesTo: staging"));
    assert.ok(self.includes("error SPEC_PROMOTES_TO_SELF environments.staging.promotesTo"), self.join("\n"));
    const loop = codes(
      base.replace("    context: web-production", "    context: web-production\n    promotesTo: staging"),
    );
    assert.ok(loop.includes("error SPEC_PROMOTION_LOOP environments.staging.promotesTo"), loop.join("\n"));
    assert.ok(loop.includes("error SPEC_PROMOTION_LOOP environments.production.promotesTo"), loop.join("\n"));
  });
});
