/**
 * `tenkai diff FILE`: what `tenkai deploy` and `tenkai apply` would change, plane by plane.
 * The AWS plane is compared through the CDK toolkit (change sets against the deployed stacks,
 * or `--against DIR` for a previous plan's assembly, with no AWS call); the Kubernetes plane
 * through server-side dry runs against the live cluster. A plane that cannot be compared (no
 * credentials, no cluster) is reported with its code and fix, and the other still runs.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { AwsDiffResult } from "../../aws/toolkit.js";
import type { KubernetesPlaneDiff } from "../../kube/api/diff.js";
import type { FieldChange } from "../../kube/api/object-diff.js";
import { isTenkaiError, TenkaiError } from "../../shared/errors.js";
import { type AwsFlags, checkStackRegion } from "../aws-steps.js";
import { runAction } from "../output.js";
import { type ClusterFlags, connect, withCluster } from "./apply.js";

type Plane = "aws" | "kubernetes";

interface DiffFlags extends ClusterFlags, AwsFlags {
  plane: string;
  out: string;
  against?: string;
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

interface DiffResult {
  aws?: AwsDiffResult | { error: PlaneFailure };
  kubernetes?: KubernetesPlaneDiff | { error: PlaneFailure };
  /** Whether anything would change (planes that could not be compared count as unknown). */
  changes: boolean;
}

/** `--against DIR`: a previous plan's output directory (cdk.out/ and manifests/) or its cdk.out. */
function againstDirs(dir: string): { assembly: string; manifests?: string } {
  // A cloud assembly holds a file named cdk.out (its version marker): look for a directory.
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  if (isDir(join(dir, "cdk.out")))
    return { assembly: join(dir, "cdk.out"), ...(isDir(join(dir, "manifests")) ? { manifests: dir } : {}) };
  return { assembly: dir };
}

export function register(program: Command): void {
  withCluster(
    program
      .command("diff")
      .description(
        "show which AWS resources and Kubernetes objects deploy and apply would add, remove, modify or replace",
      )
      .argument("<file>", "platform.yaml")
      .option("--plane <plane>", "aws, kubernetes or all", "all")
      .option("--out <dir>", "where to synthesize the cloud assembly", "out/diff/cdk.out")
      .option(
        "--against <dir>",
        "compare with a previous `tenkai plan` output directory instead of AWS and the cluster (offline)",
      )
      .option(
        "--exit-code",
        "exit 0 when nothing changes, 1 when something does, 2 on bad input or a plane that cannot be compared",
      ),
  ).action((file: string, opts: DiffFlags & { exitCode?: boolean }) =>
    runAction(opts, async (io) => {
      const selected = planes(opts.plane);
      const { loadPlatform } = await import("../../spec/load.js");
      const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
      const against = opts.against ? againstDirs(opts.against) : undefined;
      const result: DiffResult = { changes: false };
      if (selected.includes("aws")) checkStackRegion(platform, opts);

      if (selected.includes("aws")) {
        try {
          const { synthesizeAwsPlane } = await import("../../aws/synth.js");
          const { diffAwsPlane } = await import("../../aws/toolkit.js");
          const synth = await synthesizeAwsPlane(platform, { outdir: opts.out });
          result.aws = await diffAwsPlane({
            assemblyDir: synth.assemblyDir,
            ...(against ? { against: against.assembly } : {}),
            ...(opts.profile ? { profile: opts.profile } : {}),
            // One JSON document on stdout in json mode: progress is for people only.
            ...(io.format === "text" ? { sink: io.sink } : {}),
          });
        } catch (err) {
          if (isTenkaiError(err) && err.code.startsWith("SPEC_")) throw err;
          result.aws = { error: failure(err) };
        }
      }

      if (selected.includes("kubernetes")) {
        try {
          if (against?.manifests) {
            const { diffKubernetesPlaneOffline } = await import("../../kube/api/offline-diff.js");
            result.kubernetes = await diffKubernetesPlaneOffline(platform, against.manifests);
          } else {
            const { diffKubernetesPlane } = await import("../../kube/api/diff.js");
            const { client, concurrency } = await connect(file, opts);
            try {
              result.kubernetes = await diffKubernetesPlane(platform, { client, concurrency });
            } finally {
              client.close();
            }
          }
        } catch (err) {
          if (isTenkaiError(err) && err.code.startsWith("SPEC_")) throw err;
          result.kubernetes = { error: failure(err) };
        }
      }

      const aws = result.aws && !("error" in result.aws) ? result.aws : undefined;
      const kube = result.kubernetes && !("error" in result.kubernetes) ? result.kubernetes : undefined;
      result.changes =
        (aws?.stacks.some((s) => s.changes > 0) ?? false) || (kube ? kube.objects.length > 0 : false);
      const { formatChanges } = await import("../../kube/api/object-diff.js");
      io.result(result, (r) => renderDiff(r, formatChanges));
      const failed = (r: object | undefined) => r !== undefined && "error" in r;
      const broken = failed(result.aws) || failed(result.kubernetes);
      if (opts.exitCode) return broken ? 2 : result.changes ? 1 : 0;
      return broken ? 1 : 0;
    }),
  );
}

const AWS_MARK = { add: "+", remove: "-", modify: "~", replace: "±" } as const;
const AWS_WORD = { add: "added", remove: "removed", modify: "modified", replace: "replaced" } as const;
const KUBE = {
  create: ["+", "added"],
  prune: ["-", "removed (pruned: left the spec)"],
  update: ["~", "modified"],
  replace: ["±", "replaced (an immutable field changes: deleted and re-created)"],
} as const;

function renderDiff(r: DiffResult, formatChanges: (c: readonly FieldChange[]) => string[]): string {
  const out: string[] = [];
  const cannot = (e: PlaneFailure) =>
    `  cannot compare: ${e.code}: ${e.message}${e.fix ? `\n  fix: ${e.fix}` : ""}`;
  if (r.aws) {
    out.push("AWS plane");
    if ("error" in r.aws) out.push(cannot(r.aws.error));
    else
      for (const s of r.aws.stacks) {
        const head =
          s.stackAction === "add" ? " (new stack)" : s.stackAction === "remove" ? " (stack removed)" : "";
        out.push(
          `  ${s.stackName}${head}: ${s.changes === 0 ? "no changes" : `${s.changes} changes${s.securityChanges ? " (IAM or security group changes: review them)" : ""}`}`,
        );
        for (const c of s.resources)
          out.push(
            `    ${AWS_MARK[c.action]} ${c.type} ${c.logicalId} ${AWS_WORD[c.action]}${c.maybe ? " (may be replaced)" : ""}${c.properties?.length ? `: ${c.properties.join(", ")}` : ""}`,
          );
      }
  }
  if (r.kubernetes) {
    out.push("Kubernetes plane");
    if ("error" in r.kubernetes) out.push(cannot(r.kubernetes.error));
    else {
      for (const o of r.kubernetes.objects) {
        const [mark, word] = KUBE[o.action];
        out.push(`  ${mark} ${o.ref} ${word}`);
        for (const line of formatChanges(o.changes)) out.push(`      ${line}`);
      }
      const s = r.kubernetes.summary;
      out.push(
        `  ${s.create} added, ${s.update} modified, ${s.replace ?? 0} replaced, ${s.prune} removed, ${s.unchanged} unchanged (${r.kubernetes.context.startsWith("offline") ? r.kubernetes.context : `context ${r.kubernetes.context}`})`,
      );
    }
  }
  out.push(r.changes ? "changes: yes" : "changes: none");
  return out.join("\n");
}
