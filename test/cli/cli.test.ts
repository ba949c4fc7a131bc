import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLE = join(ROOT, "examples/platform.yaml");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI from source with no AWS credentials or config, as `tenkai plan` must work offline. */
function tenkai(args: string[], cwd = ROOT): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/run.ts"), ...args],
      { cwd, env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("tenkai validate", () => {
  it("passes the example with exit 0", async () => {
    const r = await tenkai(["validate", EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /platform.yaml: valid/);
  });

  it("lists every error with file:line:col and exits 2", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenkai-cli-"));
    const file = join(dir, "bad.yaml");
    const text = readFileSync(EXAMPLE, "utf8")
      .replace("region: ap-northeast-1", "region: tokyo")
      .replace("port: 3000", "prot: 3000");
    await writeFile(file, text);
    const r = await tenkai(["validate", file]);
    assert.equal(r.code, 2);
    const lines = r.stdout.split("\n");
    assert.ok(
      lines.some((l) => l.startsWith(`${file}:9:`) && l.includes("error SPEC_INVALID_VALUE spec.aws.region")),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /^.*bad\.yaml:\d+:\d+: error SPEC_UNKNOWN_FIELD .*prot.*did you mean "port"/.test(l)),
      r.stdout,
    );
    assert.match(r.stdout, /3 errors/, "the misspelt port is also a missing port");
  });

  it("gives one JSON document with --output json", async () => {
    const r = await tenkai(["validate", join(ROOT, "nope.yaml"), "--output", "json"]);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.valid, false);
    assert.equal(doc.problems[0].code, "SPEC_UNREADABLE");
    assert.match(doc.problems[0].fix, /tenkai init/);
  });
});

describe("tenkai init and schema", () => {
  it("init writes a starter that validates, and refuses to overwrite it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenkai-init-"));
    assert.equal((await tenkai(["init", "--name", "acme"], dir)).code, 0);
    assert.equal((await tenkai(["validate", "platform.yaml"], dir)).code, 0);
    const again = await tenkai(["init"], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /error CLI_FILE_EXISTS: .*already exists[\s\S]*fix: .*--force/);
  });

  it("schema prints the JSON Schema", async () => {
    const r = await tenkai(["schema"]);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).title, "tenkai Platform");
  });
});

describe("tenkai plan (offline, no AWS credentials)", async () => {
  const out = await mkdtemp(join(tmpdir(), "tenkai-plan-"));
  const text = await tenkai(["plan", EXAMPLE, "--out", out]);
  const json = await tenkai(["plan", EXAMPLE, "--out", out, "--output", "json"]);

  it("writes the cloud assembly, the manifests per tenant and plan.json", () => {
    assert.equal(text.code, 0, text.stderr);
    const manifest = JSON.parse(readFileSync(join(out, "cdk.out", "manifest.json"), "utf8"));
    const stacks = Object.entries(manifest.artifacts as Record<string, { type: string }>).filter(
      ([, a]) => a.type === "aws:cloudformation:stack",
    );
    assert.ok(stacks.length >= 3, "network, cluster and node group stacks at least");
    for (const tenant of ["shop", "users", "orders"]) {
      const docs = parseAllDocuments(
        readFileSync(join(out, "manifests", "tenants", `${tenant}.yaml`), "utf8"),
      ).map((d) => d.toJS());
      assert.ok(
        docs.some((o) => o.kind === "Namespace" && o.metadata.name === tenant),
        `${tenant} has its Namespace`,
      );
      // A tenant's objects live in its namespace, or in tenkai-system where the tenant cannot edit them
      // (its route table for the admission policy); never in another tenant's namespace.
      const namespaces = new Set(docs.map((o) => o.metadata?.namespace).filter(Boolean));
      assert.deepEqual(
        [...namespaces].filter((ns) => ns !== tenant && ns !== "tenkai-system"),
        [],
        `${tenant}'s objects`,
      );
    }
    assert.ok(existsSync(join(out, "manifests", "platform.yaml")));
    assert.ok(existsSync(join(out, "plan.json")));
  });

  it("prints a summary for people: tenants, routes, node group slots, resources, cost", () => {
    for (const heading of [
      "Tenants (3)",
      "Routes on the shared ALB (6)",
      "Node groups",
      "AWS resources:",
      "Estimated monthly cost",
      "Add-ons (versions from data/eks-addons.json as of",
    ]) {
      assert.ok(text.stdout.includes(heading), `missing ${heading}\n${text.stdout}`);
    }
    assert.match(text.stdout, /general\s+blue\s+general-blue\s+m6i.large,m7i.large\s+3\s+3\s+12/);
    assert.match(text.stdout, /api.example.com\s+\/catalog\s+shop\/catalog-api\s+8080/);
    // Every managed add-on with the version pinned for the cluster's Kubernetes version.
    for (const addon of ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "metrics-server"])
      assert.match(
        text.stdout,
        new RegExp(`${addon}\\s+\\S+\\s+v\\d+\\.\\d+\\.\\d+-eksbuild\\.\\d+`),
        `add-on ${addon}`,
      );
  });

  it("--output json gives the same summary as one JSON document", () => {
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout);
    assert.deepEqual(
      s.routes.map((r: { path: string }) => r.path),
      ["/catalog", "/orders", "/users", "/auth", "/cart", "/"],
      "longest path first: the ALB rule order",
    );
    assert.equal(s.nodeGroups[0].nodegroupName, "general-blue");
    assert.ok(s.aws.resourcesByType["AWS::EKS::Cluster"] === 1);
    assert.ok(s.aws.resourcesByType["AWS::EKS::Nodegroup"] >= 1);
    // public, private and isolated database subnets in each of the example's three zones
    assert.equal(s.aws.resourcesByType["AWS::EC2::Subnet"], 9);
    assert.ok(s.cost.totalLow > 0 && s.cost.totalHigh >= s.cost.totalLow);
    assert.deepEqual(JSON.parse(readFileSync(join(out, "plan.json"), "utf8")).routes, s.routes);
  });
});

describe("tenkai diff --plane aws --against a previous plan (no AWS call)", async () => {
  const base = await mkdtemp(join(tmpdir(), "tenkai-diff-base-"));
  await tenkai(["plan", EXAMPLE, "--out", base, "--no-cost"]);
  const dir = await mkdtemp(join(tmpdir(), "tenkai-diff-"));
  const file = join(dir, "platform.yaml");
  // Onboard a tenant: only the tenant stacks (and the cluster's access bookkeeping) may change.
  await writeFile(
    file,
    readFileSync(EXAMPLE, "utf8").replace(
      "    - name: orders\n",
      "    - name: billing\n    - name: orders\n",
    ),
  );
  const same = await tenkai([
    "diff",
    EXAMPLE,
    "--plane",
    "aws",
    "--against",
    join(base, "cdk.out"),
    "--out",
    join(dir, "a"),
    "-o",
    "json",
  ]);
  const changed = await tenkai([
    "diff",
    file,
    "--plane",
    "aws",
    "--against",
    join(base, "cdk.out"),
    "--out",
    join(dir, "b"),
    "-o",
    "json",
  ]);
  const lastDoc = (stdout: string) => JSON.parse(stdout.slice(stdout.lastIndexOf("\n{\n") + 1));

  it("finds no change for the same spec", () => {
    assert.equal(same.code, 0, same.stderr);
    const r = lastDoc(same.stdout);
    assert.ok(r.aws.stacks.length >= 4);
    assert.deepEqual(
      r.aws.stacks.filter((s: { changes: number }) => s.changes > 0),
      [],
    );
  });

  it("shows the new tenant's changes in the tenant stack and leaves the network alone", () => {
    assert.equal(changed.code, 0, changed.stderr);
    const r = lastDoc(changed.stdout);
    const by = (name: string) => r.aws.stacks.find((s: { stackName: string }) => s.stackName === name);
    assert.ok(by("web-tenants-001").changes > 0);
    assert.equal(by("web-network").changes, 0);
  });
});
