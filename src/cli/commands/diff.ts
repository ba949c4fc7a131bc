/**
 * `tenkai diff FILE`: what `tenkai deploy` and `tenkai apply` would change, plane by plane.
 * The AWS plane is compared through the CDK toolkit (change sets against the deployed stacks,
 * or `--against DIR` for a previous plan's assembly, with no AWS call); the Kubernetes plane
 * through server-side dry runs against the live cluster. A plane that cannot be compared (no
 * credentials, no cluster) is reported with its code and fix, and the other still runs.
 */
import type { Command } from "commander";
import { isTenkaiError, TenkaiError } from "../../shared/errors.js";
import { runAction } from "../output.js";
import { type ClusterFlags, connect, withCluster } from "./apply.js";

type Plane = "aws" | "kubernetes";

interface DiffFlags extends ClusterFlags {
  plane: string;
  out: string;
  against?: string;
  profile?: string;
}

interface PlaneFailure {
  readonly code: string;
  readonly message: string;
  readonly fix?: string;
}

function failure(err: unknown): PlaneFailure {
  return {
    code: isTenkaiError(err) ? err.code : "INTERNAL",
    message: err instanceof Error ? err.message : String(err),
    ...(isTenkaiError(err) && err.fix ? { fix: err.fix } : {}),
  };
}

function planes(value: string): Plane[] {
  if (value === "all") return ["aws", "kubernetes"];
  if (value === "aws" || value === "kubernetes") return [value];
  throw new TenkaiError(
    "CLI_BAD_PLANE",
    `--plane must be aws, kubernetes or all, got "${value}"`,
    "use --plane aws, --plane kubernetes or --plane all",
  );
}

export function register(program: Command): void {
  withCluster(
    program
      .command("diff")
      .description("show what deploy (AWS plane) and apply (Kubernetes plane) would change")
      .argument("<file>", "platform.yaml")
      .option("--plane <plane>", "aws, kubernetes or all", "all")
      .option("--out <dir>", "where to synthesize the cloud assembly", "out/diff/cdk.out")
      .option("--against <dir>", "compare the AWS plane with a previous plan's cdk.out (no AWS call)")
      .option("--profile <name>", "AWS profile for credentials"),
  ).action((file: string, opts: DiffFlags) =>
    runAction(opts, async (io) => {
      const selected = planes(opts.plane);
      const result: {
        aws?:
          | { stacks: readonly { stackName: string; changes: number; securityChanges: boolean }[] }
          | { error: PlaneFailure };
        kubernetes?:
          | Awaited<ReturnType<typeof import("../../kube/api/diff.js").diffKubernetesPlane>>
          | { error: PlaneFailure };
      } = {};

      if (selected.includes("aws")) {
        try {
          const { loadPlatform } = await import("../../spec/load.js");
          const { synthesizeAwsPlane } = await import("../../aws/synth.js");
          const { diffAwsPlane } = await import("../../aws/toolkit.js");
          const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
          const synth = await synthesizeAwsPlane(platform, { outdir: opts.out });
          result.aws = await diffAwsPlane({
            assemblyDir: synth.assemblyDir,
            ...(opts.against ? { against: opts.against } : {}),
            ...(opts.profile ? { profile: opts.profile } : {}),
            sink: io.sink,
          });
        } catch (err) {
          if (isTenkaiError(err) && err.code.startsWith("SPEC_")) throw err;
          result.aws = { error: failure(err) };
        }
      }

      if (selected.includes("kubernetes")) {
        try {
          const { diffKubernetesPlane } = await import("../../kube/api/diff.js");
          const { platform, client, concurrency } = await connect(file, opts);
          try {
            result.kubernetes = await diffKubernetesPlane(platform, { client, concurrency });
          } finally {
            client.close();
          }
        } catch (err) {
          if (isTenkaiError(err) && err.code.startsWith("SPEC_")) throw err;
          result.kubernetes = { error: failure(err) };
        }
      }

      const { formatChanges } = await import("../../kube/api/object-diff.js");
      io.result(result, (r) => {
        const out: string[] = [];
        if (r.aws) {
          out.push("AWS plane");
          if ("error" in r.aws)
            out.push(
              `  cannot compare: ${r.aws.error.code}: ${r.aws.error.message}${r.aws.error.fix ? `\n  fix: ${r.aws.error.fix}` : ""}`,
            );
          else
            for (const s of r.aws.stacks)
              out.push(
                `  ${s.stackName}: ${s.changes === 0 ? "no changes" : `${s.changes} changes${s.securityChanges ? " (IAM or security group changes: review them)" : ""}`}`,
              );
        }
        if (r.kubernetes) {
          out.push("Kubernetes plane");
          if ("error" in r.kubernetes)
            out.push(
              `  cannot compare: ${r.kubernetes.error.code}: ${r.kubernetes.error.message}${r.kubernetes.error.fix ? `\n  fix: ${r.kubernetes.error.fix}` : ""}`,
            );
          else {
            for (const o of r.kubernetes.objects) {
              out.push(
                `  ${o.action === "create" ? "+" : o.action === "prune" ? "-" : "~"} ${o.ref}${o.action === "prune" ? " (pruned: left the spec)" : ""}`,
              );
              for (const line of formatChanges(o.changes)) out.push(`      ${line}`);
            }
            const s = r.kubernetes.summary;
            out.push(
              `  ${s.create} to create, ${s.update} to update, ${s.prune} to prune, ${s.unchanged} unchanged (context ${r.kubernetes.context})`,
            );
          }
        }
        return out.join("\n");
      });
      const failed = (r: object | undefined) => r !== undefined && "error" in r;
      return failed(result.aws) || failed(result.kubernetes) ? 1 : 0;
    }),
  );
}
