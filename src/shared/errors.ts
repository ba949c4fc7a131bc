/**
 * Typed errors that callers branch on by `code`, never by message text (STYLE.md 2 and 3).
 * Every error says how to fix it; ids travel in fields (`details`), not only in the message.
 *
 * The codes are a fixed list: `ERROR_CODES` below is the only place a code is made, each with
 * what it means; docs/architecture.md lists them (a test keeps the two equal). Exit codes: a
 * `SPEC_` or `CLI_` code is bad input (2); every other code is a failed operation (1).
 */
export const ERROR_CODES = {
  // Bad input: the spec.
  SPEC_INVALID: "the spec has errors; each is in `problems` with its own SPEC_ code, place and fix",
  SPEC_UNREADABLE: "the spec file could not be read",
  SPEC_MODULE_FAILED: "a platform.ts spec threw or did not load",
  SPEC_YAML_SYNTAX: "platform.yaml is not valid YAML (tenant edits)",
  SPEC_NO_SPEC: "platform.yaml has no `spec` mapping (tenant edits)",
  SPEC_TENANTS_NOT_LIST: "`spec.tenants` is not a list (tenant edits)",
  // Bad input: the command line.
  CLI_BAD_OUTPUT: "--output is not text or json",
  CLI_BAD_PLANE: "--plane is not aws, kubernetes or all",
  CLI_BAD_LEVEL: "--level is not view, edit or admin",
  CLI_BAD_MODE: "--mode is not auto, exhaustive or targeted",
  CLI_BAD_CONCURRENCY: "--concurrency is not a positive integer",
  CLI_BAD_PROVIDER: "--provider is not eks, kwok or local",
  CLI_BAD_CHECKS: "--checks is not access, network or both",
  CLI_BAD_BASELINE: "--baseline is not a file written by verify network --save-baseline",
  CLI_BAD_DURATION: "a duration flag is not like 90s, 30m or 1h",
  CLI_BAD_NUMBER: "a count flag is not a positive integer",
  CLI_UNKNOWN_NODE_GROUP: "the node group named is not in the spec",
  CLI_CONFIRM_REQUIRED: "a destructive command needs --yes without a terminal",
  CLI_FILE_EXISTS: "the file to write exists already (pass --force)",
  CLI_MISSING_TO: "upgrade plan was not given --to",
  CLI_BAD_VERSION: "--to is not a Kubernetes minor like 1.37",
  CLI_BAD_PATH: "a manifest path given on the command line does not exist",
  CLI_BAD_ADDONS: "--addons is not a readable JSON add-on table",
  CLI_TARGET_BEHIND: "--to is older than the control plane (Kubernetes does not downgrade)",
  CLI_BAD_FLAG: "a flag's value would make an invalid spec (init --name, --account, --region)",
  CLI_OUT_NOT_OURS: "--out names a non-empty directory tenkai did not make",
  CLI_OUT_HOLDS_SPEC: "--out would write over the spec being planned",
  CLI_OUT_NOT_DIRECTORY: "--out names a file, not a directory",
  CLI_AGAINST_NOT_A_PLAN: "--against names a directory without a previous plan's manifests",
  CLI_BAD_ALLOW_IMAGE: "an --allow-image names no image the spec runs",
  CLI_BAD_SINCE: "--since is neither a duration nor a date",
  CLI_BAD_FLAGS: "flags that exclude each other were given together",
  CLI_BAD_REGION: "--region is not an AWS region, or is not the region of the spec's stacks",
  CLI_NO_QUERY: "logs was given an empty query",
  CLI_UNKNOWN_TENANT: "the tenant named is not in the spec",
  CLI_UNKNOWN_SERVICE: "the tenant has no service or cron job of that name",
  CLI_UNKNOWN_QUERY: "no saved Logs Insights query of that name",
  CLI_NO_DATABASE: "the spec declares no database",
  // Writing files.
  INIT_WRITE_FAILED: "the starter platform.yaml could not be written",
  TENANT_EXISTS: "the tenant to add is in the spec already",
  TENANT_NOT_FOUND: "the tenant to remove is not in the spec",
  // Plan.
  COST_NO_PRICES: "the price table has no prices for the region",
  PLAN_OUT_UNREADABLE: "the plan output directory could not be read",
  // The AWS plane.
  AWS_NO_CREDENTIALS: "no AWS credentials were found",
  AWS_NOT_BOOTSTRAPPED: "the account/region is not bootstrapped for the CDK",
  AWS_DEPLOY_FAILED: "a stack failed to deploy (the failing stack event is in the message)",
  AWS_DIFF_FAILED: "change sets could not be made",
  AWS_DESTROY_FAILED: "a stack failed to delete",
  AWS_STACK_STUCK: "a stack stayed in progress (CREATE, UPDATE or DELETE_IN_PROGRESS) past the wait bound",
  AWS_UNKNOWN_STACK: "a --stack name is not one of the platform's stacks",
  AWS_UNKNOWN_NODE_GROUP: "a --rotating node group is not in the spec",
  AWS_ALLOW_REACHES_OTHERS: "an aws.allow pattern would reach another tenant's or the platform's resources",
  AWS_ASSEMBLY_CYCLE: "the cloud assembly's stacks depend on each other in a circle",
  AWS_STACK_TOO_LARGE: "a tenant stack would pass CloudFormation's 500-resource limit",
  AWS_BAD_TENANTS_PER_STACK: "tenants per stack is not a positive integer",
  AWS_BAD_STACKS_PER_BATCH: "tenant stacks per synthesis batch is not a positive integer",
  AWS_ASSEMBLY_MERGE: "the tenant stack batches could not be merged into one cloud assembly",
  AWS_LBC_POLICY_MISSING: "no pinned IAM policy for the ALB controller's version",
  AWS_ADDON_UNPINNED: "no pinned add-on version for the cluster's Kubernetes version",
  AWS_TENANT_SECRET_UNREADABLE: "a tenant's database secret could not be read",
  AWS_TENANT_SQL_FAILED: "a tenant database statement failed",
  AWS_DATABASE_NOT_DEPLOYED: "the Aurora cluster does not exist yet (deploy the data stack)",
  AWS_DATA_API_DISABLED: "the RDS Data API is off on the Aurora cluster",
  AWS_DATABASE_NO_MASTER_SECRET: "the Aurora cluster has no RDS-managed master secret",
  AWS_ACCESS_DENIED: "the caller's AWS credentials may not make a call tenkai needs",
  AWS_CALL_FAILED: "an AWS API call failed; the SDK error is the cause",
  IMAGE_NOT_FOUND: "the image gate found no such repository or tag in ECR",
  IMAGE_SCAN_INCOMPLETE: "the image gate found an image never scanned, still scanning, or whose scan failed",
  IMAGE_VULNERABLE: "the image gate found findings at or above registry.blockSeverity",
  LOGS_ACCESS_DENIED: "the caller may not read the tenant's log group",
  LOGS_GROUP_NOT_FOUND: "the tenant's log group does not exist",
  LOGS_QUERY_FAILED: "a Logs Insights query ended Failed, Cancelled or Timeout",
  LOGS_QUERY_TIMEOUT: "a Logs Insights query did not finish in time",
  LOGS_ALB_QUERY_NOT_FOUND: "the ALB access-log workgroup has no saved per-path query (deploy first)",
  LOGS_ALB_QUERY_FAILED: "the Athena query over the ALB access logs ended FAILED or CANCELLED",
  LOGS_ALB_QUERY_TIMEOUT: "the Athena query over the ALB access logs did not finish in time",
  // The Kubernetes API (one per metav1.Status reason; see kube-errors.ts).
  KUBE_NO_KUBECONFIG: "no kubeconfig was found",
  KUBE_UNKNOWN_CONTEXT: "the kubeconfig has no such context",
  KUBE_NO_CLUSTER: "the context names no cluster",
  KUBE_UNREACHABLE: "the API server did not answer",
  KUBE_DISCOVERY_EMPTY: "the API server listed no resources",
  KUBE_UNKNOWN_KIND: "the API server does not serve a kind tenkai applies",
  KUBE_DUPLICATE_OBJECT: "the rendered plane has the same object twice",
  KUBE_CHART_VALUE_MISSING: "a rendered chart needs a value tenkai did not give",
  KUBE_VPC_ID_UNKNOWN: "the cluster's VPC id (for the ALB controller) is unknown",
  KUBE_WEBHOOK_TLS_SECRET_MISSING: "the rendered webhooks name a certificate no Secret holds",
  KUBE_OTHER_PLATFORM: "the cluster runs another tenkai platform",
  KUBE_APPLY_CONFLICT: "another field manager owns fields tenkai sets",
  KUBE_CRD_NOT_ESTABLISHED: "a CRD did not become Established in time",
  KUBE_ROLLOUT_TIMEOUT: "workloads did not roll out in time",
  KUBE_ALB_HOST_OVER_LIMIT: "one host has more paths than an ALB takes",
  KUBE_API_BAD_REQUEST: "the API server refused the request as malformed (400)",
  KUBE_API_UNAUTHORIZED: "the credentials were refused (401)",
  KUBE_API_FORBIDDEN: "the identity may not do this (403)",
  KUBE_API_NOT_FOUND: "the object or resource does not exist (404)",
  KUBE_API_ALREADY_EXISTS: "the object exists already (409)",
  KUBE_API_CONFLICT: "the object changed, or a field is owned by another manager (409)",
  KUBE_API_GONE: "the resource version is too old (410)",
  KUBE_API_INVALID: "the object failed validation or admission (422)",
  KUBE_API_TOO_MANY_REQUESTS: "throttled, or a disruption budget allows nothing now (429)",
  KUBE_API_SERVER_ERROR: "the API server failed (5xx)",
  KUBE_API_TIMEOUT: "the API server timed out (504 or a Timeout reason)",
  KUBE_API_ERROR: "any other API error; the status is in the message",
  // Node providers (NodeProviderError reasons).
  PROVIDER_ALREADY_EXISTS_DIFFERENT: "the slot exists with another spec",
  PROVIDER_THROTTLED: "the provider API kept throttling",
  PROVIDER_CREATE_FAILED: "the provider could not create the slot",
  PROVIDER_DELETE_FAILED: "the provider could not delete the slot",
  PROVIDER_UNAVAILABLE: "the provider API was unavailable",
  // Node rotation.
  ROTATION_BLOCKED: "the plan found blockers; each is in `problems`",
  ROTATION_ROLLING_BACK: "a rollback was stopped halfway; finish it first",
  ROTATION_NOTHING_TO_ROLL_BACK: "no rotation is recorded for the node group",
  ROTATION_TOO_LATE: "the old slot is deleted already; rotate again instead",
  ROTATION_STATE_UNAVAILABLE: "the rotation record could not be read or written",
  ROTATION_STATE_CORRUPT: "the rotation record is not one tenkai wrote",
  ROTATION_LIST_FAILED: "nodes, pods or workloads could not be listed",
  ROTATION_GREEN_FAILED: "the new slot failed in the provider",
  ROTATION_CORDON_FAILED: "a node could not be cordoned or uncordoned",
  ROTATION_EVICTION_FAILED: "an eviction kept failing with other than 429",
  ROTATION_SURGE_FAILED: "a single-replica Deployment could not be surged or scaled back",
  ROTATION_PODS_LEFT: "workload pods are still on the old slot",
  ROTATION_DELETE_FAILED: "the old slot could not be deleted",
  ROTATION_TIMEOUT: "a wait passed --timeout",
  ROTATION_READ_FAILED: "a workload could not be read while waiting for it (never counted as ready)",
  ROTATION_TARGETS_UNHEALTHY:
    "moved pods did not become healthy load balancer targets in time; the old slot is kept",
  POD_UNREPLICATED: "a pod no controller re-creates would be evicted",
  POD_EMPTYDIR: "a pod with emptyDir data would be evicted",
  POD_MULTIPLE_BUDGETS: "a pod is covered by several PodDisruptionBudgets",
  // The local cluster (tenkai local, the local node provider).
  LOCAL_BUILD_FAILED: "cluster/ensure.sh could not build the local cluster binaries",
  LOCAL_CLUSTER_FAILED: "cluster/up.sh could not start the local control plane",
  LOCAL_ADDONS_FAILED: "cluster/addons.sh could not install cluster DNS",
  LOCAL_NODES_NOT_READY: "a node group's nodes were not Ready in time",
  LOCAL_NO_IMAGES: "cluster/images/images.env is missing or incomplete",
  LOCAL_NO_CLUSTER_DIR: "no local cluster directory was given or found beside the kubeconfig",
  LOCAL_DOWN_FAILED: "cluster/down.sh could not stop the local cluster",
  LOCAL_PLANE_UNEXPECTED: "the rendered plane does not have the shape the local plane adapts (a bug)",
  // Upgrades.
  UPGRADE_BAD_VERSION: "a version is not a Kubernetes 1.x minor",
  UPGRADE_TARGET_BEHIND: "the target is older than the control plane",
  UPGRADE_UNKNOWN_VERSION: "the control plane's version could not be read",
  UPGRADE_BAD_PATH: "a manifest path does not exist",
  UPGRADE_HELM_UNREADABLE: "a Helm release Secret could not be decoded",
  UPGRADE_EKS_ADDONS_UNAVAILABLE: "EKS DescribeAddonVersions failed (no credentials, throttled)",
  UPGRADE_RUN_BLOCKED: "the upgrade plan found blockers; each is in `problems`",
  UPGRADE_RUN_IN_PROGRESS: "an upgrade to another target is recorded unfinished; finish it first",
  UPGRADE_STATE_UNAVAILABLE: "the upgrade record could not be read or written",
  UPGRADE_STATE_CORRUPT: "the upgrade record is not one tenkai wrote",
  UPGRADE_PREDECESSOR_NOT_VERIFIED:
    "the environment that promotes here has not passed this target with a green verification",
  UPGRADE_PREDECESSOR_UNREADABLE:
    "the record of the environment that promotes here could not be read (its cluster unreachable, no context); it never counts as passed",
  UPGRADE_CONTROL_PLANE_FAILED: "the control plane did not reach the target version",
  UPGRADE_NO_RELEASE: "no Kubernetes release of the target minor is available to run",
  UPGRADE_ADDON_FAILED: "an add-on update failed or did not roll out",
  UPGRADE_ADDON_MANUAL: "a chart add-on must be moved by tenkai apply before the run goes on",
  UPGRADE_NODES_BEHIND: "after its rotation a node group's nodes do not run the target version",
  UPGRADE_VERIFY_FAILED: "the verification after the upgrade was not green",
  UPGRADE_BASELINE_NOT_GREEN:
    "the verification failed before the upgrade changed anything, so the run did not start",
  UPGRADE_STEP_TIMEOUT: "an upgrade step passed --timeout",
  // Verification.
  PROBE_FAILED: "an isolation probe could not be run",
  VERIFY_NO_REAL_NODES: "network probes need real nodes and the cluster has none",
  VERIFY_PROBE_POD_FAILED: "the network probe pod could not be started in a tenant namespace",
  VERIFY_PROBES_FAILED: "the network probe DaemonSets could not be set up",
  // Anything not foreseen (a bug): the CLI prints the stack.
  INTERNAL: "an unexpected error; please report it with the stack",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TenkaiErrorOptions {
  readonly cause?: unknown;
  /** Ids and counts for scripts (`-o json` prints them under `error.details`). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Every problem found, when there are several (spec problems, rotation blockers). */
  readonly problems?: readonly unknown[];
}

export class TenkaiError extends Error {
  override name = "TenkaiError";
  readonly details?: Readonly<Record<string, unknown>>;
  readonly problems?: readonly unknown[];
  constructor(
    /** Stable code from ERROR_CODES, e.g. `SPEC_INVALID`. */
    readonly code: ErrorCode,
    message: string,
    /** What the user can do about it. */
    readonly fix?: string,
    options?: TenkaiErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.details) this.details = options.details;
    if (options?.problems) this.problems = options.problems;
  }
}

export function isTenkaiError(err: unknown, code?: ErrorCode): err is TenkaiError {
  return err instanceof TenkaiError && (code === undefined || err.code === code);
}

/** 2 for bad input (the spec or flags), 1 for a failed operation. */
export function exitCodeOf(code: string): 1 | 2 {
  return code.startsWith("SPEC_") || code.startsWith("CLI_") ? 2 : 1;
}
