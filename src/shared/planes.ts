/**
 * The contracts of the two planes, on the ground floor because every floor above reads them: the
 * AWS plane (src/aws) turns the platform into a CDK cloud assembly, the Kubernetes plane
 * (src/kube/render) turns it into objects that src/kube/api applies, verify probes and plan writes.
 * Plan only composes them, writes the output layout and summarises.
 */
export interface StackSummary {
  /** CloudFormation stack name, e.g. `web-network`. */
  readonly stackName: string;
  /** Template path relative to the cloud assembly directory. */
  readonly templateFile: string;
  readonly resourceCount: number;
  /** CloudFormation resource type (e.g. `AWS::EC2::Subnet`) to count. */
  readonly resourcesByType: Readonly<Record<string, number>>;
}

export interface AwsPlaneSynthesis {
  /** The cloud assembly directory (`cdk.out`), deployable with `cdk deploy --app <dir>`. */
  readonly assemblyDir: string;
  readonly stacks: readonly StackSummary[];
}

export interface AwsPlaneOptions {
  /** Where to write the cloud assembly. */
  readonly outdir: string;
}

/** A Kubernetes object as plain data (what `kubectl apply` would read). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

export interface KubernetesPlane {
  /** Cluster-wide platform objects (IngressClasses, admission policies, controllers, Fluent Bit). */
  readonly platform: readonly KubeObject[];
  /** Each tenant's objects, namespaced to the tenant (plus its cluster-scoped pieces). */
  readonly tenants: readonly { readonly tenant: string; readonly objects: readonly KubeObject[] }[];
}
