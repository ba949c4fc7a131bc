/**
 * `tenkai local up|down|status`: the platform on this machine, thin over src/local.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { type CommandIO, runAction, withOutput } from "../output.js";
import { parseDuration } from "./nodes.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/platform.yaml", import.meta.url));

interface LocalFlags {
  output?: string;
  dir?: string;
  env?: string;
}

/** The spec to use: the one given, else ./platform.yaml, else the bundled example (said plainly). */
function specFile(file: string | undefined, io: CommandIO): string {
  if (file) return file;
  if (existsSync("platform.yaml")) return "platform.yaml";
  io.info(`no platform.yaml here: using the example platform ${EXAMPLE}`);
  return EXAMPLE;
}

async function clusterDirFor(file: string | undefined, opts: LocalFlags, io: CommandIO): Promise<string> {
  const { resolve } = await import("node:path");
  if (opts.dir) return resolve(opts.dir);
  const { loadPlatform } = await import("../../spec/load.js");
  const { defaultClusterDir } = await import("../../local/cluster-dir.js");
  const platform = await loadPlatform(specFile(file, io), opts.env ? { environment: opts.env } : {});
  return defaultClusterDir(platform.metadata.name);
}

export function register(program: Command): void {
  const local = program
    .command("local")
    .description("run the platform on this machine: a local control plane with real and kwok nodes");

  withOutput(
    local
      .command("up")
      .description(
        "start a local cluster, create every node group's active slot (real or kwok nodes), install cluster DNS and apply the Kubernetes plane with the probe image in place of each workload's image",
      )
      .argument("[file]", "platform.yaml (default: ./platform.yaml, else the bundled examples/platform.yaml)")
      .option("--dir <dir>", "cluster directory (default: ~/.cache/tenkai/local/<platform>)")
      .option("-e, --env <name>", "use this environment's overlay")
      .option("--timeout <duration>", "bound on nodes Ready and workloads rolled out", "10m")
      .option("--no-apply", "start the cluster and nodes only; do not apply the Kubernetes plane"),
  ).action((file: string | undefined, opts: LocalFlags & { timeout: string; apply: boolean }) =>
    runAction(opts, async (io) => {
      const timeoutMs = parseDuration("--timeout", opts.timeout);
      const { resolve } = await import("node:path");
      const { loadPlatform } = await import("../../spec/load.js");
      const { localUp } = await import("../../local/up.js");
      const path = specFile(file, io);
      const platform = await loadPlatform(path, opts.env ? { environment: opts.env } : {});
      const r = await localUp({
        platform,
        file: path,
        timeoutMs,
        apply: opts.apply,
        ...(opts.dir ? { clusterDir: resolve(opts.dir) } : {}),
        sink: io.sink,
      });
      io.result(r, (x) =>
        [
          `local cluster ${x.reusedCluster ? "reused" : "up"} in ${(x.durationMs / 1000).toFixed(1)} s: ${x.clusterDir}`,
          ...x.nodeGroups.map(
            (g) =>
              `  ${g.nodegroupName}: ${g.nodes.length} ${g.provider === "local" ? "real" : "kwok"} node(s)`,
          ),
          x.replaced.length > 0
            ? `every workload runs the probe image ${x.probeImage} in place of its ECR image (${x.replaced.length} workload(s); cron jobs suspended)`
            : "",
          x.apply
            ? `  applied ${x.apply.total} objects: ${x.apply.created} created, ${x.apply.configured} configured, ${x.apply.unchanged} unchanged`
            : "  Kubernetes plane not applied (--no-apply)",
          `kubeconfig: ${x.kubeconfig}`,
          "next:",
          ...x.next.map((c) => `  ${c}`),
        ]
          .filter((l) => l !== "")
          .join("\n"),
      );
      return 0;
    }),
  );

  withOutput(
    local
      .command("down")
      .description("stop the local cluster of a platform (control plane and every node)")
      .argument("[file]", "platform.yaml (default: ./platform.yaml, else the bundled example)")
      .option("--dir <dir>", "cluster directory (default: ~/.cache/tenkai/local/<platform>)")
      .option("-e, --env <name>", "the environment overlay used with local up")
      .option("--purge", "also remove the cluster directory (certificates, data, logs)"),
  ).action((file: string | undefined, opts: LocalFlags & { purge?: boolean }) =>
    runAction(opts, async (io) => {
      const { localDown } = await import("../../local/down.js");
      const clusterDir = await clusterDirFor(file, opts, io);
      const r = await localDown({ clusterDir, purge: opts.purge ?? false, sink: io.sink });
      io.result(r, (x) =>
        x.wasRunning || x.purged
          ? `stopped the local cluster in ${x.clusterDir}${x.purged ? " and removed the directory" : ""}`
          : `no local cluster was running in ${x.clusterDir}`,
      );
      return 0;
    }),
  );

  withOutput(
    local
      .command("status")
      .description("how the local cluster of a platform stands: nodes (real or kwok), pods per namespace")
      .argument("[file]", "platform.yaml (default: ./platform.yaml, else the bundled example)")
      .option("--dir <dir>", "cluster directory (default: ~/.cache/tenkai/local/<platform>)")
      .option("-e, --env <name>", "the environment overlay used with local up"),
  ).action((file: string | undefined, opts: LocalFlags) =>
    runAction(opts, async (io) => {
      const { localStatus } = await import("../../local/down.js");
      const s = await localStatus({ clusterDir: await clusterDirFor(file, opts, io) });
      io.result(s, (x) => {
        if (x.state !== "running")
          return `local cluster ${x.state} (${x.clusterDir}); start it with tenkai local up`;
        const real = x.nodes.filter((n) => n.provider === "local");
        return [
          `local cluster running in ${x.clusterDir}`,
          `kubeconfig: ${x.kubeconfig}`,
          `nodes: ${x.nodes.length} (${real.length} real, ${x.nodes.length - real.length} kwok); ${x.nodes.filter((n) => n.ready).length} Ready`,
          ...x.nodes.map(
            (n) =>
              `  ${n.name}  ${n.provider === "local" ? "real" : n.provider}  ${n.ready ? "Ready" : "NotReady"}  ${n.address}`,
          ),
          "pods (Ready/all):",
          ...x.pods.map((p) => `  ${p.namespace}: ${p.ready}/${p.total}`),
        ].join("\n");
      });
      return statusExitCode(s.state);
    }),
  );
}

/** `local status` exits 0 when the cluster runs, 1 otherwise (scripts branch on it). */
function statusExitCode(state: string): number {
  return state === "running" ? 0 : 1;
}
