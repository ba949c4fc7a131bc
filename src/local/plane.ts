/**
 * The Kubernetes plane as it runs on the local target, decided as data from the rendered plane
 * (STYLE.md 5): pure, so every change is unit-tested and reported to the user, never hidden.
 *
 * - Each service's Deployment runs the probe/echo image in place of its ECR image (no registry
 *   is reachable here): `probe serve --http :<port>` answers the readiness and liveness paths on
 *   the service's port, and keeps serving for a shutdown delay after SIGTERM, as a well-behaved
 *   service does while its endpoints are withdrawn.
 * - Cron jobs are created suspended: their batch images do not exist locally.
 * - Platform controllers that only talk to AWS (the AWS Load Balancer Controller, Fluent Bit to
 *   CloudWatch) are left out; their CRDs, RBAC and the IngressClasses stay.
 * - The tenant image admission policy also admits the probe image (and nothing else): otherwise it
 *   rightly rejects every workload above.
 */
import { TenkaiError } from "../shared/errors.js";
import type { KubeObject, KubernetesPlane } from "../shared/planes.js";

/** Seconds the probe server keeps serving after SIGTERM (endpoints are withdrawn meanwhile). */
export const PROBE_SHUTDOWN_DELAY = "5s";

export interface ImageReplacement {
  /** `namespace/name` of the Deployment or CronJob. */
  readonly workload: string;
  readonly kind: "Deployment" | "CronJob";
  readonly from: string;
  readonly to: string;
}

export interface LocalPlane {
  readonly objects: readonly KubeObject[];
  readonly replaced: readonly ImageReplacement[];
  /** CronJobs created with `suspend: true`. */
  readonly suspended: readonly string[];
  /** Objects left out, with why. */
  readonly left: readonly { readonly ref: string; readonly reason: string }[];
}

/** Why a platform controller stays out locally, by name; every platform Deployment and DaemonSet stays out. */
const AWS_ONLY: Readonly<Record<string, string>> = {
  "aws-load-balancer-controller":
    "the AWS Load Balancer Controller makes ALBs through the AWS API; locally Ingresses stay without an address",
  "fluent-bit": "Fluent Bit ships container logs to CloudWatch Logs",
};

type Mutable = Record<string, unknown>;

function refOf(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/**
 * The local form of a rendered plane.
 * @throws TenkaiError `LOCAL_PLANE_UNEXPECTED` when the image policy does not have the shape this
 *   module adapts (a tenkai bug: the two must change together).
 */
export function localPlane(plane: KubernetesPlane, probeImage: string): LocalPlane {
  const replaced: ImageReplacement[] = [];
  const suspended: string[] = [];
  const left: { ref: string; reason: string }[] = [];
  const objects: KubeObject[] = [];
  const platformSet = new Set(plane.platform);
  for (const original of [...plane.platform, ...plane.tenants.flatMap((t) => t.objects)]) {
    const ref = refOf(original);
    if (platformSet.has(original) && (original.kind === "Deployment" || original.kind === "DaemonSet")) {
      left.push({
        ref,
        reason:
          AWS_ONLY[original.metadata.name] ?? "a platform controller whose image is not available locally",
      });
      continue;
    }
    const o = structuredClone(original) as KubeObject & Mutable;
    const workload = `${o.metadata.namespace}/${o.metadata.name}`;
    if (o.kind === "Deployment") {
      const pod = (o.spec as Mutable).template as Mutable;
      for (const c of containersOf(pod.spec as Mutable)) {
        const port = (c.ports as { containerPort: number }[] | undefined)?.[0]?.containerPort ?? 8080;
        replaced.push({ workload, kind: "Deployment", from: String(c.image), to: probeImage });
        c.image = probeImage;
        c.imagePullPolicy = "IfNotPresent";
        delete c.command;
        c.args = ["serve", "--http", `:${port}`, "--shutdown-delay", PROBE_SHUTDOWN_DELAY];
      }
    } else if (o.kind === "CronJob") {
      const spec = o.spec as Mutable;
      const pod = ((spec.jobTemplate as Mutable).spec as Mutable).template as Mutable;
      for (const c of containersOf(pod.spec as Mutable)) {
        replaced.push({ workload, kind: "CronJob", from: String(c.image), to: probeImage });
        c.image = probeImage;
        c.imagePullPolicy = "IfNotPresent";
        delete c.command;
        c.args = ["dns", "kubernetes.default.svc.cluster.local"];
      }
      spec.suspend = true;
      suspended.push(workload);
    } else if (o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === "tenkai-images") {
      admitImage(o, probeImage);
    }
    objects.push(o);
  }
  return { objects, replaced, suspended, left };
}

function containersOf(podSpec: Mutable): Mutable[] {
  return [...((podSpec.initContainers as Mutable[]) ?? []), ...((podSpec.containers as Mutable[]) ?? [])];
}

/**
 * Lets the image policy admit exactly `image` besides the tenant's prefix: every
 * `(c.image.startsWith(variables.prefix) && <rest of the path matches>)` test becomes
 * `(c.image == '<image>' || c.image.startsWith(variables.prefix) && …)` (`&&` binds tighter), so
 * the path check after the prefix never runs on the probe image (its substring would be out of
 * range, and the ReplicaSet controller's writes would fail).
 */
function admitImage(policy: Mutable, image: string): void {
  const spec = policy.spec as Mutable;
  const test = "(c.image.startsWith(variables.prefix) && ";
  const allow = `(c.image == '${image.replace(/'/g, "\\'")}' || c.image.startsWith(variables.prefix) && `;
  let count = 0;
  const rewrite = (e: unknown): unknown => {
    if (typeof e !== "string") return e;
    count += e.split(test).length - 1;
    return e.split(test).join(allow);
  };
  for (const v of (spec.variables as Mutable[]) ?? []) v.expression = rewrite(v.expression);
  for (const v of (spec.validations as Mutable[]) ?? []) v.expression = rewrite(v.expression);
  if (count === 0)
    throw new TenkaiError(
      "LOCAL_PLANE_UNEXPECTED",
      "the tenant image policy tenkai-images no longer tests (c.image.startsWith(variables.prefix) && …), so the local plane cannot admit the probe image",
      "this is a tenkai bug: update src/local/plane.ts together with src/kube/admission-policies.ts",
    );
}
