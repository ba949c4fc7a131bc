/**
 * What every command shares, applied once over the whole command tree so no command can drift:
 *
 * - the spec is named the same way everywhere: `-f, --file FILE` (default `platform.yaml`), and
 *   the positional FILE is still accepted;
 * - every command's help ends with an example;
 * - `--debug` and `--quiet` work on every command;
 * - every command that calls AWS takes the same `--profile` and `--region` (AWS_COMMANDS), which
 *   reach every SDK client it makes through `clientConfig()` (aws-steps.ts).
 */
import { type Command, Option } from "commander";
import { setGlobalFlags } from "./output.js";

/** The spec when neither `-f` nor a positional names one. */
export const DEFAULT_SPEC = "platform.yaml";

/** One example per command path (`tenkai <path>`), shown at the end of its `--help`. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  init: ["tenkai init --name web --account 123456789012 --region eu-west-1"],
  validate: ["tenkai validate", "tenkai validate -f platform.yaml --env staging -o json"],
  schema: ["tenkai schema > platform.schema.json"],
  plan: ["tenkai plan -f platform.yaml --out out/plan", "tenkai plan --no-cost -o json > plan.json"],
  deploy: ["tenkai deploy -f platform.yaml --profile prod --region eu-west-1"],
  destroy: ["tenkai destroy -f platform.yaml --stack web-tenants-000 --yes"],
  diff: [
    "tenkai diff --against out/plan --exit-code      # offline, against a previous plan",
    "tenkai diff --plane kubernetes --context web-staging -o json",
  ],
  apply: ["tenkai apply -f platform.yaml --context web-staging --timeout 10m"],
  db: ["tenkai db status -f platform.yaml --profile prod"],
  "db status": ["tenkai db status -f platform.yaml -o json"],
  logs: [
    "tenkai logs users users-api --since 30m --follow",
    "tenkai logs users --query slow-requests-by-path --since 1d -o json",
  ],
  verify: ["tenkai verify isolation -f platform.yaml --context web-staging"],
  "verify isolation": ["tenkai verify isolation -f platform.yaml --mode targeted"],
  "verify network": [
    "tenkai verify network platform.yaml --save-baseline net-before.json",
    "tenkai verify network platform.yaml --baseline net-before.json --churn --soak 5m -o json",
  ],
  tenant: ["tenkai tenant add payments --role arn:aws:iam::123456789012:role/payments-dev"],
  "tenant add": [
    "tenkai tenant add payments --role arn:aws:iam::123456789012:role/payments-dev --level edit",
    "tenkai tenant add payments --no-apply          # edit platform.yaml only",
  ],
  "tenant remove": ["tenkai tenant remove payments -f platform.yaml"],
  nodes: ["tenkai nodes rotate general --dry-run"],
  "nodes rotate": ["tenkai nodes rotate general -f platform.yaml --timeout 45m"],
  "nodes status": ["tenkai nodes status general -o json"],
  upgrade: ["tenkai upgrade plan --to 1.36 -e staging", "tenkai upgrade run --to 1.36 -e staging"],
  "upgrade run": [
    "tenkai upgrade run --to 1.36 -e staging --dry-run",
    "tenkai upgrade run --to 1.36 -e production -o json   # only after staging passed 1.36",
  ],
  completion: ["tenkai completion bash > /etc/bash_completion.d/tenkai", "source <(tenkai completion zsh)"],
};

/**
 * Every command that calls AWS, by path. Each gets the same two options from `awsOptions()`;
 * `clientConfig()` turns them into every SDK client's configuration, and the CDK toolkit gets the
 * profile too. A command that makes an AWS client and is missing here fails conventions.test.ts.
 */
export const AWS_COMMANDS: readonly string[] = [
  "deploy", // CloudFormation (CDK toolkit), ECR (image gate, enhanced scanning), RDS and the Data API
  "destroy", // CloudFormation
  "diff", // CloudFormation change sets
  "apply", // ECR (image gate), EKS DescribeCluster (the VPC for the ALB controller)
  "tenant add", // as apply
  "tenant remove", // as apply
  "db status", // RDS, the RDS Data API
  "logs", // CloudWatch Logs, Athena (--alb)
  "nodes rotate", // EKS node groups (--provider eks)
  "upgrade plan", // EKS DescribeAddonVersions (--eks-addons)
  "upgrade run", // EKS UpdateClusterVersion, UpdateAddon, DescribeUpdate, node groups
];

/** The one definition of the AWS options (new objects each time: commander keeps state in them). */
export function awsOptions(): Option[] {
  return [
    new Option(
      "--profile <name>",
      "AWS named profile for credentials (~/.aws/config and credentials, SSO profiles too); default: the SDK's default chain (AWS_PROFILE, environment, SSO, instance or pod role)",
    ),
    new Option(
      "--region <region>",
      "AWS region of the SDK calls; default: the spec's spec.aws.region (the CloudFormation stacks always go to the spec's region)",
    ),
  ];
}

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export function* allCommands(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}

/**
 * Applies the shared conventions to every command registered on `program`. Call after every
 * command is registered.
 */
export function applyConventions(program: Command): void {
  program
    .addOption(new Option("--debug", "print stack traces of unexpected errors"))
    .addOption(new Option("-q, --quiet", "no progress on stderr: only results and errors"));
  for (const cmd of allCommands(program)) {
    const path = pathOf(cmd);
    const examples = EXAMPLES[path];
    if (examples)
      cmd.addHelpText(
        "after",
        `\nExample${examples.length > 1 ? "s" : ""}:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`,
      );
    const first = cmd.registeredArguments[0];
    const hasFileOption = cmd.options.some((o) => o.long === "--file");
    if (first?.name() === "file" && !hasFileOption) {
      // The positional stays (older scripts use it) but is optional: -f/--file or the default names the spec.
      first.required = false;
      first.defaultValue = undefined;
      first.description = `the platform spec (or -f FILE; default ${DEFAULT_SPEC})`;
      cmd.option("-f, --file <file>", `the platform spec (default ${DEFAULT_SPEC})`);
    }
    if (AWS_COMMANDS.includes(path)) for (const o of awsOptions()) cmd.addOption(o);
    // Commands made with withOutput() may have some of these already; commander refuses a flag twice.
    if (!cmd.options.some((o) => o.long === "--debug"))
      cmd.option("--debug", "print stack traces of unexpected errors");
    if (!cmd.options.some((o) => o.long === "--quiet"))
      cmd.option("-q, --quiet", "print only warnings, errors and the result");
  }
  program.hook("preAction", (_root, action) => {
    const opts = action.optsWithGlobals() as { debug?: boolean; quiet?: boolean; file?: unknown };
    setGlobalFlags({ debug: opts.debug === true });
    // `tenkai -q CMD` as well as `tenkai CMD -q`: runAction reads the command's own options.
    if (opts.quiet === true && action.options.some((o) => o.long === "--quiet"))
      action.setOptionValue("quiet", true);
    const first = action.registeredArguments[0];
    if (first?.name() === "file" && !first.required) {
      const positional = action.processedArgs[0] as string | undefined;
      const flag = typeof opts.file === "string" ? opts.file : undefined;
      if (positional !== undefined && flag !== undefined && positional !== flag) {
        action.error(`error: the spec is named twice (${positional} and --file ${flag}); name it once`, {
          exitCode: 2,
          code: "tenkai.specTwice",
        });
      }
      action.processedArgs[0] = positional ?? flag ?? DEFAULT_SPEC;
    }
  });
}
