/**
 * CloudFormation mocked at the SDK level (aws-sdk-client-mock), for the CDK toolkit library's
 * deploy and destroy paths: change sets, the template uploaded to the bootstrap bucket, the
 * bootstrap version in SSM, the caller's account and the deploy role in STS.
 *
 * The toolkit does not bundle the AWS SDK: it `require`s the same `@aws-sdk/client-*` modules as
 * tenkai (one copy in node_modules; their packages have no `exports` map, so an ESM `import` gets
 * the same CommonJS module). The clients are loaded here as the toolkit resolves them, and
 * `mockClient(Class)` stubs `Class.prototype.send`, so every client the toolkit makes is
 * intercepted. The deploy role is assumed by `@aws-sdk/credential-providers` through
 * `@aws-sdk/nested-clients/sts`, mocked the same way. Any call this mock does not answer fails
 * with the command's name (see `unanswered`), never silently.
 *
 * What it models, from CloudFormation's API reference: a stack made by a CREATE change set sits
 * in REVIEW_IN_PROGRESS until executed; executing sets the template and CREATE_COMPLETE or
 * UPDATE_COMPLETE; a stack in an *_IN_PROGRESS state refuses a change set ("... is in
 * UPDATE_IN_PROGRESS state and can not be updated"); a change set with nothing to change FAILS
 * with "The submitted information didn't contain changes..."; DescribeStacks by name of a deleted
 * stack is ValidationError "Stack with id X does not exist", by ARN it answers DELETE_COMPLETE.
 * Resources are created, updated and deleted at once; `holdNextExecution` leaves a stack in
 * progress (a stuck update) to prove that nothing waits on it for ever.
 */
import { createRequire } from "node:module";
import type {
  CloudFormationClient as CloudFormationClientType,
  Stack,
  StackEvent,
  StackResource,
} from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";

/** The SDK modules exactly as `@aws-cdk/toolkit-lib` resolves them. */
const toolkitRequire = createRequire(createRequire(import.meta.url).resolve("@aws-cdk/toolkit-lib"));
const cfnModule = toolkitRequire(
  "@aws-sdk/client-cloudformation",
) as typeof import("@aws-sdk/client-cloudformation");
const s3Module = toolkitRequire("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
const ssmModule = toolkitRequire("@aws-sdk/client-ssm") as {
  SSMClient: new (...a: never[]) => unknown;
  GetParameterCommand: new (...a: never[]) => unknown;
};
const stsModule = toolkitRequire("@aws-sdk/client-sts") as {
  STSClient: new (...a: never[]) => unknown;
  GetCallerIdentityCommand: new (...a: never[]) => unknown;
  AssumeRoleCommand: new (...a: never[]) => unknown;
};
const credentialProvidersRequire = createRequire(toolkitRequire.resolve("@aws-sdk/credential-providers"));
/** The nested STS client has AssumeRole (and AssumeRoleWithWebIdentity) only. */
const nestedStsModule = credentialProvidersRequire("@aws-sdk/nested-clients/sts") as {
  STSClient: new (...a: never[]) => unknown;
  AssumeRoleCommand: new (...a: never[]) => unknown;
};

interface Template {
  Resources?: Record<string, { Type?: string; Properties?: unknown }>;
  Outputs?: Record<string, { Value?: unknown; Export?: { Name?: unknown } }>;
}

interface MockStack {
  readonly id: string;
  readonly name: string;
  status: string;
  /** The executed template (none while a CREATE change set waits). */
  body?: string;
  parameters: { ParameterKey?: string; ParameterValue?: string }[];
  resources: StackResource[];
  events: StackEvent[];
  readonly created: Date;
}

interface MockChangeSet {
  readonly id: string;
  readonly name: string;
  readonly stackId: string;
  readonly type: "CREATE" | "UPDATE";
  readonly body: string;
  readonly parameters: { ParameterKey?: string; ParameterValue?: string }[];
  readonly status: "CREATE_COMPLETE" | "FAILED";
  readonly reason?: string;
  readonly changes: {
    Action: "Add" | "Modify" | "Remove";
    LogicalResourceId: string;
    ResourceType: string;
  }[];
  readonly created: Date;
}

export interface CloudFormationMock {
  readonly account: string;
  readonly region: string;
  /** A stack's status as CloudFormation would answer DescribeStacks by name, or undefined. */
  statusOf(stack: string): string | undefined;
  /** The executed template of a live stack. */
  templateOf(stack: string): Template | undefined;
  /**
   * The next change set executed on `stack` leaves it in `status` and never finishes (a stuck
   * update: a resource whose stabilization never ends, or a hung custom resource).
   */
  holdNextExecution(stack: string, status?: string): void;
  /** Called when an executed change set creates or deletes resources of a stack. */
  onResources(
    listener: (stack: string, added: StackResource[], removed: StackResource[]) => Promise<void>,
  ): void;
  /** The calls no handler answered, as `Client.Command` (each also failed the caller). */
  readonly unanswered: readonly string[];
  /** The CloudFormation commands sent, by name, in order. */
  commands(): string[];
  restore(): void;
}

function cfnError(name: string, message: string): Error {
  return new cfnModule.CloudFormationServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

/** What a template says about a resource, compared as canonical JSON. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

async function bodyText(body: unknown): Promise<string> {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString("utf8");
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks).toString("utf8");
  }
  throw new Error(`cloudformation-mock: cannot read an S3 body of type ${typeof body}`);
}

export function mockCloudFormation(options: { account: string; region: string }): CloudFormationMock {
  const { account, region } = options;
  const stacks: MockStack[] = [];
  const changeSets: MockChangeSet[] = [];
  const objects = new Map<string, string>();
  const held = new Map<string, string>();
  const listeners: ((stack: string, a: StackResource[], r: StackResource[]) => Promise<void>)[] = [];
  const unanswered: string[] = [];
  let serial = 0;

  const arn = (kind: string, name: string) =>
    `arn:aws:cloudformation:${region}:${account}:${kind}/${name}/${(++serial).toString(16).padStart(8, "0")}`;
  /** The live stack of that name or ARN (by ARN a deleted one too, as CloudFormation answers). */
  const find = (nameOrId: string): MockStack | undefined =>
    nameOrId.startsWith("arn:")
      ? stacks.find((s) => s.id === nameOrId)
      : stacks.find((s) => s.name === nameOrId && s.status !== "DELETE_COMPLETE");
  const mustFind = (nameOrId: string): MockStack => {
    const s = find(nameOrId);
    if (!s) throw cfnError("ValidationError", `Stack with id ${nameOrId} does not exist`);
    return s;
  };
  const findChangeSet = (stack: string | undefined, nameOrId: string): MockChangeSet => {
    const st = stack ? find(stack) : undefined;
    const cs = changeSets.find(
      (c) => c.id === nameOrId || (c.name === nameOrId && (!st || c.stackId === st.id)),
    );
    if (!cs) throw cfnError("ChangeSetNotFoundException", `ChangeSet [${nameOrId}] does not exist`);
    return cs;
  };
  const event = (s: MockStack, logicalId: string, type: string, status: string, physical = logicalId) =>
    s.events.unshift({
      EventId: `${s.name}-${++serial}`,
      StackId: s.id,
      StackName: s.name,
      LogicalResourceId: logicalId,
      PhysicalResourceId: physical,
      ResourceType: type,
      ResourceStatus: status,
      Timestamp: new Date(),
    } as StackEvent);
  const describe = (s: MockStack): Stack => {
    const t = s.body ? (JSON.parse(s.body) as Template) : {};
    return {
      StackId: s.id,
      StackName: s.name,
      StackStatus: s.status as Stack["StackStatus"],
      CreationTime: s.created,
      Parameters: s.parameters,
      EnableTerminationProtection: false,
      Outputs: Object.entries(t.Outputs ?? {}).map(([OutputKey, o]) => ({
        OutputKey,
        OutputValue: typeof o.Value === "string" ? o.Value : canonical(o.Value),
        ...(typeof o.Export?.Name === "string" ? { ExportName: o.Export.Name } : {}),
      })),
    };
  };
  const templateFromUrl = (url: string): string => {
    // https://s3.<region>.amazonaws.com/<bucket>/<key> or https://<bucket>.s3.<region>.amazonaws.com/<key>
    const u = new URL(url);
    const virtual = /^(.+)\.s3[.-]/.exec(u.hostname);
    const path = u.pathname.replace(/^\//, "");
    const key = virtual ? `${virtual[1]}/${path}` : path;
    const body = objects.get(decodeURIComponent(key));
    if (body === undefined)
      throw cfnError("ValidationError", `TemplateURL must reference a valid S3 object: ${url}`);
    return body;
  };

  const cfn = mockClient(cfnModule.CloudFormationClient);
  const s3 = mockClient(s3Module.S3Client);
  const ssm = mockClient(ssmModule.SSMClient as never);
  const sts = mockClient(stsModule.STSClient as never);
  const nestedSts = mockClient(nestedStsModule.STSClient as never);
  for (const [client, label] of [
    [cfn, "CloudFormation"],
    [s3, "S3"],
    [ssm, "SSM"],
    [sts, "STS"],
    [nestedSts, "STS (nested)"],
  ] as const) {
    (client as { onAnyCommand(): { callsFake(f: (input: unknown) => unknown): void } })
      .onAnyCommand()
      .callsFake((input) => {
        const name = `${label} ${canonical(input).slice(0, 120)}`;
        unanswered.push(name);
        throw new Error(`cloudformation-mock: no answer for ${name}`);
      });
  }

  const C = cfnModule;
  cfn.on(C.DescribeStacksCommand).callsFake((input: { StackName?: string }) => {
    if (!input.StackName)
      return { Stacks: stacks.filter((s) => s.status !== "DELETE_COMPLETE").map(describe) };
    return { Stacks: [describe(mustFind(input.StackName))] };
  });
  cfn.on(C.GetTemplateCommand).callsFake((input: { StackName?: string; ChangeSetName?: string }) => {
    const s = mustFind(input.StackName ?? "");
    if (input.ChangeSetName)
      return { TemplateBody: findChangeSet(input.StackName, input.ChangeSetName).body };
    if (!s.body) throw cfnError("ValidationError", `Stack [${s.name}] does not exist`);
    return { TemplateBody: s.body, StagesAvailable: ["Original", "Processed"] };
  });
  cfn
    .on(C.CreateChangeSetCommand)
    .callsFake(
      (input: {
        StackName?: string;
        ChangeSetName?: string;
        ChangeSetType?: string;
        TemplateBody?: string;
        TemplateURL?: string;
        Parameters?: { ParameterKey?: string; ParameterValue?: string; UsePreviousValue?: boolean }[];
      }) => {
        const name = input.StackName ?? "";
        let s = find(name);
        const type = input.ChangeSetType === "CREATE" ? "CREATE" : "UPDATE";
        if (type === "CREATE") {
          if (s && s.status !== "REVIEW_IN_PROGRESS")
            throw cfnError("AlreadyExistsException", `Stack [${name}] already exists`);
          if (!s) {
            s = {
              id: arn("stack", name),
              name,
              status: "REVIEW_IN_PROGRESS",
              parameters: [],
              resources: [],
              events: [],
              created: new Date(),
            };
            stacks.push(s);
            event(s, name, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", s.id);
          }
        } else {
          s = mustFind(name);
          if (/_IN_PROGRESS$/.test(s.status))
            throw cfnError(
              "ValidationError",
              `Stack:${s.id} is in ${s.status} state and can not be updated.`,
            );
        }
        const body = input.TemplateBody ?? templateFromUrl(input.TemplateURL ?? "");
        const parameters = (input.Parameters ?? []).map((p) => ({
          ParameterKey: p.ParameterKey,
          ParameterValue: p.UsePreviousValue
            ? s.parameters.find((q) => q.ParameterKey === p.ParameterKey)?.ParameterValue
            : p.ParameterValue,
        }));
        const before = (s.body ? (JSON.parse(s.body) as Template) : {}).Resources ?? {};
        const after = (JSON.parse(body) as Template).Resources ?? {};
        const changes: MockChangeSet["changes"] = [];
        for (const [id, r] of Object.entries(after)) {
          if (!before[id]) changes.push({ Action: "Add", LogicalResourceId: id, ResourceType: r.Type ?? "" });
          else if (canonical(before[id]) !== canonical(r))
            changes.push({ Action: "Modify", LogicalResourceId: id, ResourceType: r.Type ?? "" });
        }
        for (const [id, r] of Object.entries(before))
          if (!after[id])
            changes.push({ Action: "Remove", LogicalResourceId: id, ResourceType: r.Type ?? "" });
        const same =
          s.body !== undefined &&
          canonical(JSON.parse(s.body)) === canonical(JSON.parse(body)) &&
          canonical(s.parameters) === canonical(parameters);
        const cs: MockChangeSet = {
          id: arn("changeSet", input.ChangeSetName ?? ""),
          name: input.ChangeSetName ?? "",
          stackId: s.id,
          type,
          body,
          parameters,
          status: same ? "FAILED" : "CREATE_COMPLETE",
          ...(same
            ? {
                reason:
                  "The submitted information didn't contain changes. Submit different information or execute the change set.",
              }
            : {}),
          changes: same ? [] : changes,
          created: new Date(),
        };
        changeSets.push(cs);
        return { Id: cs.id, StackId: s.id };
      },
    );
  cfn.on(C.DescribeChangeSetCommand).callsFake((input: { StackName?: string; ChangeSetName?: string }) => {
    const cs = findChangeSet(input.StackName, input.ChangeSetName ?? "");
    const s = stacks.find((x) => x.id === cs.stackId);
    return {
      ChangeSetId: cs.id,
      ChangeSetName: cs.name,
      StackId: cs.stackId,
      StackName: s?.name,
      Status: cs.status,
      StatusReason: cs.reason,
      ExecutionStatus: cs.status === "FAILED" ? "UNAVAILABLE" : "AVAILABLE",
      CreationTime: cs.created,
      Parameters: cs.parameters,
      Changes: cs.changes.map((c) => ({
        Type: "Resource",
        ResourceChange: {
          ...c,
          Replacement: c.Action === "Modify" ? "False" : undefined,
          Scope: [],
          Details: [],
        },
      })),
    };
  });
  cfn.on(C.DeleteChangeSetCommand).callsFake((input: { StackName?: string; ChangeSetName?: string }) => {
    // Deleting a change set that is not there succeeds while its stack exists.
    const st = mustFind(input.StackName ?? "");
    const cs = changeSets.find(
      (c) => c.id === input.ChangeSetName || (c.name === input.ChangeSetName && c.stackId === st.id),
    );
    if (cs) changeSets.splice(changeSets.indexOf(cs), 1);
    return {};
  });
  cfn
    .on(C.ExecuteChangeSetCommand)
    .callsFake(async (input: { StackName?: string; ChangeSetName?: string }) => {
      const cs = findChangeSet(input.StackName, input.ChangeSetName ?? "");
      const s = stacks.find((x) => x.id === cs.stackId);
      if (!s || cs.status !== "CREATE_COMPLETE")
        throw cfnError(
          "InvalidChangeSetStatus",
          `ChangeSet [${cs.id}] cannot be executed in its current status of [${cs.status}]`,
        );
      changeSets.splice(changeSets.indexOf(cs), 1);
      const verb = cs.type === "CREATE" ? "CREATE" : "UPDATE";
      const hold = held.get(s.name);
      if (hold) {
        held.delete(s.name);
        s.status = hold;
        event(s, s.name, "AWS::CloudFormation::Stack", hold, s.id);
        return {};
      }
      event(s, s.name, "AWS::CloudFormation::Stack", `${verb}_IN_PROGRESS`, s.id);
      const after = (JSON.parse(cs.body) as Template).Resources ?? {};
      const added: StackResource[] = [];
      const removed = s.resources.filter((r) => !after[r.LogicalResourceId ?? ""]);
      const kept = s.resources.filter((r) => after[r.LogicalResourceId ?? ""]);
      for (const [id, r] of Object.entries(after)) {
        if (kept.some((k) => k.LogicalResourceId === id)) continue;
        const resource: StackResource = {
          StackName: s.name,
          StackId: s.id,
          LogicalResourceId: id,
          PhysicalResourceId: `${s.name}-${id}-${(++serial).toString(16)}`,
          ResourceType: r.Type ?? "",
          ResourceStatus: "CREATE_COMPLETE",
          Timestamp: new Date(),
        };
        added.push(resource);
        event(s, id, resource.ResourceType ?? "", "CREATE_IN_PROGRESS");
        event(s, id, resource.ResourceType ?? "", "CREATE_COMPLETE", resource.PhysicalResourceId);
      }
      for (const r of removed) event(s, r.LogicalResourceId ?? "", r.ResourceType ?? "", "DELETE_COMPLETE");
      s.resources = [...kept, ...added];
      s.body = cs.body;
      s.parameters = cs.parameters;
      for (const l of listeners) await l(s.name, added, removed);
      s.status = `${verb}_COMPLETE`;
      event(s, s.name, "AWS::CloudFormation::Stack", s.status, s.id);
      return {};
    });
  cfn.on(C.DescribeStackEventsCommand).callsFake((input: { StackName?: string }) => ({
    StackEvents: [...mustFind(input.StackName ?? "").events],
  }));
  cfn.on(C.DescribeStackResourcesCommand).callsFake((input: { StackName?: string }) => ({
    StackResources: [...mustFind(input.StackName ?? "").resources],
  }));
  cfn.on(C.ListStackResourcesCommand).callsFake((input: { StackName?: string }) => ({
    StackResourceSummaries: mustFind(input.StackName ?? "").resources.map((r) => ({
      LogicalResourceId: r.LogicalResourceId,
      PhysicalResourceId: r.PhysicalResourceId,
      ResourceType: r.ResourceType,
      ResourceStatus: r.ResourceStatus,
      LastUpdatedTimestamp: r.Timestamp,
    })),
  }));
  cfn.on(C.DeleteStackCommand).callsFake(async (input: { StackName?: string }) => {
    const s = find(input.StackName ?? "");
    if (!s) return {};
    const removed = s.resources;
    event(s, s.name, "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS", s.id);
    for (const r of removed) event(s, r.LogicalResourceId ?? "", r.ResourceType ?? "", "DELETE_COMPLETE");
    s.resources = [];
    for (const l of listeners) await l(s.name, [], removed);
    s.status = "DELETE_COMPLETE";
    event(s, s.name, "AWS::CloudFormation::Stack", "DELETE_COMPLETE", s.id);
    return {};
  });

  s3.on(s3Module.GetBucketLocationCommand).resolves({ LocationConstraint: region as never });
  s3.on(s3Module.GetBucketEncryptionCommand).resolves({});
  s3.on(s3Module.HeadObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    if (objects.has(`${input.Bucket}/${input.Key}`)) return {};
    throw new s3Module.NotFound({ $metadata: { httpStatusCode: 404 }, message: "Not Found" });
  });
  s3.on(s3Module.ListObjectsV2Command).callsFake((input: { Bucket?: string; Prefix?: string }) => ({
    Contents: [...objects.keys()]
      .filter((k) => k.startsWith(`${input.Bucket}/${input.Prefix ?? ""}`))
      .map((k) => ({ Key: k.slice(`${input.Bucket}/`.length) })),
    KeyCount: 0,
  }));
  s3.on(s3Module.PutObjectCommand).callsFake(
    async (input: { Bucket?: string; Key?: string; Body?: unknown }) => {
      objects.set(`${input.Bucket}/${input.Key}`, await bodyText(input.Body));
      return { ETag: `"${++serial}"` };
    },
  );
  (ssm as never as { on(c: unknown): { callsFake(f: (i: { Name?: string }) => unknown): void } })
    .on(ssmModule.GetParameterCommand)
    .callsFake((input) => {
      if (input.Name === "/cdk-bootstrap/hnb659fds/version")
        return { Parameter: { Name: input.Name, Type: "String", Value: "30" } };
      throw Object.assign(new Error(`Parameter ${input.Name} not found.`), { name: "ParameterNotFound" });
    });
  const identity = {
    Account: account,
    Arn: `arn:aws:iam::${account}:user/tenkai-test`,
    UserId: "AIDATENKAITEST",
  };
  const assumed = (input: { RoleArn?: string }) => ({
    Credentials: {
      AccessKeyId: "ASIATENKAITEST",
      SecretAccessKey: "test",
      SessionToken: "test",
      Expiration: new Date(Date.now() + 3_600_000),
    },
    AssumedRoleUser: { Arn: `${input.RoleArn}/session`, AssumedRoleId: "AROATENKAITEST:session" },
  });
  type On = { on(c: unknown): { callsFake(f: (i: never) => unknown): void } };
  (sts as never as On).on(stsModule.GetCallerIdentityCommand).callsFake(() => identity);
  (sts as never as On).on(stsModule.AssumeRoleCommand).callsFake(assumed);
  (nestedSts as never as On).on(nestedStsModule.AssumeRoleCommand).callsFake(assumed);

  return {
    account,
    region,
    statusOf: (stack) => find(stack)?.status,
    templateOf: (stack) => {
      const body = find(stack)?.body;
      return body ? (JSON.parse(body) as Template) : undefined;
    },
    holdNextExecution: (stack, status = "UPDATE_IN_PROGRESS") => held.set(stack, status),
    onResources: (l) => listeners.push(l),
    unanswered,
    commands: () => cfn.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name),
    restore: () => {
      for (const m of [cfn, s3, ssm, sts, nestedSts]) (m as { restore(): void }).restore();
    },
  };
}

/** A CloudFormation client for the test's own reads (intercepted like the toolkit's). */
export function cloudFormationClient(region: string): CloudFormationClientType {
  return new cfnModule.CloudFormationClient({
    region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}
