/**
 * ECR lookups of the image gate (image-gate.ts) with the caller's credentials: DescribeImages
 * (does the tag exist) and DescribeImageScanFindings (scan status, severity counts, findings in
 * either shape: basic scanning's `findings` or Amazon Inspector's `enhancedFindings`).
 */
import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  type ECRClient,
  type EnhancedImageScanFinding,
  ImageNotFoundException,
  type ImageScanFinding,
  RepositoryNotFoundException,
  ScanNotFoundException,
} from "@aws-sdk/client-ecr";
import { type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import {
  asSeverity,
  enforceImageGate,
  type ImageFinding,
  type ImageGateResult,
  type ImageScan,
  type ImageVerdict,
  imageRef,
  judgeImage,
  parseAllowImages,
  type Severity,
  type SpecImage,
  sortFindings,
  specImages,
} from "./image-gate.js";

/** Finding pages read per image (1,000 findings each): enough for the counts' worst entries. */
const MAX_FINDING_PAGES = 5;

function basicFinding(f: ImageScanFinding): ImageFinding {
  const attr = (k: string) => f.attributes?.find((a) => a.key === k)?.value;
  const pkg = attr("package_name");
  const version = attr("package_version");
  return {
    id: f.name ?? "unnamed",
    severity: asSeverity(f.severity),
    ...(pkg ? { package: version ? `${pkg}@${version}` : pkg } : {}),
  };
}

function enhancedFinding(f: EnhancedImageScanFinding): ImageFinding {
  const p = f.packageVulnerabilityDetails?.vulnerablePackages?.[0];
  return {
    id: f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? f.findingArn ?? "unnamed",
    severity: asSeverity(f.severity),
    ...(p?.name ? { package: p.version ? `${p.name}@${p.version}` : p.name } : {}),
  };
}

/** What ECR says about one image. */
export async function scanImage(ecr: ECRClient, image: SpecImage): Promise<ImageScan> {
  const { repository, tag } = image;
  try {
    const out = await ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
    );
    if (!out.imageDetails?.length) return { found: false, reason: `no image tagged ${tag} in ${repository}` };
  } catch (err) {
    if (err instanceof RepositoryNotFoundException)
      return {
        found: false,
        reason: `repository ${repository} does not exist (deploy the tenant stacks first)`,
      };
    if (err instanceof ImageNotFoundException)
      return { found: false, reason: `no image tagged ${tag} in ${repository}` };
    throw err;
  }
  const findings: ImageFinding[] = [];
  let status = "";
  let statusDescription: string | undefined;
  let counts: Partial<Record<Severity, number>> = {};
  let scanType: "BASIC" | "ENHANCED" | undefined;
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_FINDING_PAGES; page++) {
      const out = await ecr.send(
        new DescribeImageScanFindingsCommand({
          repositoryName: repository,
          imageId: { imageTag: tag },
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      status = out.imageScanStatus?.status ?? "";
      statusDescription = out.imageScanStatus?.description;
      const f = out.imageScanFindings;
      if (f?.findingSeverityCounts)
        counts = Object.fromEntries(
          Object.entries(f.findingSeverityCounts).map(([k, n]) => [asSeverity(k), n]),
        );
      if (f?.enhancedFindings?.length) scanType = "ENHANCED";
      else if (f?.findings?.length) scanType = "BASIC";
      findings.push(
        ...(f?.findings ?? []).map(basicFinding),
        ...(f?.enhancedFindings ?? []).map(enhancedFinding),
      );
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
  } catch (err) {
    if (err instanceof ScanNotFoundException)
      return {
        found: true,
        status: "NOT_SCANNED",
        statusDescription: "no scan of this image",
        counts: {},
        findings: [],
      };
    throw err;
  }
  return {
    found: true,
    status: status || "UNKNOWN",
    ...(statusDescription ? { statusDescription } : {}),
    ...(scanType ? { scanType } : {}),
    counts,
    findings: sortFindings(findings),
  };
}

export type ImageGateEvent =
  | TenkaiEvent<"image.checked", { readonly verdict: ImageVerdict }>
  | TenkaiEvent<"image.allowed", { readonly image: string; readonly verdictCode: string }>;

export interface ImageGateOptions {
  readonly ecr: ECRClient;
  /** `--allow-image` values (REPOSITORY:TAG). */
  readonly allow?: readonly string[];
  readonly sink?: EventSink<ImageGateEvent>;
  /** Lookups in flight at once. Default 8 (ECR's DescribeImages allows 10 requests per second by default). */
  readonly concurrency?: number;
}

/**
 * Looks up every image of the spec and throws the gate's error (IMAGE_NOT_FOUND,
 * IMAGE_SCAN_INCOMPLETE or IMAGE_VULNERABLE, with the table) when any is refused.
 */
export async function runImageGate(platform: Platform, options: ImageGateOptions): Promise<ImageGateResult> {
  const images = specImages(platform);
  const allow = parseAllowImages(options.allow ?? [], images);
  const block = platform.spec.registry.blockSeverity;
  const verdicts: ImageVerdict[] = new Array(images.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < images.length; i = next++) {
      const image = images[i] as SpecImage;
      verdicts[i] = judgeImage(image, await scanImage(options.ecr, image), block, allow.has(imageRef(image)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, images.length) }, worker));
  const emit = emitter(options.sink);
  for (const v of verdicts) {
    emit(v.code === "OK" ? "debug" : "info", "image.checked", `image ${v.code}: ${v.message}`, {
      verdict: v,
    });
    if (v.allowed)
      emit(
        "warn",
        "image.allowed",
        `image ${imageRef(v)} let through by --allow-image although ${v.code}: ${v.message}`,
        {
          image: imageRef(v),
          verdictCode: v.code,
        },
      );
  }
  const result = { blockSeverity: block, images: verdicts };
  enforceImageGate(result);
  return result;
}
