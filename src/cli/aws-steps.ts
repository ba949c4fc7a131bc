/**
 * The AWS steps that `deploy`, `apply` and `db` share: the image gate before anything changes,
 * and SDK clients in the platform's region with the caller's own credentials (`--profile` or the
 * SDK's default chain). Engines are imported lazily (cold start).
 */
import type { Command } from "commander";
import { partitionOf, regions } from "../shared/data.js";
import { TenkaiError } from "../shared/errors.js";
import type { EventLevel } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import { closest } from "../spec/suggest.js";
import type { CommandIO } from "./output.js";

/** `--profile` and `--region`, which every command in AWS_COMMANDS takes (conventions.ts). */
export interface AwsFlags {
  readonly profile?: string;
  readonly region?: string;
}

export interface ImageGateFlags extends AwsFlags {
  /** `--no-image-gate` sets this false. */
  readonly imageGate?: boolean;
  readonly allowImage?: string[];
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

/**
 * Every SDK client's configuration: the region (`--region`, else the spec's) and, with
 * `--profile`, the named profile, which the SDK's default credential chain then reads (shared
 * config and credentials files, SSO, credential_process, assumed roles); without it, the chain
 * as it is (environment, AWS_PROFILE, SSO, instance or pod role).
 */
export function clientConfig(platform: Platform, flags: AwsFlags = {}): { region: string; profile?: string } {
  if (flags.region !== undefined && !partitionOf(flags.region)) {
    const guess = closest(flags.region, Object.values(regions().partitions).flat());
    throw new TenkaiError(
      "CLI_BAD_REGION",
      `--region ${flags.region} is not an AWS region`,
      guess
        ? `pass --region ${guess}`
        : `pass a region such as ${platform.spec.aws.region}, or drop --region`,
    );
  }
  return {
    region: flags.region ?? platform.spec.aws.region,
    ...(flags.profile ? { profile: flags.profile } : {}),
  };
}

/**
 * The CloudFormation stacks are bound to the spec's account and region (their `env`): `--region`
 * may only repeat it. Anything else would look like a deploy elsewhere and be none.
 */
export function checkStackRegion(platform: Platform, flags: AwsFlags): void {
  clientConfig(platform, flags); // a --region that is no region at all says so first
  if (flags.region !== undefined && flags.region !== platform.spec.aws.region)
    throw new TenkaiError(
      "CLI_BAD_REGION",
      `--region ${flags.region}: the AWS plane's stacks live in the spec's region ${platform.spec.aws.region}`,
      `drop --region, or change spec.aws.region (or an environment's overlay, -e ENV) to ${flags.region}`,
    );
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
  const ecr = new ECRClient(clientConfig(platform, flags));
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
