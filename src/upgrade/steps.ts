/**
 * The ordered steps of an upgrade, one control-plane minor at a time (the order `upgrade run` will
 * follow): node groups left behind first (EKS moves the control plane only when they run its
 * version), then per minor: add-ons that must move before the control plane, the control plane,
 * add-ons after it, every node group by blue/green rotation onto the new version, Fargate pods
 * re-created (they keep the kubelet they started with), and verification.
 */
import type { Platform } from "../spec/schema.js";
import type { AddonStep } from "./addons.js";
import type { PlanStep } from "./types.js";

export interface StepInput {
  readonly platform: Platform;
  readonly specFile: string;
  readonly environment?: string;
  readonly current: string;
  readonly path: readonly string[];
  readonly behind: readonly string[];
  readonly drained: Readonly<Record<string, readonly string[]>>;
  readonly addonSteps: readonly AddonStep[];
  readonly fargate: boolean;
  readonly cluster: string;
}

export function buildSteps(input: StepInput): PlanStep[] {
  const steps: Omit<PlanStep, "order">[] = [];
  const env = input.environment ? ` -e ${input.environment}` : "";
  const aws = input.platform.spec.target === "aws";
  const groups = input.platform.spec.nodeGroups.map((g) => g.name);
  const rotate = (group: string, minor: string, why: string) => {
    const nodes = input.drained[group]?.length;
    steps.push({
      kind: "rotate-node-group",
      minor,
      title: `rotate node group ${group} onto ${minor}${nodes !== undefined ? ` (${nodes} node(s) drained)` : ""}${why}`,
      command: `tenkai nodes rotate ${group} -f ${input.specFile}${env}`,
      gate: `every node of ${group} runs kubelet ${minor}; no PodDisruptionBudget was violated`,
      group,
    });
  };
  if (input.path.length > 0)
    for (const g of input.behind) rotate(g, input.current, " before the control plane moves");
  for (const minor of input.path) {
    for (const a of input.addonSteps.filter((s) => s.minor === minor && s.when === "before")) {
      steps.push({
        kind: "addon-before",
        minor,
        title: `move ${a.addon} ${a.from ?? "(not installed)"} → ${a.to} (it must support ${minor} before the control plane runs it)`,
        command:
          a.kind === "eks-addon" ? addonCommand(input.cluster, a) : `tenkai apply ${input.specFile}${env}`,
        gate: `${a.addon} rolled out and Ready`,
        addon: { name: a.addon, kind: a.kind, to: a.to },
      });
    }
    steps.push({
      kind: "control-plane",
      minor,
      title: `control plane → ${minor}`,
      command: aws
        ? `aws eks update-cluster-version --name ${input.cluster} --kubernetes-version ${minor}`
        : `tenkai upgrade run --to ${minor} -f ${input.specFile}${env}`,
      gate: `the API server reports v${minor}.x and every control-plane component is healthy`,
    });
    for (const a of input.addonSteps.filter((s) => s.minor === minor && s.when === "after")) {
      steps.push({
        kind: "addon-after",
        minor,
        title: `move ${a.addon} ${a.from ?? "(not installed)"} → ${a.to}`,
        command:
          a.kind === "eks-addon" ? addonCommand(input.cluster, a) : `tenkai apply ${input.specFile}${env}`,
        gate: `${a.addon} rolled out and Ready`,
        addon: { name: a.addon, kind: a.kind, to: a.to },
      });
    }
    for (const g of groups) rotate(g, minor, "");
    if (input.fargate) {
      steps.push({
        kind: "fargate-restart",
        minor,
        title: `re-create Fargate pods so they run kubelet ${minor} (a Fargate pod keeps the kubelet it started with)`,
        command: "kubectl rollout restart deployment -n <each Fargate namespace>",
        gate: "every Fargate node reports the new kubelet version",
      });
    }
    steps.push({
      kind: "verify",
      minor,
      title: `verify the platform on ${minor}`,
      command: `tenkai verify isolation ${input.specFile}${env}`,
      gate: "verification green; only then the next step (or the next environment) may start",
    });
  }
  return steps.map((s, i) => ({ order: i + 1, ...s }));
}

function addonCommand(cluster: string, a: AddonStep): string {
  return `aws eks update-addon --cluster-name ${cluster} --addon-name ${a.addon} --addon-version ${a.to}`;
}
