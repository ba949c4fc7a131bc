/**
 * The AWS steps that `deploy`, `apply` and `db` share: the image gate before anything changes,
 * and SDK clients in the platform's region with the caller's own credentials (`--profile` or the
 * SDK's default chain). Engines are imported lazily (cold start).
 */
import type { Command } from "commander";
import type { EventLevel } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import type { CommandIO } from "./output.js";

export interface ImageGateFlags {
  /** `--no-image-gate` sets this false. */
  readonly imageGate?: boolean;
  readonly allowImage?: string[];
  readonly profile?: string;
}

/** An event the command itself reports (a step it skipped, a line it read) on the one channel. */
export function report(
  io: CommandIO,
  level: EventLevel,
  code: string,
  message: string,
  data: Readonly<Record<string, unknown>> = {},
): void {
  io.sink({ time: new Date().toISOString(), level, code, message, data });
}

/** The gate's flags, for every command that changes a plane. */
export function withImageGate(cmd: Command): Command {
  return cmd
    .option("--allow-image <repository:tag...>", "let these images through the image gate (the run says so)")
    .option("--no-image-gate", "do not check the spec's images in ECR first (the run says so)");
}

export function clientConfig(platform: Platform, profile?: string) {
  return { region: platform.spec.aws.region, ...(profile ? { profile } : {}) };
}

/** Runs the image gate (unless --no-image-gate, which the run reports) and returns its verdicts. */
export async function imageGateStep(platform: Platform, flags: ImageGateFlags, io: CommandIO) {
  if (platform.spec.target === "local") {
    report(io, "info", "image.gate.skipped", "image gate skipped: target local runs no images from ECR");
    return undefined;
  }
  if (flags.imageGate === false) {
    report(
      io,
      "warn",
      "image.gate.skipped",
      "image gate skipped (--no-image-gate): no image was checked in ECR",
    );
    return undefined;
  }
  const { ECRClient } = await import("@aws-sdk/client-ecr");
  const { runImageGate } = await import("../aws/image-scan.js");
  const { awsCallError } = await import("../aws/sdk-errors.js");
  const ecr = new ECRClient(clientConfig(platform, flags.profile));
  try {
    const result = await runImageGate(platform, {
      ecr,
      allow: flags.allowImage ?? [],
      sink: io.sink,
    });
    io.info(
      `image gate: ${result.images.length} images checked in ECR (blockSeverity ${result.blockSeverity})`,
    );
    return result;
  } catch (err) {
    throw awsCallError(err, "check the spec's images in ECR (the image gate)");
  } finally {
    ecr.destroy();
  }
}
