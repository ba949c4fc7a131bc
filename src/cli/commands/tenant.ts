import type { Command } from "commander";
import { isTenkaiError, TenkaiError } from "../../shared/errors.js";
import { type ImageGateFlags, imageGateStep, withImageGate } from "../aws-steps.js";
import { type CommandIO, runAction } from "../output.js";
import { type ClusterFlags, withCluster } from "./apply.js";

interface TenantFlags extends ClusterFlags, ImageGateFlags {
  file: string;
  apply: boolean;
}

export function register(program: Command): void {
  const tenant = program
    .command("tenant")
    .description(
      "add or remove a tenant: edit platform.yaml in place (comments and layout kept), validate, then apply",
    );
  withImageGate(
    withCluster(
      tenant
        .command("add")
        .argument("<name>", "tenant name (becomes its namespace)")
        .option("-f, --file <file>", "platform spec to edit", "platform.yaml")
        .option("--role <arn>", "IAM role to give access to the tenant")
        .option("--level <level>", "access level for --role: view, edit or admin", "edit")
        .option("--no-apply", "only edit the file"),
    ),
  ).action((name: string, opts: TenantFlags & { role?: string; level: string }) =>
    runAction(opts, async (io) => {
      if (!["view", "edit", "admin"].includes(opts.level)) {
        throw new TenkaiError(
          "CLI_BAD_LEVEL",
          `--level must be view, edit or admin, got ${opts.level}`,
          "pass --level view|edit|admin",
        );
      }
      const { addTenant } = await import("../../spec/tenant-edit.js");
      return edit(
        io,
        opts,
        (text) =>
          addTenant(text, opts.file, {
            name,
            role: opts.role,
            level: opts.level as "view" | "edit" | "admin",
          }),
        `added tenant ${name}`,
      );
    }),
  );
  withImageGate(
    withCluster(
      tenant
        .command("remove")
        .argument("<name>", "tenant to remove (its namespace and everything in it are pruned on apply)")
        .option("-f, --file <file>", "platform spec to edit", "platform.yaml")
        .option("--no-apply", "only edit the file"),
    ),
  ).action((name: string, opts: TenantFlags) =>
    runAction(opts, async (io) => {
      const { removeTenant } = await import("../../spec/tenant-edit.js");
      return edit(io, opts, (text) => removeTenant(text, opts.file, name), `removed tenant ${name}`);
    }),
  );
}

async function edit(
  io: CommandIO,
  opts: TenantFlags,
  change: (text: string) => { text: string; unchanged?: boolean },
  done: string,
): Promise<number> {
  const { readFile, writeFile } = await import("node:fs/promises");
  const before = await readFile(opts.file, "utf8");
  const { text, unchanged } = change(before); // validated before anything is written
  if (!unchanged) await writeFile(opts.file, text);
  const what = unchanged
    ? `${opts.file} already has this (${done}); nothing to write`
    : `${done} in ${opts.file}`;
  const next = `tenkai apply -f ${opts.file}${opts.context ? ` --context ${opts.context}` : ""}`;
  if (!opts.apply) {
    io.result(
      { file: opts.file, changed: !unchanged, applied: false, next },
      () => `${what}\nnot applied (--no-apply): run ${next} to make the cluster match`,
    );
    return 0;
  }
  const { connect, clusterVpcId } = await import("./apply.js");
  const { applyPlatform } = await import("../../kube/api/apply.js");
  let session: Awaited<ReturnType<typeof connect>>;
  try {
    session = await connect(opts.file, opts);
  } catch (cause) {
    // The file is changed; say so plainly, and what comes next.
    const c = cause as { code?: unknown; message?: unknown; fix?: unknown };
    throw Object.assign(
      new TenkaiError(
        isTenkaiError(cause) ? cause.code : "KUBE_UNREACHABLE",
        `${what}, but it is not applied: no cluster to apply to (${typeof c.message === "string" ? c.message : String(cause)})`,
        `${typeof c.fix === "string" ? `${c.fix}; then ` : ""}run ${next} (running this command again also continues)`,
        { cause },
      ),
      { changed: !unchanged },
    );
  }
  const { platform, client, concurrency } = session;
  try {
    await imageGateStep(platform, opts, io);
    const vpcId = platform.spec.target === "aws" ? await clusterVpcId(platform, opts) : undefined;
    const result = await applyPlatform(platform, {
      client,
      concurrency,
      ...(vpcId ? { vpcId } : {}),
      sink: (e) => {
        if (io.format === "json" || e.code !== "apply.object" || e.data.outcome !== "unchanged") io.sink(e);
      },
    });
    io.result({ file: opts.file, changed: !unchanged, applied: true, ...result }, (r) => {
      const s = r.summary;
      return `${what}; applied: ${s.created} created, ${s.configured} configured, ${s.pruned} pruned (context ${client.context})`;
    });
    return 0;
  } finally {
    client.close();
  }
}
