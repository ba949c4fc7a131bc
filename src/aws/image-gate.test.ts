/**
 * The image gate against moto's ECR server (repositories, pushed images, scans, scan findings in
 * the basic shape and, through moto's static results, in Inspector's enhanced shape and with an
 * unfinished status), the registry scanning read-merge-write against moto, and what moto cannot
 * answer (paged findings, ACTIVE continuous scans, throttling) with aws-sdk-client-mock.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  PutImageCommand,
  PutRegistryScanningConfigurationCommand,
  StartImageScanCommand,
} from "@aws-sdk/client-ecr";
import { mockClient } from "aws-sdk-client-mock";
import { parse } from "yaml";
import { type Moto, startMoto } from "../../test/support/moto.js";
import { isTenkaiError } from "../shared/errors.js";
import { definePlatform } from "../spec/define.js";
import type { Platform, PlatformInput } from "../spec/schema.js";
import { type ImageVerdict, imageGateTable, specImages } from "./image-gate.js";
import { type ImageGateEvent, runImageGate } from "./image-scan.js";
import { ensureEnhancedScanning, mergeRegistryScanning } from "./registry-scanning.js";

const REGION = "ap-northeast-1";

function platformWith(block: string, enhancedScanning = false): Platform {
  const input = parse(
    readFileSync(new URL("../../examples/platform.yaml", import.meta.url), "utf8"),
  ) as PlatformInput;
  input.spec.registry = { blockSeverity: block as "CRITICAL", enhancedScanning };
  input.spec.fargate = { profiles: [] };
  const svc = (name: string, tag: string) => ({ name, image: name, tag, port: 8080 });
  input.spec.tenants = [
    { name: "shop", services: [svc("clean", "1.0.0"), svc("critical", "2.0.0")] },
    {
      name: "users",
      services: [svc("unscanned", "1.0.0"), svc("scanning", "1.0.0"), svc("absent", "9.9.9")],
    },
  ];
  return definePlatform(input);
}

function gateError(e: unknown): { code: string; message: string; images: ImageVerdict[] } {
  assert.ok(isTenkaiError(e), String(e));
  return { code: e.code, message: e.message, images: (e.details?.images ?? []) as ImageVerdict[] };
}

let moto: Moto | undefined;
let skipReason = "";
let ecr: ECRClient;

before(async () => {
  const m = await startMoto();
  if (typeof m === "string") {
    skipReason = m;
    process.stderr.write(`image gate: skipping the moto tests: ${m}\n`);
    return;
  }
  moto = m;
  ecr = new ECRClient(m.clientConfig(REGION));
  const manifest = (n: number) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: n,
        digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
      },
      layers: [],
    });
  const images = specImages(platformWith("CRITICAL"));
  for (const [i, img] of images.entries()) {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: img.repository }));
    if (img.repository.endsWith("/absent")) continue; // the repository exists, the tag does not
    await ecr.send(
      new PutImageCommand({
        repositoryName: img.repository,
        imageTag: img.tag,
        imageManifest: manifest(i + 1),
      }),
    );
    if (!img.repository.endsWith("/unscanned"))
      await ecr.send(
        new StartImageScanCommand({ repositoryName: img.repository, imageId: { imageTag: img.tag } }),
      );
  }
  // moto answers scans with one HIGH basic finding unless told otherwise (its static results API):
  // an Inspector finding for web/shop/critical and a scan still running for web/users/scanning.
  // Each static result is served to one distinct request shape, so queue one per lookup the tests make.
  const critical = {
    registryId: "123456789012",
    repositoryName: "web/shop/critical",
    imageId: { imageTag: "2.0.0" },
    imageScanStatus: { status: "ACTIVE", description: "Continuous scan is selected for image." },
    imageScanFindings: {
      enhancedFindings: [
        {
          severity: "CRITICAL",
          title: "CVE-2026-1111 - openssl",
          type: "PACKAGE_VULNERABILITY",
          packageVulnerabilityDetails: {
            vulnerabilityId: "CVE-2026-1111",
            vulnerablePackages: [{ name: "openssl", version: "3.0.1" }],
          },
        },
        {
          severity: "MEDIUM",
          title: "CVE-2026-2222 - zlib",
          packageVulnerabilityDetails: {
            vulnerabilityId: "CVE-2026-2222",
            vulnerablePackages: [{ name: "zlib" }],
          },
        },
      ],
      findingSeverityCounts: { CRITICAL: 1, MEDIUM: 1 },
    },
  };
  const scanning = {
    registryId: "123456789012",
    repositoryName: "web/users/scanning",
    imageId: { imageTag: "1.0.0" },
    imageScanStatus: { status: "IN_PROGRESS", description: "The scan is in progress." },
  };
  const res = await fetch(`${m.endpoint}/moto-api/static/ecr/scan-finding-results`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ results: [critical, scanning], region: REGION }),
  });
  assert.equal(res.status, 201, await res.text());
});
after(() => moto?.stop());

describe("the image gate against moto's ECR", () => {
  it("refuses the run with one table and the most basic problem's code: a missing tag first", async (t) => {
    if (!moto) return t.skip(skipReason);
    const events: ImageGateEvent[] = [];
    await assert.rejects(
      runImageGate(platformWith("CRITICAL"), { ecr, sink: (e) => events.push(e) }),
      (e: unknown) => {
        const err = gateError(e);
        assert.equal(err.code, "IMAGE_NOT_FOUND");
        const byRef = new Map(err.images.map((v) => [`${v.repository}:${v.tag}`, v]));
        assert.equal(byRef.get("web/shop/clean:1.0.0")?.code, "OK"); // moto's one HIGH finding is below CRITICAL
        assert.deepEqual(byRef.get("web/shop/clean:1.0.0")?.counts, { HIGH: 1 });
        assert.equal(byRef.get("web/shop/critical:2.0.0")?.code, "IMAGE_VULNERABLE");
        assert.deepEqual(byRef.get("web/shop/critical:2.0.0")?.worst, [
          { id: "CVE-2026-1111", severity: "CRITICAL", package: "openssl@3.0.1" },
          { id: "CVE-2026-2222", severity: "MEDIUM", package: "zlib" },
        ]);
        assert.equal(byRef.get("web/users/unscanned:1.0.0")?.code, "IMAGE_SCAN_INCOMPLETE");
        assert.match(byRef.get("web/users/unscanned:1.0.0")?.message ?? "", /NOT_SCANNED/);
        assert.equal(byRef.get("web/users/scanning:1.0.0")?.code, "IMAGE_SCAN_INCOMPLETE");
        assert.match(byRef.get("web/users/scanning:1.0.0")?.message ?? "", /IN_PROGRESS/);
        assert.equal(byRef.get("web/users/absent:9.9.9")?.code, "IMAGE_NOT_FOUND");
        // What the user reads: the table, one line per image, in the error.
        assert.match(err.message, /refused 4 of 5 images; nothing was changed/);
        assert.match(
          err.message,
          /web\/shop\/critical:2\.0\.0\s+IMAGE_VULNERABLE\s+1\/0\/1\/0\s+CVE-2026-1111 CRITICAL openssl@3\.0\.1/,
        );
        assert.match(err.message, /web\/users\/absent:9\.9\.9\s+IMAGE_NOT_FOUND/);
        return true;
      },
    );
    assert.equal(events.filter((e) => e.code === "image.checked").length, 5);
  });

  it("lets images through with --allow-image, says so, and then fails only on what is left", async (t) => {
    if (!moto) return t.skip(skipReason);
    const events: ImageGateEvent[] = [];
    await assert.rejects(
      runImageGate(platformWith("HIGH"), {
        ecr,
        allow: ["absent:9.9.9", "web/users/unscanned:1.0.0", "users/scanning:1.0.0"],
        sink: (e) => events.push(e),
      }),
      (e: unknown) => {
        const err = gateError(e);
        // With blockSeverity HIGH, moto's HIGH finding blocks the clean image too.
        assert.equal(err.code, "IMAGE_VULNERABLE");
        assert.match(err.message, /refused 2 of 5/);
        assert.match(err.message, /web\/users\/absent:9\.9\.9\s+ALLOWED \(IMAGE_NOT_FOUND\)/);
        return true;
      },
    );
    assert.deepEqual(
      events.filter((e) => e.code === "image.allowed").map((e) => e.code === "image.allowed" && e.data.image),
      ["web/users/unscanned:1.0.0", "web/users/scanning:1.0.0", "web/users/absent:9.9.9"],
    );
    const passed = await runImageGate(platformWith("CRITICAL"), {
      ecr,
      allow: ["absent:9.9.9", "unscanned:1.0.0", "scanning:1.0.0", "critical:2.0.0"],
    });
    assert.deepEqual(
      passed.images.map((v) => `${v.code}${v.allowed ? " allowed" : ""}`),
      [
        "OK",
        "IMAGE_VULNERABLE allowed",
        "IMAGE_SCAN_INCOMPLETE allowed",
        "IMAGE_SCAN_INCOMPLETE allowed",
        "IMAGE_NOT_FOUND allowed",
      ],
    );
  });

  it("refuses an --allow-image that names no image of the spec", async (t) => {
    if (!moto) return t.skip(skipReason);
    await assert.rejects(runImageGate(platformWith("CRITICAL"), { ecr, allow: ["nope:1"] }), (e: unknown) =>
      isTenkaiError(e, "CLI_BAD_ALLOW_IMAGE"),
    );
  });
});

describe("enhanced scanning: read-merge-write of the registry scanning configuration (moto)", () => {
  it("adds the platform's filter, keeps the account's other rules, and writes nothing the second time", async (t) => {
    if (!moto) return t.skip(skipReason);
    await ecr.send(
      new PutRegistryScanningConfigurationCommand({
        scanType: "BASIC",
        rules: [
          {
            scanFrequency: "SCAN_ON_PUSH",
            repositoryFilters: [{ filter: "legacy-*", filterType: "WILDCARD" }],
          },
        ],
      }),
    );
    const events: string[] = [];
    const first = await ensureEnhancedScanning(ecr, platformWith("CRITICAL", true), (e) =>
      events.push(e.message),
    );
    assert.equal(first?.changed, true);
    assert.deepEqual(first?.switchedRules, ["SCAN_ON_PUSH legacy-*"]);
    const after = await ecr.send(new GetRegistryScanningConfigurationCommand({}));
    assert.equal(after.scanningConfiguration?.scanType, "ENHANCED");
    assert.deepEqual(after.scanningConfiguration?.rules, [
      { scanFrequency: "SCAN_ON_PUSH", repositoryFilters: [{ filter: "legacy-*", filterType: "WILDCARD" }] },
      { scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: "web/*", filterType: "WILDCARD" }] },
    ]);
    assert.match(events[0] ?? "", /switched from BASIC to ENHANCED.*SCAN_ON_PUSH legacy-\*/);
    const second = await ensureEnhancedScanning(ecr, platformWith("CRITICAL", true));
    assert.equal(second?.changed, false);
    assert.equal(await ensureEnhancedScanning(ecr, platformWith("CRITICAL", false)), undefined);
  });

  it("merges into an existing continuous rule without duplicating filters", () => {
    const current = {
      scanType: "ENHANCED",
      rules: [
        {
          scanFrequency: "CONTINUOUS_SCAN" as const,
          repositoryFilters: [{ filter: "prod-*", filterType: "WILDCARD" as const }],
        },
      ],
    };
    const m = mergeRegistryScanning(current, "web/*");
    assert.deepEqual(
      m.next.rules[0]?.repositoryFilters?.map((f) => f.filter),
      ["prod-*", "web/*"],
    );
    assert.deepEqual(m.switchedRules, []);
    assert.equal(mergeRegistryScanning(m.next, "web/*").changed, false);
    assert.deepEqual(current.rules[0]?.repositoryFilters.length, 1, "input left as it was");
  });
});

describe("the image gate with the SDK mocked (what moto does not answer)", () => {
  it("reads every page of Inspector findings of an ACTIVE image and shows the worst", async () => {
    const client = new ECRClient({ region: REGION });
    const m = mockClient(client);
    m.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: ["1.0.0"] }] });
    m.on(DescribeImageScanFindingsCommand)
      .resolvesOnce({
        imageScanStatus: { status: "ACTIVE" },
        imageScanFindings: {
          findingSeverityCounts: { LOW: 1, HIGH: 1 },
          enhancedFindings: [
            { severity: "LOW", packageVulnerabilityDetails: { vulnerabilityId: "CVE-LOW" } },
          ],
        },
        nextToken: "page-2",
      })
      .resolves({
        imageScanStatus: { status: "ACTIVE" },
        imageScanFindings: {
          findingSeverityCounts: { LOW: 1, HIGH: 1 },
          enhancedFindings: [
            { severity: "HIGH", packageVulnerabilityDetails: { vulnerabilityId: "CVE-HIGH" } },
          ],
        },
      });
    const input = parse(
      readFileSync(new URL("../../examples/platform.yaml", import.meta.url), "utf8"),
    ) as PlatformInput;
    input.spec.registry = { blockSeverity: "HIGH" };
    input.spec.fargate = { profiles: [] };
    input.spec.tenants = [
      { name: "shop", services: [{ name: "api", image: "api", tag: "1.0.0", port: 8080 }] },
    ];
    await assert.rejects(runImageGate(definePlatform(input), { ecr: client }), (e: unknown) => {
      const err = gateError(e);
      assert.equal(err.code, "IMAGE_VULNERABLE");
      assert.deepEqual(
        err.images[0]?.worst.map((f) => f.id),
        ["CVE-HIGH", "CVE-LOW"],
      );
      return true;
    });
    assert.equal(m.commandCalls(DescribeImageScanFindingsCommand)[1]?.args[0].input.nextToken, "page-2");
    assert.equal(
      imageGateTable([
        { ...err0(input), code: "OK", allowed: false, counts: {}, worst: [], message: "" },
      ]).split("\n").length,
      2,
    );
  });
});

function err0(input: PlatformInput) {
  return specImages(definePlatform(input))[0] as ReturnType<typeof specImages>[number];
}
