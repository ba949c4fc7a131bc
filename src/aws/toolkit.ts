/**
 * Deploy, diff and destroy the AWS plane's cloud assembly through `@aws-cdk/toolkit-lib`.
 *
 * The toolkit's messages arrive at an IoHost; tenkai's turns them into typed events
 * (`AwsPlaneEvent`) for an injected sink and never prints (STYLE.md 6). Toolkit errors become
 * TenkaiErrors with a stable code and a fix (no credentials, no bootstrap, a failed stack).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BaseCredentials,
  BootstrapEnvironments,
  DiffMethod,
  type IIoHost,
  type IoMessage,
  type IoRequest,
  StackSelectionStrategy,
  type StackSelector,
  Toolkit,
  ToolkitError,
} from "@aws-cdk/toolkit-lib";
import { TenkaiError } from "../shared/errors.js";
import { type EventLevel, type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";

export type AwsPlaneAction = "deploy" | "diff" | "destroy";

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

/** What the AWS plane reports while it works (shared/events.ts; ids in `data`). */
export type AwsPlaneEvent =
  | Ev<"aws.plan", { action: AwsPlaneAction; stacks: readonly string[] }>
  | Ev<"aws.stack.start", { action: AwsPlaneAction; stack: string; current: number; total: number }>
  | Ev<
      "aws.resource",
      {
        stack: string;
        logicalId: string;
        resourceType: string;
        status: string;
        reason?: string | undefined;
        progress?: string | undefined;
      }
    >
  | Ev<"aws.stack.done", { action: AwsPlaneAction; stack: string }>
  | Ev<"aws.stack.diff", { stack: string; changes: number; securityChanges: boolean }>
  /** A toolkit warning or error, with the toolkit's own message code (`CDK_TOOLKIT_...`). */
  | Ev<"aws.log", { toolkitCode?: string | undefined }>;

export type AwsEventSink = EventSink<AwsPlaneEvent>;

export interface AwsToolkitOptions {
  /** The cloud assembly directory (`tenkai plan --out <dir>` writes `<dir>/cdk.out`). */
  readonly assemblyDir: string;
  /** Where progress events go (shared/events.ts). Default: nowhere. */
  readonly sink?: AwsEventSink;
  /** Stack names to act on. Default: every stack of the assembly. */
  readonly stacks?: readonly string[];
  /** AWS profile for credentials. Default: the SDK's default chain (env, SSO, instance role). */
  readonly profile?: string;
  /** A Toolkit to use instead of a new one (tests inject one with their own IoHost). */
  readonly toolkit?: Toolkit;
  /**
   * How long one stack may stay in progress while the toolkit waits on it before tenkai gives up
   * with AWS_STACK_STUCK (the toolkit itself polls for ever). Default: 60 minutes, above what
   * CloudFormation takes for the slowest resource tenkai makes (an EKS cluster, ~15 min; a managed
   * node group update drains nodes within its own 60-minute limit).
   */
  readonly stackWaitTimeoutMs?: number;
  /** How often the toolkit polls a stack's status and events. Default: the toolkit's, 2 s. */
  readonly pollIntervalMs?: number;
}

/** Default bound of one stack's wait; see {@link AwsToolkitOptions.stackWaitTimeoutMs}. */
export const STACK_WAIT_TIMEOUT_MS = 60 * 60_000;

interface ManifestArtifact {
  readonly type: string;
  readonly dependencies?: readonly string[];
  readonly properties?: { readonly templateFile?: string };
}

/**
 * The assembly's stacks in deploy order (dependencies first); destroy runs it backwards. Read
 * from `manifest.json`, so it needs no AWS call.
 */
export function deployOrder(assemblyDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, "manifest.json"), "utf8")) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(
    ([, a]) => a.type === "aws:cloudformation:stack",
  );
  const names = new Set(stacks.map(([n]) => n));
  const deps = new Map(stacks.map(([n, a]) => [n, (a.dependencies ?? []).filter((d) => names.has(d))]));
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (n: string) => {
    if (order.includes(n)) return;
    if (visiting.has(n))
      throw new TenkaiError("AWS_ASSEMBLY_CYCLE", `stack ${n} depends on itself`, "re-run tenkai plan");
    visiting.add(n);
    for (const d of deps.get(n) ?? []) visit(d);
    visiting.delete(n);
    order.push(n);
  };
  for (const [n] of stacks) visit(n);
  return order;
}

/**
 * The toolkit's wait on a stack (`stabilizeStack`) says on every poll, at debug level, "Stack X
 * has an ongoing operation in progress and is not stable (STATUS)". Its loop has no bound and
 * no abort: failing this notification is the one way to end it (the error propagates out of
 * the toolkit's deploy or destroy). Pinned by src/aws/toolkit.test.ts and the stack provider's
 * stuck-stack test, which fail if the toolkit words it differently.
 */
const IN_PROGRESS_POLL = /^Stack (\S+) has an ongoing operation in progress and is not stable \((\w+)\)/;

/**
 * An IoHost that turns toolkit messages into AwsPlaneEvents and answers requests. `stuck` is set
 * when it ended the toolkit's wait on a stack (the toolkit rethrows that as its own failure,
 * without a cause, so the caller reads it here).
 */
export function eventIoHost(
  sink: AwsEventSink | undefined,
  action: AwsPlaneAction,
  stackWaitTimeoutMs = STACK_WAIT_TIMEOUT_MS,
  now: () => number = Date.now,
): IIoHost & { readonly stuck: TenkaiError | undefined } {
  const waitingSince = new Map<string, number>();
  let stuck: TenkaiError | undefined;
  return {
    get stuck() {
      return stuck;
    },
    async notify(msg: IoMessage<unknown>) {
      const poll = msg.level === "debug" ? IN_PROGRESS_POLL.exec(msg.message) : null;
      if (poll) {
        const [, stack = "", status = ""] = poll;
        const since = waitingSince.get(stack) ?? now();
        waitingSince.set(stack, since);
        if (now() - since > stackWaitTimeoutMs) {
          stuck = stackStuck(stack, status, stackWaitTimeoutMs, action);
          throw stuck;
        }
      }
      const event = toEvent(msg, action);
      if (event) sink?.({ time: msg.time.toISOString(), ...event } as AwsPlaneEvent);
    },
    async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
      // CDK_TOOLKIT_I7010 asks to confirm a destroy: the CLI has already asked (or got --yes).
      if (msg.code === "CDK_TOOLKIT_I7010") return true as T;
      // Other requests (security-change approval on deploy) take the toolkit's default answer.
      return msg.defaultResponse;
    },
  };
}

function stackStuck(stack: string, status: string, ms: number, action: AwsPlaneAction): TenkaiError {
  const waited = ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
  return new TenkaiError(
    "AWS_STACK_STUCK",
    `cannot ${action} stack ${stack}: it is still ${status} after ${waited}; tenkai stopped waiting (CloudFormation goes on with it)`,
    `look at the stack's events (aws cloudformation describe-stack-events --stack-name ${stack}); when it finishes, run the command again; when it hangs, cancel it (aws cloudformation cancel-update-stack --stack-name ${stack} for an update) and run the command again once it has rolled back`,
  );
}

type Unstamped = { level: EventLevel; code: AwsPlaneEvent["code"]; message: string; data: object };

function toEvent(msg: IoMessage<unknown>, action: AwsPlaneAction): Unstamped | undefined {
  const data = msg.data as Record<string, unknown> | undefined;
  switch (msg.code) {
    case "CDK_TOOLKIT_I5100": // StackDeployProgress
    case "CDK_TOOLKIT_I7100": {
      // StackDestroyProgress
      const p = data as { total: number; current: number; stack: { stackName: string } };
      return {
        level: "info",
        code: "aws.stack.start",
        message: `${action === "destroy" ? "destroying" : "deploying"} ${p.stack.stackName} (${p.current}/${p.total})`,
        data: { action, stack: p.stack.stackName, current: p.current, total: p.total },
      };
    }
    case "CDK_TOOLKIT_I5502": {
      // StackActivity: one CloudFormation stack event
      const a = data as {
        event: {
          StackName?: string;
          LogicalResourceId?: string;
          ResourceType?: string;
          ResourceStatus?: string;
          ResourceStatusReason?: string;
        };
        progress?: { formatted?: string };
      };
      const e = a.event;
      return {
        level: /FAILED/.test(e.ResourceStatus ?? "") ? "warn" : "debug",
        code: "aws.resource",
        data: {
          stack: e.StackName ?? "",
          logicalId: e.LogicalResourceId ?? "",
          resourceType: e.ResourceType ?? "",
          status: e.ResourceStatus ?? "",
          reason: e.ResourceStatusReason,
          progress: a.progress?.formatted,
        },
        message:
          `${e.StackName} ${a.progress?.formatted ?? ""} ${e.ResourceStatus} ${e.ResourceType} ${e.LogicalResourceId}${e.ResourceStatusReason ? `: ${e.ResourceStatusReason}` : ""}`.replace(
            /\s+/g,
            " ",
          ),
      };
    }
    case "CDK_TOOLKIT_I5900": {
      const r = data as { stackArtifact?: { stackName: string } } | undefined;
      const stack = r?.stackArtifact?.stackName ?? "";
      return { level: "info", code: "aws.stack.done", message: `deployed ${stack}`, data: { action, stack } };
    }
    case "CDK_TOOLKIT_I7101": {
      const r = data as { stack?: { stackName: string } } | undefined;
      const stack = r?.stack?.stackName ?? "";
      return {
        level: "info",
        code: "aws.stack.done",
        message: `destroyed ${stack}`,
        data: { action, stack },
      };
    }
    default:
      if (msg.level === "error" || msg.level === "warn") {
        return { level: msg.level, code: "aws.log", message: msg.message, data: { toolkitCode: msg.code } };
      }
      return undefined;
  }
}

function selector(stacks: readonly string[] | undefined): StackSelector {
  return stacks && stacks.length > 0
    ? { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: [...stacks] }
    : { strategy: StackSelectionStrategy.ALL_STACKS };
}

/** The toolkit to use, and its IoHost's verdict on stuck stacks (none for an injected toolkit). */
function toolkitFor(
  options: AwsToolkitOptions,
  action: AwsPlaneAction,
): { toolkit: Toolkit; stuck: () => TenkaiError | undefined } {
  if (options.toolkit) return { toolkit: options.toolkit, stuck: () => undefined };
  const ioHost = eventIoHost(options.sink, action, options.stackWaitTimeoutMs);
  const toolkit = new Toolkit({
    ioHost,
    emojis: false,
    color: false,
    sdkConfig: options.profile
      ? { baseCredentials: BaseCredentials.awsCliCompatible({ profile: options.profile }) }
      : undefined,
  });
  return { toolkit, stuck: () => ioHost.stuck };
}

/** The selected stacks in order, announced as an `aws.plan` event. */
function plannedStacks(options: AwsToolkitOptions, action: AwsPlaneAction): string[] {
  const order = deployOrder(options.assemblyDir);
  const unknown = (options.stacks ?? []).filter((s) => !order.includes(s));
  if (unknown.length > 0) {
    throw new TenkaiError(
      "AWS_UNKNOWN_STACK",
      `no stack ${unknown.join(", ")} in ${options.assemblyDir}`,
      `choose from: ${order.join(", ")}`,
    );
  }
  const selected =
    options.stacks && options.stacks.length > 0 ? order.filter((s) => options.stacks?.includes(s)) : order;
  const ordered = action === "destroy" ? [...selected].reverse() : selected;
  emitter(options.sink)("info", "aws.plan", `${action} ${ordered.length} stacks: ${ordered.join(", ")}`, {
    action,
    stacks: ordered,
  });
  return ordered;
}

/** Wraps a toolkit failure into a TenkaiError that says what to do. */
export function awsError(err: unknown, action: AwsPlaneAction, account?: string): TenkaiError {
  if (err instanceof TenkaiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (
    ToolkitError.isAuthenticationError(err) ||
    /no credentials have been configured|Could not load credentials/i.test(message)
  ) {
    return new TenkaiError(
      "AWS_NO_CREDENTIALS",
      `cannot ${action} the AWS plane: no AWS credentials${account ? ` for account ${account}` : ""} (${message})`,
      "sign in to that account (aws sso login --profile <name>, then pass --profile <name> or set AWS_PROFILE; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run the command again",
      { cause: err },
    );
  }
  if (ToolkitError.isBootstrapError(err) || /bootstrap/i.test(message)) {
    return new TenkaiError(
      "AWS_NOT_BOOTSTRAPPED",
      `cannot ${action} the AWS plane: the account and region are not bootstrapped for the CDK (${message})`,
      "run `tenkai deploy --bootstrap` (or `npx cdk bootstrap aws://<account>/<region>`) once per account and region",
      { cause: err },
    );
  }
  const failed = {
    deploy: "AWS_DEPLOY_FAILED",
    diff: "AWS_DIFF_FAILED",
    destroy: "AWS_DESTROY_FAILED",
  } as const;
  return new TenkaiError(
    failed[action],
    `${action} of the AWS plane failed: ${message}`,
    "read the failed resource's status reason in the events above (or the CloudFormation console), fix the spec or the account, and run the command again; CloudFormation has rolled the stack back",
    { cause: err },
  );
}

function accountOf(assemblyDir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(assemblyDir, "manifest.json"), "utf8")) as {
      artifacts?: Record<string, { environment?: string }>;
    };
    const env = Object.values(manifest.artifacts ?? {}).find((a) => a.environment)?.environment;
    return env?.match(/^aws:\/\/(\d{12})\//)?.[1];
  } catch {
    return undefined;
  }
}

export interface AwsDeployResult {
  readonly stacks: readonly {
    readonly stackName: string;
    readonly outputs: Readonly<Record<string, string>>;
  }[];
}

export interface AwsDeployOptions extends AwsToolkitOptions {
  /**
   * Bootstrap the account and region for the CDK first (the CDKToolkit stack: the bucket that
   * holds templates over 51,200 bytes and the deploy roles). Idempotent. Default: false.
   */
  readonly bootstrap?: boolean;
}

/** Deploys the selected stacks (default all) in dependency order. */
export async function deployAwsPlane(options: AwsDeployOptions): Promise<AwsDeployResult> {
  plannedStacks(options, "deploy");
  const { toolkit, stuck } = toolkitFor(options, "deploy");
  try {
    const cx = await toolkit.fromAssemblyDirectory(options.assemblyDir);
    if (options.bootstrap) await toolkit.bootstrap(BootstrapEnvironments.fromCloudAssemblySource(cx));
    const result = await toolkit.deploy(cx, {
      stacks: selector(options.stacks),
      ...(options.pollIntervalMs ? { stackEventPollingInterval: options.pollIntervalMs } : {}),
    });
    return { stacks: result.stacks.map((s) => ({ stackName: s.stackName, outputs: { ...s.outputs } })) };
  } catch (err) {
    throw stuck() ?? awsError(err, "deploy", accountOf(options.assemblyDir));
  }
}

export interface AwsDiffOptions extends AwsToolkitOptions {
  /**
   * Compare with a previous plan's assembly directory instead of the deployed stacks (no AWS
   * call). Default: the deployed stacks (needs credentials).
   */
  readonly against?: string;
}

/** One CloudFormation resource that a deploy would add, remove, modify in place or replace. */
export interface AwsResourceChange {
  readonly logicalId: string;
  readonly type: string;
  /** replace: CloudFormation re-creates it (WILL_REPLACE, or MAY_REPLACE when `maybe`). */
  readonly action: "add" | "remove" | "modify" | "replace";
  readonly maybe?: boolean;
  /** Changed properties, for modify and replace. */
  readonly properties?: readonly string[];
}

export interface AwsStackDiff {
  readonly stackName: string;
  readonly changes: number;
  readonly securityChanges: boolean;
  /** add: a stack the previous plan did not have; remove: a stack this plan no longer has. */
  readonly stackAction?: "add" | "remove";
  readonly resources: readonly AwsResourceChange[];
}

export interface AwsDiffResult {
  readonly stacks: readonly AwsStackDiff[];
}

type ResourceDifference = {
  isAddition: boolean;
  isRemoval: boolean;
  resourceType?: string;
  resourceTypeChanged?: boolean;
  changeImpact?: string;
  forEachDifference?: (
    cb: (type: "Property" | "Other", name: string, value: { isDifferent?: boolean }) => unknown,
  ) => void;
};

/** The resource changes of one stack's template diff. */
function resourceChanges(diff: {
  resources: { forEachDifference(cb: (logicalId: string, change: ResourceDifference) => unknown): void };
}): AwsResourceChange[] {
  const out: AwsResourceChange[] = [];
  diff.resources.forEachDifference((logicalId, change) => {
    const type = change.resourceType ?? "";
    if (change.isAddition) return out.push({ logicalId, type, action: "add" });
    if (change.isRemoval) return out.push({ logicalId, type, action: "remove" });
    const properties: string[] = [];
    change.forEachDifference?.((kind, name, value) => {
      if (kind === "Property" && value.isDifferent !== false) properties.push(name);
    });
    const impact = change.changeImpact ?? "";
    const replace =
      change.resourceTypeChanged === true || impact === "WILL_REPLACE" || impact === "MAY_REPLACE";
    return out.push({
      logicalId,
      type,
      action: replace ? "replace" : "modify",
      ...(impact === "MAY_REPLACE" ? { maybe: true } : {}),
      properties,
    });
  });
  return out;
}

function templateResources(path: string): AwsResourceChange[] {
  const t = JSON.parse(readFileSync(path, "utf8")) as { Resources?: Record<string, { Type?: string }> };
  return Object.entries(t.Resources ?? {}).map(([logicalId, r]) => ({
    logicalId,
    type: r.Type ?? "",
    action: "add",
  }));
}

/** Differences between the assembly and the deployed stacks (or a previous plan's templates). */
export async function diffAwsPlane(options: AwsDiffOptions): Promise<AwsDiffResult> {
  const stacks = plannedStacks(options, "diff");
  const { toolkit, stuck } = toolkitFor(options, "diff");
  try {
    const cx = await toolkit.fromAssemblyDirectory(options.assemblyDir);
    const results: AwsStackDiff[] = [];
    const against = options.against;
    const previous = (s: string) => (against ? join(against, `${s}.template.json`) : "");
    // A stack the previous plan did not have: every resource is added (no template to diff with).
    const fresh = against ? stacks.filter((s) => !existsSync(previous(s))) : [];
    for (const stackName of fresh) {
      const resources = templateResources(join(options.assemblyDir, `${stackName}.template.json`));
      results.push({
        stackName,
        changes: resources.length,
        securityChanges: false,
        stackAction: "add",
        resources,
      });
    }
    const runs: [string[] | undefined, DiffMethod | undefined][] = against
      ? stacks.filter((s) => !fresh.includes(s)).map((s) => [[s], DiffMethod.LocalFile(previous(s))])
      : [
          [
            options.stacks ? [...options.stacks] : undefined,
            DiffMethod.ChangeSet({ fallbackToTemplate: true }),
          ],
        ];
    for (const [names, method] of runs) {
      const diffs = await toolkit.diff(cx, { stacks: selector(names), method });
      for (const [stackName, diff] of Object.entries(diffs)) {
        const changes = diff.differenceCount;
        const securityChanges = diff.permissionsAnyChanges;
        results.push({ stackName, changes, securityChanges, resources: resourceChanges(diff as never) });
      }
    }
    // A stack only the previous plan had (its tenants left): every resource goes.
    if (against && !options.stacks) {
      for (const f of readdirSync(against).filter((f) => f.endsWith(".template.json"))) {
        const stackName = f.slice(0, -".template.json".length);
        if (stacks.includes(stackName)) continue;
        const resources = templateResources(join(against, f)).map((r) => ({
          ...r,
          action: "remove" as const,
        }));
        results.push({
          stackName,
          changes: resources.length,
          securityChanges: false,
          stackAction: "remove",
          resources,
        });
      }
    }
    const emit = emitter(options.sink);
    for (const r of results)
      emit(
        r.securityChanges ? "warn" : "info",
        "aws.stack.diff",
        `${r.stackName}: ${r.changes === 0 ? "no changes" : `${r.changes} changes${r.securityChanges ? " (IAM or security group changes)" : ""}`}`,
        { stack: r.stackName, changes: r.changes, securityChanges: r.securityChanges },
      );
    return { stacks: results };
  } catch (err) {
    throw stuck() ?? awsError(err, "diff", accountOf(options.assemblyDir));
  }
}

/** Destroys the selected stacks (default all) in reverse dependency order. */
export async function destroyAwsPlane(
  options: AwsToolkitOptions,
): Promise<{ readonly stacks: readonly string[] }> {
  const stacks = plannedStacks(options, "destroy");
  const { toolkit, stuck } = toolkitFor(options, "destroy");
  try {
    const cx = await toolkit.fromAssemblyDirectory(options.assemblyDir);
    await toolkit.destroy(cx, {
      stacks: selector(options.stacks),
      ...(options.pollIntervalMs ? { stackEventPollingInterval: options.pollIntervalMs } : {}),
    });
    return { stacks };
  } catch (err) {
    throw stuck() ?? awsError(err, "destroy", accountOf(options.assemblyDir));
  }
}
