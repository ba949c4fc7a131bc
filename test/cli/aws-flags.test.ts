/**
 * Issue 10, "`--profile`/`--region` where AWS is called": every command that calls AWS takes the
 * one shared definition of both options (conventions.ts), and they reach the SDK clients it makes.
 *
 * Through the real CLI, without AWS and without mocks: a named profile in a throwaway AWS config
 * file gets its credentials from a credential_process (a key id no other source has), and
 * AWS_ENDPOINT_URL sends every SDK call to a local HTTP server that records the SigV4
 * Authorization header and answers AccessDenied. The header's credential scope names the key id
 * (so the profile was used), the region and the service of the client that made the call.
 */
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Command, Option } from "commander";
import { AWS_COMMANDS, allCommands, awsOptions } from "../../src/cli/conventions.js";
import { buildProgram } from "../../src/cli/main.js";
import { EXAMPLE, ROOT, tenkai } from "./support.js";

const KEY = "AKIDTENKAIFLAGSTEST";
const PROFILE = "tenkai-flags";
let server: Server;
let dir: string;
let env: NodeJS.ProcessEnv;
/** Credential scopes seen, `<key>/<date>/<region>/<service>`, in arrival order. */
const scopes: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenkai-aws-flags-"));
  server = createServer((req, res) => {
    const scope = /Credential=([^,]+)\/aws4_request/.exec(req.headers.authorization ?? "")?.[1];
    if (scope) scopes.push(scope);
    req.resume();
    req.on("end", () => {
      const query = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded");
      res.writeHead(403, {
        "content-type": query ? "text/xml" : "application/x-amz-json-1.1",
        "x-amzn-errortype": "AccessDeniedException",
      });
      res.end(
        query
          ? "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>recorded by the flags test</Message></Error><RequestId>1</RequestId></ErrorResponse>"
          : JSON.stringify({ __type: "AccessDeniedException", message: "recorded by the flags test" }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const creds = join(dir, "creds.sh");
  await writeFile(
    creds,
    `#!/bin/sh\necho '{"Version":1,"AccessKeyId":"${KEY}","SecretAccessKey":"not-a-secret"}'\n`,
    { mode: 0o755 },
  );
  const config = join(dir, "config");
  await writeFile(config, `[profile ${PROFILE}]\ncredential_process = ${creds}\n`);
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(
    kubeconfig,
    "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
  );
  await copyFile(EXAMPLE, join(dir, "platform.yaml"));
  env = {
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    KUBECONFIG: kubeconfig,
  };
});
after(() => server?.close());

/** Runs the CLI and returns the credential scopes of the AWS calls it made. */
async function calls(args: string[]): Promise<{ scopes: string[]; stderr: string; code: number }> {
  const from = scopes.length;
  const r = await tenkai(args, dir, env);
  return { scopes: scopes.slice(from), stderr: r.stderr, code: r.code };
}

function assertCalled(got: { scopes: string[]; stderr: string }, region: string, service: string) {
  const want = new RegExp(`^${KEY}/\\d{8}/${region}/${service}$`);
  assert.ok(
    got.scopes.some((s) => want.test(s)),
    `no ${service} call in ${region} with the profile's key; calls: ${got.scopes.join(", ") || "none"}\n${got.stderr}`,
  );
  // No call went out with other credentials or to another region.
  for (const s of got.scopes) assert.match(s, new RegExp(`^${KEY}/\\d{8}/${region}/`), s);
}

describe("one definition of --profile and --region on every command that calls AWS", () => {
  it("every command in AWS_COMMANDS has both, with the shared help text", () => {
    const program = buildProgram();
    const byPath = new Map<string, Command>();
    for (const c of allCommands(program)) {
      const names: string[] = [];
      for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
      byPath.set(names.join(" "), c);
    }
    const shared = awsOptions();
    for (const path of AWS_COMMANDS) {
      const cmd = byPath.get(path);
      assert.ok(cmd, `no command ${path}`);
      for (const o of shared) {
        const opt: Option | undefined = cmd.options.find((x) => x.long === o.long);
        assert.ok(opt, `${path} has no ${o.long}`);
        assert.equal(opt.description, o.description, `${path} ${o.long}`);
      }
    }
  });

  it("every SDK client a command makes is configured through clientConfig (no client misses the flags)", async () => {
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(join(ROOT, "src/cli/commands"))).filter((f) => f.endsWith(".ts"));
    files.push("../aws-steps.ts");
    for (const f of files) {
      const text = await readFile(join(ROOT, "src/cli/commands", f), "utf8");
      const viaVariable = /const config = clientConfig\(/.test(text);
      for (const m of text.matchAll(/new (\w+Client)\(([^)]*)\)?/g))
        if (m[1] !== "KubeClient")
          assert.ok(
            /^clientConfig\(/.test(m[2] ?? "") || (m[2] === "config" && viaVariable),
            `${f}: new ${m[1]}(${m[2]}) does not take clientConfig()`,
          );
    }
  });
});

describe("the flags reach the SDK clients (real CLI, local endpoint, no AWS)", () => {
  const flags = ["--profile", PROFILE, "--region", "eu-west-1"];

  it("logs: CloudWatch Logs for a tenant, Athena for --alb", async () => {
    assertCalled(await calls(["logs", "users", ...flags]), "eu-west-1", "logs");
    assertCalled(await calls(["logs", "--alb", ...flags]), "eu-west-1", "athena");
  });

  it("db status: RDS", async () => {
    assertCalled(await calls(["db", "status", "platform.yaml", ...flags]), "eu-west-1", "rds");
  });

  it("apply and tenant add: the image gate's ECR", async () => {
    assertCalled(await calls(["apply", "-f", "platform.yaml", ...flags]), "eu-west-1", "ecr");
    assertCalled(
      await calls(["tenant", "add", "payments", "-f", "platform.yaml", ...flags]),
      "eu-west-1",
      "ecr",
    );
  });

  it("upgrade plan --eks-addons: EKS DescribeAddonVersions", async () => {
    assertCalled(
      await calls(["upgrade", "plan", "--to", "1.36", "--offline", "--eks-addons", ...flags]),
      "eu-west-1",
      "eks",
    );
  });

  it("deploy: the profile reaches the CDK toolkit (its first call, STS, signed with the profile's key)", async () => {
    const got = await calls([
      "deploy",
      "platform.yaml",
      "--profile",
      PROFILE,
      "--no-image-gate",
      "--out",
      join(dir, "cdk.out"),
    ]);
    assert.notEqual(got.code, 0);
    assert.ok(
      got.scopes.some((s) => new RegExp(`^${KEY}/\\d{8}/[a-z0-9-]+/sts$`).test(s)),
      `no call with the profile's key; calls: ${got.scopes.join(", ") || "none"}\n${got.stderr}`,
    );
  });

  it("deploy, destroy and diff refuse a --region other than the spec's, and a region that is none", async () => {
    for (const cmd of [["deploy"], ["destroy", "--yes"], ["diff", "--plane", "aws"]]) {
      const r = await calls([...cmd, "platform.yaml", "--region", "eu-west-1", "-o", "json"]);
      assert.equal(r.code, 2, `${cmd.join(" ")}: ${r.stderr}`);
      assert.deepEqual(r.scopes, [], "nothing is called");
    }
    const r = await tenkai(["deploy", "platform.yaml", "--region", "eu-wst-1"], dir, env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CLI_BAD_REGION|is not an AWS region/);
    assert.match(r.stderr, /--region eu-west-1/);
  });
});
