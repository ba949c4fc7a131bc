/**
 * The platform spec as a zod schema: the single source of the spec's types and of the JSON Schema
 * that ships in `schema/platform.schema.json` and from `tenkai schema`.
 *
 * Field-level rules live here; rules that span fields (unique names, route clashes, Fargate
 * selectors, subnet fit, supported versions) live in `checks.ts` so each can name every place
 * involved.
 */
import { z } from "zod";
import { isCidr } from "./cidr.js";
import { isValidCronSchedule } from "./cron.js";
import { isQuantity } from "./quantity.js";

/** RFC 1123 label, as Kubernetes requires for namespace and most object names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const dnsLabel = (what: string) =>
  z
    .string()
    .min(1, { error: `${what} must not be empty` })
    .max(63, { error: `${what} must be at most 63 characters (a Kubernetes DNS label)` })
    .regex(DNS_LABEL, {
      error: `${what} must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
    });

const iamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/, {
  error: "expected an IAM role ARN like arn:aws:iam::123456789012:role/name",
});

const cidr = z.string().refine(isCidr, { error: "expected an IPv4 CIDR like 10.0.0.0/16" });

const cpuQuantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine(isQuantity, { error: "expected a Kubernetes CPU quantity like 500m, 2 or 0.5" });
const memoryQuantity = z
  .string()
  .refine(isQuantity, { error: "expected a Kubernetes memory quantity like 512Mi or 4Gi" });

const imageTag = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(
    z
      .string()
      .regex(/^[\w][\w.-]{0,127}$/, {
        error: "expected an image tag (letters, digits, '_', '.', '-'; at most 128)",
      })
      .refine((t) => t !== "latest", {
        error: "the tag 'latest' is mutable; pin a version (ECR tags are immutable)",
      }),
  );

/**
 * The registry host of an image reference, if it has one: by Docker's rule, a first path
 * component with a '.' or ':' or equal to `localhost` (docker.io/library/nginx,
 * 123456789012.dkr.ecr.us-east-1.amazonaws.com/app, localhost:5000/app).
 */
export function registryHostOf(image: string): string | undefined {
  const slash = image.indexOf("/");
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
}

/** A repository name under the tenant's ECR prefix, e.g. `users-api` or `jobs/report`. */
const imageRepository = z
  .string()
  .refine((v) => registryHostOf(v) === undefined, {
    error: (issue) => {
      const image = String(issue.input);
      const host = registryHostOf(image) ?? "";
      return `"${host}" is a registry host: an image here is a repository name in the tenant's own ECR prefix (<platform>/<tenant>/<name>), never a reference to another registry or account`;
    },
    params: {
      fix: "push the image to the tenant's ECR prefix and write only the repository name, e.g. image: nginx (tenkai prefixes <account>.dkr.ecr.<region>.amazonaws.com/<platform>/<tenant>/)",
    },
    abort: true,
  })
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
    error:
      "expected an ECR repository name under the tenant's prefix, like users-api (no registry host, no tag)",
  });

const resources = z.strictObject({
  cpu: cpuQuantity.default("250m").describe("CPU request per pod; the limit defaults to the same value."),
  memory: memoryQuantity.default("256Mi").describe("Memory request and limit per pod."),
});

const awsAccess = z.strictObject({
  allow: z
    .array(
      z.strictObject({
        actions: z
          .array(
            z
              .string()
              .regex(/^[a-z0-9-]+:[A-Za-z0-9*]+$/, { error: "expected an IAM action like s3:GetObject" }),
          )
          .min(1),
        resources: z
          .array(
            z
              .string()
              .regex(/^arn:/, { error: "expected a resource ARN (wildcard '*' alone is not allowed)" }),
          )
          .min(1),
      }),
    )
    .min(1),
  podIdentity: z
    .boolean()
    .default(false)
    .describe("Use EKS Pod Identity instead of IRSA (EC2 node groups only; not on Fargate)."),
});

const route = z.strictObject({
  host: z.string().regex(/^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, {
    error: "expected a DNS host name like api.example.com",
  }),
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, { error: "expected an absolute URL path like /users" })
    .describe("Path prefix routed to this service by the shared ALB."),
});

export const ServiceSchema = z.strictObject({
  name: dnsLabel("service name"),
  image: imageRepository.describe("Repository under <platform>/<tenant>/ in ECR."),
  tag: imageTag,
  port: z.number().int().min(1).max(65535),
  replicas: z.number().int().min(1).max(1000).default(2),
  autoscale: z
    .strictObject({
      min: z.number().int().min(1),
      max: z.number().int().min(1).max(1000),
      targetCpuPercent: z.number().int().min(10).max(100).default(70),
    })
    .optional()
    .describe("HorizontalPodAutoscaler bounds; defaults to replicas..replicas*3."),
  resources: resources.default({ cpu: "250m", memory: "256Mi" }),
  healthPath: z.string().regex(/^\//).default("/healthz"),
  route: route.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  aws: awsAccess.optional(),
  database: z.boolean().default(false).describe("Give the service the tenant's database credentials."),
  compute: z.enum(["ec2", "fargate"]).default("ec2"),
  shutdown: z
    .strictObject({
      preStopSeconds: z
        .number()
        .int()
        .min(0)
        .max(3600)
        .optional()
        .describe(
          "Seconds a stopping pod keeps serving before its container is signalled; must exceed spec.ingress.deregistrationDelaySeconds. Default: that delay + 5.",
        ),
      gracePeriodSeconds: z
        .number()
        .int()
        .min(1)
        .max(7200)
        .optional()
        .describe("terminationGracePeriodSeconds; must exceed preStopSeconds. Default: preStopSeconds + 15."),
    })
    .optional()
    .describe("How a pod stops without dropping requests through the ALB."),
});

export const CronJobSchema = z.strictObject({
  name: dnsLabel("cron job name").max(52, {
    error: "cron job name must be at most 52 characters (Kubernetes CronJob limit)",
  }),
  schedule: z.string().refine(isValidCronSchedule, {
    error:
      "expected a cron schedule of five fields (minute hour day-of-month month day-of-week) or @hourly/@daily/@weekly/@monthly/@yearly",
  }),
  timeZone: z.string().optional(),
  image: imageRepository,
  tag: imageTag,
  command: z.array(z.string()).optional(),
  concurrencyPolicy: z.enum(["Allow", "Forbid", "Replace"]).default("Forbid"),
  resources: resources.default({ cpu: "250m", memory: "256Mi" }),
  aws: awsAccess.optional(),
  database: z.boolean().default(false),
  compute: z.enum(["ec2", "fargate"]).default("ec2"),
});

/** Per-kind object counts a tenant's ResourceQuota holds (src/kube/tenant-quota.ts sizes the unset ones). */
const objectCount = z.number().int().min(0).max(100000).optional();
const objectCounts = z.strictObject({
  configMaps: objectCount,
  secrets: objectCount,
  services: objectCount,
  serviceAccounts: objectCount,
  deployments: objectCount,
  replicaSets: objectCount,
  statefulSets: objectCount,
  jobs: objectCount,
  cronJobs: objectCount,
  horizontalPodAutoscalers: objectCount,
  podDisruptionBudgets: objectCount,
  leases: objectCount,
});

export const AccessLevel = z.enum(["view", "edit", "admin"]);

export const TenantSchema = z.strictObject({
  name: dnsLabel("tenant name").max(40, {
    error: "tenant name must be at most 40 characters (it prefixes IAM and ECR names)",
  }),
  access: z.array(z.strictObject({ role: iamRoleArn, level: AccessLevel })).default([]),
  ciRole: iamRoleArn
    .optional()
    .describe("Role the tenant's CI assumes; may push only to the tenant's ECR prefix."),
  quota: z
    .strictObject({
      cpu: cpuQuantity.default("8"),
      memory: memoryQuantity.default("16Gi"),
      pods: z.number().int().min(1).max(10000).default(50),
      ephemeralStorage: memoryQuantity
        .default("20Gi")
        .describe("Local disk (container writable layers, logs, emptyDir) all the tenant's pods may use."),
      objects: objectCounts
        .default({})
        .describe(
          "Most objects of each kind the tenant may hold; unset counts are sized from the spec (what tenkai makes plus room). Ingresses are always one per declared route.",
        ),
    })
    .default({ cpu: "8", memory: "16Gi", pods: 50, ephemeralStorage: "20Gi", objects: {} }),
  services: z.array(ServiceSchema).default([]),
  cronJobs: z.array(CronJobSchema).default([]),
});

const taint = z.strictObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

export const NodeGroupSchema = z.strictObject({
  name: dnsLabel("node group name").max(30, {
    error: "node group name must be at most 30 characters (the slot suffix is added)",
  }),
  instanceTypes: z
    .array(
      z
        .string()
        .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "expected an EC2 instance type like m6i.large" }),
    )
    .min(1),
  min: z.number().int().min(0),
  max: z.number().int().min(1).max(450),
  desired: z.number().int().min(0).optional(),
  activeSlot: z.enum(["blue", "green"]).default("blue"),
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
  diskSizeGiB: z.number().int().min(20).max(16384).default(50),
  labels: z.record(z.string(), z.string()).default({}),
  taints: z.array(taint).default([]),
});

export const FargateProfileSchema = z.strictObject({
  name: dnsLabel("Fargate profile name"),
  selectors: z
    .array(
      z.strictObject({
        namespace: z.string().min(1),
        labels: z.record(z.string(), z.string()).default({}),
      }),
    )
    .min(1)
    .max(5, { error: "a Fargate profile takes at most 5 selectors (EKS limit)" }),
});

/** CloudWatch Logs accepts only these retention values (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const clusterSchema = z.strictObject({
  version: z
    .union([z.string(), z.number()])
    .transform((v) => (typeof v === "number" ? v.toFixed(2).replace(/0$/, "") : v))
    .pipe(
      z
        .string()
        .regex(/^1\.\d{2}$/, { error: 'expected a Kubernetes minor version like "1.35" (quote it in YAML)' }),
    ),
  endpoint: z
    .strictObject({
      private: z.boolean().default(true),
      public: z.boolean().default(false),
      publicCidrs: z.array(cidr).default([]),
    })
    .default({ private: true, public: false, publicCidrs: [] }),
  adminRoles: z
    .array(iamRoleArn)
    .default([])
    .describe("Roles given cluster-admin through access entries (the platform team)."),
  creatorAdmin: z
    .boolean()
    .default(false)
    .describe(
      "Give the identity that deploys the cluster stack cluster-admin too (EKS bootstrapClusterCreatorAdminPermissions).",
    ),
  addonVersions: z
    .record(
      z.string(),
      z.string().regex(/^v?\d+\.\d+\.\d+/, { error: "expected a version like v1.21.1-eksbuild.7" }),
    )
    .default({})
    .describe(
      "Add-on versions other than data/eks-addons.json's for this Kubernetes version, by add-on name.",
    ),
  supportType: z.enum(["STANDARD", "EXTENDED"]).default("STANDARD"),
});

export const SpecSchema = z.strictObject({
  target: z.enum(["aws", "local"]).default("aws"),
  aws: z.strictObject({
    account: z
      .string()
      .regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id in quotes, like "123456789012"' }),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: "expected an AWS region like ap-northeast-1" }),
  }),
  cluster: clusterSchema,
  network: z
    .strictObject({
      vpcCidr: cidr.default("10.0.0.0/16"),
      azs: z.number().int().min(2).max(3).default(3),
      natGateways: z.number().int().min(1).max(3).optional().describe("Defaults to one per AZ."),
      serviceCidr: cidr
        .default("172.20.0.0/16")
        .describe(
          "The cluster's Service range (EKS serviceIpv4Cidr); outside the VPC. NetworkPolicies keep tenants' HTTPS egress out of it.",
        ),
    })
    .default({ vpcCidr: "10.0.0.0/16", azs: 3, serviceCidr: "172.20.0.0/16" }),
  nodeGroups: z
    .array(NodeGroupSchema)
    .min(1, { error: "at least one node group is needed for the system add-ons" }),
  fargate: z.strictObject({ profiles: z.array(FargateProfileSchema).default([]) }).default({ profiles: [] }),
  ingress: z
    .strictObject({
      scheme: z.enum(["internet-facing", "internal"]).default("internet-facing"),
      certificateArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/, {
          error: "expected an ACM certificate ARN",
        })
        .optional(),
      groupName: dnsLabel("ingress group name").default("tenkai"),
      maxRulesPerAlb: z.number().int().min(1).max(100).default(100),
      deregistrationDelaySeconds: z
        .number()
        .int()
        .min(0)
        .max(3600)
        .default(30)
        .describe("Target group deregistration delay: how long the ALB drains a target it removes."),
    })
    .default({
      scheme: "internet-facing",
      groupName: "tenkai",
      maxRulesPerAlb: 100,
      deregistrationDelaySeconds: 30,
    }),
  database: z
    .strictObject({
      engine: z.literal("aurora-postgresql"),
      version: z
        .string()
        .regex(/^\d{2}\.\d+$/, { error: 'expected an Aurora PostgreSQL version like "16.9"' }),
      minCapacity: z.number().min(0).max(256).default(0.5),
      maxCapacity: z.number().min(1).max(256).default(8),
      backupRetentionDays: z.number().int().min(1).max(35).default(7),
      deletionProtection: z.boolean().default(true),
    })
    .optional(),
  registry: z
    .strictObject({
      scanOnPush: z.boolean().default(true),
      enhancedScanning: z.boolean().default(false),
      immutableTags: z.boolean().default(true),
      blockSeverity: z.enum(["CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"]).default("CRITICAL"),
      keepImages: z.number().int().min(1).max(1000).default(30),
    })
    .default({
      scanOnPush: true,
      enhancedScanning: false,
      immutableTags: true,
      blockSeverity: "CRITICAL",
      keepImages: 30,
    }),
  logging: z
    .strictObject({
      retentionDays: z
        .number()
        .int()
        .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
          error: `CloudWatch Logs retention must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
        })
        .default(30),
    })
    .default({ retentionDays: 30 }),
  tenants: z.array(TenantSchema).default([]),
});

/** Per-environment overlay: a partial spec deep-merged over `spec` (arrays replace). */
export const EnvironmentSchema = z.strictObject({
  aws: SpecSchema.shape.aws.partial().optional(),
  cluster: z
    .strictObject({
      version: clusterSchema.shape.version.optional(),
      endpoint: clusterSchema.shape.endpoint.optional(),
      adminRoles: clusterSchema.shape.adminRoles.optional(),
    })
    .optional(),
  network: z.record(z.string(), z.unknown()).optional(),
  nodeGroups: z.array(z.record(z.string(), z.unknown())).optional(),
  context: z.string().optional().describe("kubeconfig context that reaches this environment's cluster."),
  promotesTo: z.string().optional().describe("Environment that a change verified here may be promoted to."),
});

export const PlatformSchema = z.strictObject({
  apiVersion: z.literal("tenkai.dev/v1alpha1", { error: "apiVersion must be tenkai.dev/v1alpha1" }),
  kind: z.literal("Platform", { error: "kind must be Platform" }),
  metadata: z.strictObject({
    name: dnsLabel("platform name").max(24, {
      error: "platform name must be at most 24 characters (it prefixes AWS resource names)",
    }),
  }),
  spec: SpecSchema,
  environments: z.record(dnsLabel("environment name"), EnvironmentSchema).default({}),
});

/** The spec as written (before defaults). */
export type PlatformInput = z.input<typeof PlatformSchema>;
/** The validated platform with every default filled: what every other module takes. */
export type Platform = z.output<typeof PlatformSchema>;
export type Tenant = Platform["spec"]["tenants"][number];
export type Service = Tenant["services"][number];
export type CronJob = Tenant["cronJobs"][number];
export type NodeGroup = Platform["spec"]["nodeGroups"][number];
export type FargateProfile = Platform["spec"]["fargate"]["profiles"][number];
