/**
 * synthesizeAwsPlane synthesizes the tenant stacks in batches of Apps and merges them into one
 * cloud assembly (assembly-merge.ts); buildAwsPlane makes the one App of every stack that cdk-nag
 * and cfn-lint check (synth.test.ts). The two must write the same assembly, byte for byte, and the
 * merged one must read as one assembly with the right deploy order.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { App, CfnParameter, CfnResource, Stack } from "aws-cdk-lib";
import { CloudAssembly } from "aws-cdk-lib/cx-api";
import { stackNames } from "../shared/aws-names.js";
import { loadPlatform } from "../spec/load.js";
import type { Platform, Tenant } from "../spec/schema.js";
import { tenantUsesDatabase } from "../spec/tenant-needs.js";
import { cdkGlobalsReleasable, markCdkGlobals } from "./cdk-globals.js";
import { type AwsSynthOptions, buildAwsPlane, synthesizeAwsPlane } from "./synth.js";
import { deployOrder } from "./toolkit.js";

const EXAMPLE = new URL("../../examples/platform.yaml", import.meta.url).pathname;

let dir: string;
let example: Platform;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tenkai-synth-batches-"));
  example = await loadPlatform(EXAMPLE);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The example's tenants, again and again under new names and paths, `n` in all. */
function manyTenants(platform: Platform, n: number): Platform {
  const source = platform.spec.tenants;
  const tenants: Tenant[] = Array.from({ length: n }, (_, i) => {
    const t = source[i % source.length] as Tenant;
    const name = `${t.name}-${i}`;
    return {
      ...t,
      name,
      services: t.services.map((s) =>
        s.route
          ? { ...s, route: { ...s.route, path: `/${name}${s.route.path === "/" ? "" : s.route.path}` } }
          : s,
      ),
    };
  });
  return { ...platform, spec: { ...platform.spec, tenants } };
}

function files(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

/** The one-App assembly and the batched one, for the same platform and options. */
async function both(platform: Platform, options: Omit<AwsSynthOptions, "outdir">, label: string) {
  const single = join(dir, `${label}-single`);
  buildAwsPlane(platform, { ...options, outdir: single }).app.synth();
  const batched = join(dir, `${label}-batched`);
  const synthesis = await synthesizeAwsPlane(platform, { ...options, outdir: batched });
  return { single, batched, synthesis };
}

/**
 * Every file byte for byte, but a construct warning's stack trace in *.metadata.json: its last
 * frames are the caller's (buildAwsPlane here, synthesizeAwsPlane there).
 */
function assertSameAssembly(single: string, batched: string): void {
  assert.deepEqual(files(batched), files(single));
  const withoutTraces = (path: string) => readFileSync(path, "utf8").replace(/"\s+at [^"]*"/g, '"at"');
  for (const f of files(single)) {
    const same = f.endsWith(".metadata.json")
      ? withoutTraces(join(batched, f)) === withoutTraces(join(single, f))
      : readFileSync(join(batched, f)).equals(readFileSync(join(single, f)));
    assert.ok(same, `${f} differs between one App and the batches`);
  }
}

describe("tenant stacks synthesized in batches", () => {
  it("write the assembly one App writes, byte for byte (example platform, one stack per tenant, batches of 2)", async () => {
    const { single, batched, synthesis } = await both(
      example,
      { tenantsPerStack: 1, stacksPerBatch: 2 },
      "example",
    );
    assertSameAssembly(single, batched);
    const tenantStacks = synthesis.stacks.filter((s) => s.stackName.includes("-tenants-"));
    assert.equal(tenantStacks.length, example.spec.tenants.length);
  });

  it("write the assembly one App writes for 50 tenants in 5 stacks, batches of 2 (the last one short)", async () => {
    const platform = manyTenants(example, 50);
    const { single, batched, synthesis } = await both(platform, { stacksPerBatch: 2 }, "fifty");
    assertSameAssembly(single, batched);
    assert.deepEqual(
      synthesis.stacks.map((s) => s.stackName).filter((n) => n.includes("-tenants-")),
      [1, 2, 3, 4, 5].map((i) => stackNames.tenants(platform, i)),
    );
  });

  it("read as one assembly: every stack, tenant stacks after the cluster and (with database tenants) the data stack", async () => {
    const platform = manyTenants(example, 12);
    const outdir = join(dir, "read");
    const synthesis = await synthesizeAwsPlane(platform, { outdir, tenantsPerStack: 3, stacksPerBatch: 1 });
    const assembly = new CloudAssembly(outdir);
    const order = deployOrder(outdir);
    assert.equal(assembly.stacks.length, order.length);
    for (let i = 1; i <= 4; i++) {
      const name = stackNames.tenants(platform, i);
      const stack = assembly.getStackByName(name);
      const deps = stack.dependencies.map((d) => d.id);
      assert.ok(deps.includes(stackNames.cluster(platform)), `${name} depends on ${deps.join(", ")}`);
      const usesDb = platform.spec.tenants.slice((i - 1) * 3, i * 3).some(tenantUsesDatabase);
      assert.equal(deps.includes(stackNames.data(platform)), usesDb, `${name}: data stack dependency`);
      assert.ok(order.indexOf(name) > order.indexOf(stackNames.cluster(platform)));
      if (usesDb) assert.ok(order.indexOf(name) > order.indexOf(stackNames.data(platform)));
    }
    const tree = JSON.parse(readFileSync(join(outdir, "tree.json"), "utf8")) as {
      tree: { children: Record<string, unknown> };
    };
    // Construct order: the order the summaries come in, platform stacks first.
    assert.deepEqual(Object.keys(tree.tree.children), [...synthesis.stacks.map((s) => s.stackName), "Tree"]);
  });

  it("refuses a batch size that is not a positive integer", async () => {
    await assert.rejects(
      synthesizeAwsPlane(example, { outdir: join(dir, "bad"), stacksPerBatch: 0 }),
      (e: Error & { code?: string }) => e.code === "AWS_BAD_STACKS_PER_BATCH",
    );
  });
});

describe("aws-cdk-lib's process-wide tables (cdk-globals.ts)", () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;

  /** An App with a stack, a parameter's value and a resource's attribute (tokens and references). */
  function smallApp(): WeakRef<App> {
    const app = new App({ outdir: mkdtempSync(join(dir, "small-")) });
    const stack = new Stack(app, "S");
    const p = new CfnParameter(stack, "P", { type: "String", default: "x" }).valueAsString;
    const r = new CfnResource(stack, "R", { type: "AWS::SNS::Topic", properties: { TopicName: p } });
    new CfnResource(stack, "Q", {
      type: "AWS::SNS::Topic",
      properties: { TopicName: r.getAtt("TopicName").toString() },
    });
    app.synth();
    return new WeakRef(app);
  }
  async function collected(ref: WeakRef<App>): Promise<boolean> {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    return ref.deref() === undefined;
  }

  it("look as this release expects in the pinned aws-cdk-lib", () => {
    assert.ok(cdkGlobalsReleasable(), "global.__cdkTokenMap has no stringTokenMap/numberTokenMap Maps");
  });
  it("keep a synthesized App alive without the release", async () => {
    assert.equal(await collected(smallApp()), false);
  });
  it("let a synthesized App go after the release", async () => {
    const release = markCdkGlobals();
    const ref = smallApp();
    release();
    assert.equal(await collected(ref), true);
  });
});
