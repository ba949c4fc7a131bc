/**
 * Values of the rendered platform that are known only when tenkai applies to a real cluster:
 *
 * - the AWS Load Balancer Controller's webhook serving certificate. The chart's own path without
 *   cert-manager is a self-signed CA and certificate in the Secret
 *   `kube-system/aws-load-balancer-tls`, reused while that Secret exists (the chart's
 *   `keepTLSSecret` lookup). tenkai does the same here, at apply time, so no key is ever
 *   committed or written into a plan: the Secret in the cluster is reused; on the first apply a
 *   new CA and serving certificate (the webhook Service's DNS names, 10 years, as the chart's
 *   genCA/genSignedCert) are made;
 * - the cluster's VPC id, which the controller needs because nodes allow IMDSv2 with hop limit
 *   1 only (the caller reads it from the AWS plane: EKS DescribeCluster).
 */
import "reflect-metadata"; // @peculiar/x509's dependency injection (tsyringe) needs it loaded first
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { TenkaiError } from "../../shared/errors.js";
import type { KubeObject } from "../../shared/planes.js";
import { LATE_VPC_ID } from "../render/alb-controller.js";

/** The chart values' sentinels (data/charts/aws-load-balancer-controller/values.yaml), as rendered: base64. */
const SENTINEL = {
  ca: Buffer.from("tenkai-webhook-tls-ca-cert").toString("base64"),
  cert: Buffer.from("tenkai-webhook-tls-cert").toString("base64"),
  key: Buffer.from("tenkai-webhook-tls-key").toString("base64"),
} as const;

export interface WebhookTls {
  /** Base64 PEM, as the Secret's `ca.crt`, `tls.crt`, `tls.key` and the webhooks' caBundle hold them. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface LateBoundInputs {
  /** The cluster's VPC id; required when the objects carry the late-bound VPC id. */
  readonly vpcId?: string;
  /** Reads a Secret's data (base64 values) from the cluster, or undefined when it does not exist. */
  readonly readSecret: (namespace: string, name: string) => Promise<Record<string, string> | undefined>;
  /** Makes a new CA and serving certificate; injectable for tests. Default: {@link makeWebhookTls}. */
  readonly makeTls?: (dnsNames: readonly string[]) => Promise<WebhookTls>;
}

/** Whether the objects carry values only an apply can fill. */
export function hasLateBound(objects: readonly KubeObject[]): boolean {
  const text = JSON.stringify(objects);
  return text.includes(SENTINEL.ca) || text.includes(LATE_VPC_ID);
}

/** The objects with every late-bound value filled. */
export async function resolveLateBound(
  objects: readonly KubeObject[],
  inputs: LateBoundInputs,
): Promise<KubeObject[]> {
  let text = JSON.stringify(objects);
  if (text.includes(LATE_VPC_ID)) {
    if (!inputs.vpcId) {
      throw new TenkaiError(
        "KUBE_VPC_ID_UNKNOWN",
        "the AWS Load Balancer Controller needs the cluster's VPC id (nodes allow IMDSv2 with hop limit 1 only), and none was found",
        "deploy the AWS plane first (tenkai deploy), make sure AWS credentials can call eks:DescribeCluster, or pass --vpc-id",
      );
    }
    text = text.split(LATE_VPC_ID).join(inputs.vpcId);
  }
  if (text.includes(SENTINEL.ca)) {
    const secret = objects.find(
      (o) => o.kind === "Secret" && o.apiVersion === "v1" && JSON.stringify(o).includes(SENTINEL.key),
    );
    if (!secret?.metadata.namespace) {
      throw new TenkaiError(
        "KUBE_WEBHOOK_TLS_SECRET_MISSING",
        "the rendered webhook configurations name a serving certificate but no Secret holds it",
        "re-render the chart with scripts/render-charts.sh (its values must keep webhookTLS)",
      );
    }
    const live = await inputs.readSecret(secret.metadata.namespace, secret.metadata.name);
    const reuse =
      live?.["ca.crt"] && live["tls.crt"] && live["tls.key"] && live["ca.crt"] !== SENTINEL.ca
        ? { ca: live["ca.crt"], cert: live["tls.crt"], key: live["tls.key"] }
        : undefined;
    const tls = reuse ?? (await (inputs.makeTls ?? makeWebhookTls)(webhookDnsNames(objects)));
    text = text
      .split(SENTINEL.ca)
      .join(tls.ca)
      .split(SENTINEL.cert)
      .join(tls.cert)
      .split(SENTINEL.key)
      .join(tls.key);
  }
  return JSON.parse(text) as KubeObject[];
}

/** DNS names of the Services the webhook configurations call (what the serving certificate covers). */
export function webhookDnsNames(objects: readonly KubeObject[]): string[] {
  const names = new Set<string>();
  for (const o of objects) {
    if (!/^(Mutating|Validating)WebhookConfiguration$/.test(o.kind)) continue;
    for (const w of (o.webhooks as { clientConfig?: { service?: { name: string; namespace: string } } }[]) ??
      []) {
      const s = w.clientConfig?.service;
      if (!s) continue;
      names.add(`${s.name}.${s.namespace}`);
      names.add(`${s.name}.${s.namespace}.svc`);
      names.add(`${s.name}.${s.namespace}.svc.cluster.local`);
    }
  }
  return [...names].sort();
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const TEN_YEARS_MS = 3650 * 24 * 3600 * 1000;

/** A self-signed CA and a serving certificate it signs for the given DNS names (ECDSA P-256, 10 years). */
export async function makeWebhookTls(dnsNames: readonly string[], now = new Date()): Promise<WebhookTls> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const notAfter = new Date(now.getTime() + TEN_YEARS_MS);
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=aws-load-balancer-controller-ca",
    notBefore: now,
    notAfter,
    keys: caKeys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]["keys"],
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dnsNames[0] ?? "aws-load-balancer-webhook-service"}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: (caKeys as webcrypto.CryptoKeyPair).privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: "dns" as const, value }))),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .trimEnd()}\n-----END PRIVATE KEY-----\n`;
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return { ca: b64(`${ca.toString("pem")}\n`), cert: b64(`${cert.toString("pem")}\n`), key: b64(keyPem) };
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");
}
