/**
 * `tenkai upgrade run --to 1.N [-e ENV]`: performs the plan's ordered steps (plan.ts, steps.ts), one
 * at a time, each gated and bounded — add-ons that must move first, the control plane one minor per
 * step, add-ons after it, every node group by blue/green rotation onto nodes of the new version
 * (rotation/rotate.ts with the group's provider), then the verification — and records where it
 * stands in the cluster (`tenkai-system/upgrade-run`, run-state.ts) before and after every step, so
 * a run killed anywhere resumes at the step it was in (a rotation resumes from its own record).
 *
 * Staging first (promotion.ts): an environment that another promotes to starts a target only when
 * that one recorded a green verification of the same target; a green final verification records
 * this environment's own pass for the next one.
 */

import type { NodeGroupSlotSpec } from "../providers/node-provider.js";
import { NODEGROUP_LABEL } from "../rotation/nodes.js";
import { rotate } from "../rotation/rotate.js";
import { StateStore as RotationStateStore } from "../rotation/state.js";
import { nodegroupName } from "../shared/aws-names.js";
import { systemClock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import { emitter } from "../shared/events.js";
import { releaseOf } from "./control-plane-local.js";
import { planUpgrade } from "./plan.js";
import { predecessorsOf } from "./promotion.js";
import { RunStateStore } from "./run-state.js";
import type {
  RunBaseline,
  RunStep,
  TakeBaseline,
  UpgradeRunDeps,
  UpgradeRunEvent,
  UpgradeRunOptions,
  UpgradeRunResult,
  UpgradeRunState,
  VerifyResult,
} from "./run-types.js";
import type { PlanStep } from "./types.js";
import { compareMinor, formatMinor, parseMinor, requireMinor } from "./versions.js";

const DEFAULT_TIMEOUT_MS = 30 * 60_000;

function stepId(s: PlanStep): string {
  const what = s.group ?? s.addon?.name;
  return `${s.order}-${s.kind}-${s.minor}${what ? `-${what}` : ""}`;
}

export function toRunSteps(steps: readonly PlanStep[]): RunStep[] {
  return steps.map((s) => ({
    id: stepId(s),
    kind: s.kind,
    minor: s.minor,
    title: s.title,
    gate: s.gate,
    ...(s.group ? { group: s.group } : {}),
    ...(s.addon ? { addon: s.addon } : {}),
  }));
}

/** Whether a kubelet version is on `want`: the exact release when `want` names one, else the minor. */
export function kubeletOn(kubelet: string | undefined, want: string): boolean {
  if (/^\d+\.\d+\.\d+$/.test(want)) return releaseOf(kubelet ?? "") === want;
  const a = parseMinor(kubelet);
  const b = parseMinor(want);
  return a !== undefined && b !== undefined && compareMinor(a, b) === 0;
}

type StepOutcome = { outcome: "done" } | { outcome: "skipped"; reason: string };

export async function runUpgrade(
  options: UpgradeRunOptions,
  deps: UpgradeRunDeps,
): Promise<UpgradeRunResult> {
  const clock = deps.clock ?? systemClock;
  const emit = emitter<UpgradeRunEvent>(deps.sink, clock);
  const started = clock.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = formatMinor(requireMinor(options.to, "--to"));
  const env = options.environment;
  const store = new RunStateStore(deps.cluster.clients.core, options.stateNamespace);
  const specFile = options.specFile ?? "platform.yaml";
  const envFlag = env ? ` -e ${env}` : "";

  let state = await store.read();
  if (state && state.phase !== "done" && state.target !== target) {
    throw new TenkaiError(
      "UPGRADE_RUN_IN_PROGRESS",
      `an upgrade to ${state.target} is recorded unfinished (${state.phase}, at ${state.current ?? "the start"})`,
      `finish it first: tenkai upgrade run --to ${state.target} -f ${specFile}${envFlag}`,
      { details: { target: state.target, phase: state.phase, step: state.current } },
    );
  }
  const resuming = state !== undefined && state.phase !== "done" && state.target === target;

  if (resuming && state) {
    emit(
      "info",
      "upgrade.run.resumed",
      `resuming the upgrade to ${target} at ${state.current ?? "the next step"}: ${state.done.length}/${state.steps.length} step(s) done`,
      { target, step: state.current ?? "", done: state.done.length, total: state.steps.length },
    );
    if (options.dryRun) return result(state, "planned", await deps.controlPlane.version(), true, undefined);
  } else {
    const plan = await planUpgrade(
      { platform: options.platform, to: target, specFile, ...(env ? { environment: env } : {}) },
      { ...(deps.planClient ? { client: deps.planClient } : {}), sink: deps.sink, clock },
    );
    const steps = toRunSteps(plan.steps);
    // On the target already (nothing to move): the run still verifies, so the environment can pass
    // the target and record it for the one it promotes to.
    if (!steps.some((s) => s.kind === "verify" && s.minor === target))
      steps.push({
        id: `${steps.length + 1}-verify-${target}`,
        kind: "verify",
        minor: target,
        title: `verify the platform on ${target}`,
        gate: "verification green; only then the next environment may start",
      });
    emit(
      "info",
      "upgrade.run.plan",
      `upgrade ${plan.from} → ${target}: ${steps.length} step(s)${options.dryRun ? " (dry run: nothing changes)" : ""}`,
      { target, from: plan.from, steps, dryRun: options.dryRun ?? false },
    );
    const blockers = plan.findings.filter((f) => f.severity === "blocker");
    if (blockers.length > 0) {
      throw new TenkaiError(
        "UPGRADE_RUN_BLOCKED",
        `the upgrade plan to ${target} has ${blockers.length} blocker(s): ${blockers
          .slice(0, 3)
          .map((b) => b.message)
          .join("; ")}${blockers.length > 3 ? "; ..." : ""}`,
        `fix each (tenkai upgrade plan --to ${target} -f ${specFile}${envFlag} lists them with their fixes), then run again`,
        { problems: blockers },
      );
    }
    await checkPredecessors(options, deps, target, emit, specFile);
    const now = new Date(clock.now()).toISOString();
    state = {
      target,
      from: plan.from,
      ...(env ? { environment: env } : {}),
      steps,
      done: [],
      phase: "running",
      startedAt: now,
      updatedAt: now,
    };
    if (options.dryRun) return result(state, "planned", await deps.controlPlane.version(), false, undefined);
    const baseline = deps.baseline
      ? await takeBaseline(deps.baseline, emit, target, specFile, envFlag)
      : undefined;
    if (baseline) state = { ...state, baseline };
    await store.write(state);
    options.checkpoint?.("state-created");
  }

  let verification: VerifyResult | undefined;
  const skipped = new Set<string>();
  const total = state.steps.length;
  for (const [i, step] of state.steps.entries()) {
    if (state.done.includes(step.id)) continue;
    options.signal?.throwIfAborted();
    state = { ...state, current: step.id, phase: "running", updatedAt: new Date(clock.now()).toISOString() };
    await store.write(state);
    options.checkpoint?.(`step:${step.id}:start`);
    emit("info", "upgrade.run.step.started", `step ${i + 1}/${total}: ${step.title}`, {
      step: step.id,
      kind: step.kind,
      minor: step.minor,
      index: i + 1,
      total,
    });
    const t0 = clock.now();
    let outcome: StepOutcome;
    try {
      const r = await runStep(step, {
        options,
        deps,
        target,
        timeoutMs,
        emit,
        ...(state.baseline ? { baseline: state.baseline } : {}),
      });
      outcome = r.outcome;
      if (r.verification) verification = r.verification;
    } catch (err) {
      const code = err instanceof TenkaiError ? err.code : "INTERNAL";
      state = {
        ...state,
        phase: "failed",
        error: { code, message: err instanceof Error ? err.message : String(err), step: step.id },
        updatedAt: new Date(clock.now()).toISOString(),
      };
      await store.write(state).catch(() => {});
      throw err;
    }
    if (outcome.outcome === "skipped") {
      skipped.add(step.id);
      emit("info", "upgrade.run.step.skipped", `${step.title}: ${outcome.reason}`, {
        step: step.id,
        kind: step.kind,
        reason: outcome.reason,
      });
    } else {
      emit("info", "upgrade.run.step.done", `${step.title}: done in ${fmtS(clock.now() - t0)}`, {
        step: step.id,
        kind: step.kind,
        minor: step.minor,
        ms: clock.now() - t0,
      });
    }
    const { error: _e, current: _c, ...rest } = state;
    state = { ...rest, done: [...state.done, step.id], updatedAt: new Date(clock.now()).toISOString() };
    await store.write(state);
    options.checkpoint?.(`step:${step.id}:done`);
  }
  const version = await deps.controlPlane.version();
  const finishedAt = new Date(clock.now()).toISOString();
  state = { ...state, phase: "done", updatedAt: finishedAt, finishedAt };
  await store.write(state);
  const ms = clock.now() - started;
  emit("info", "upgrade.run.done", `upgraded to ${target}: control plane ${version} in ${fmtS(ms)}`, {
    target,
    version,
    ms,
  });
  return { ...result(state, "done", version, resuming, verification, skipped), ms };
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function result(
  state: UpgradeRunState,
  phase: UpgradeRunResult["phase"],
  version: string,
  resumed: boolean,
  verification: VerifyResult | undefined,
  skipped: ReadonlySet<string> = new Set(),
): UpgradeRunResult {
  return {
    target: state.target,
    from: state.from,
    version,
    phase,
    steps: state.steps.map((s) => ({
      ...s,
      status: skipped.has(s.id) ? "skipped" : state.done.includes(s.id) ? "done" : "pending",
    })),
    ...(verification ? { verification } : {}),
    resumed,
    ms: 0,
  };
}

/** Staging first: every environment that promotes here passed `target` with a green verification. */
async function checkPredecessors(
  options: UpgradeRunOptions,
  deps: UpgradeRunDeps,
  target: string,
  emit: ReturnType<typeof emitter<UpgradeRunEvent>>,
  specFile: string,
): Promise<void> {
  for (const pred of predecessorsOf(options.platform, options.environment)) {
    const run = `tenkai upgrade run --to ${target} -f ${specFile} -e ${pred}`;
    if (!deps.promotions) {
      throw new TenkaiError(
        "UPGRADE_PREDECESSOR_NOT_VERIFIED",
        `${options.environment} may start ${target} only after ${pred} passed it with a green verification, and this run was given no way to read ${pred}'s record`,
        `run it from the CLI with ${pred}'s context in the kubeconfig, after: ${run}`,
      );
    }
    const where = deps.promotions.where(pred);
    const rec = await deps.promotions.read(pred, target);
    emit(
      rec ? "info" : "error",
      "upgrade.run.promotion",
      rec
        ? `${pred} passed ${target} (${rec.version}) with a green verification at ${rec.verifiedAt}: ${rec.summary}`
        : `${pred} has not passed ${target}: no record for ${target} in ${where}`,
      {
        predecessor: pred,
        target,
        verified: rec !== undefined,
        where,
        ...(rec ? { verifiedAt: rec.verifiedAt } : {}),
      },
    );
    if (!rec) {
      throw new TenkaiError(
        "UPGRADE_PREDECESSOR_NOT_VERIFIED",
        `${options.environment} may start ${target} only after ${pred} (promotesTo: ${options.environment}) passed ${target} with a green verification; ${where} has no record for ${target}`,
        `upgrade ${pred} first: ${run} (its green verification writes the record), then run this again`,
        { details: { environment: options.environment, predecessor: pred, target, where } },
      );
    }
  }
}

interface StepContext {
  readonly options: UpgradeRunOptions;
  readonly deps: UpgradeRunDeps;
  readonly target: string;
  readonly timeoutMs: number;
  readonly emit: ReturnType<typeof emitter<UpgradeRunEvent>>;
  readonly baseline?: RunBaseline;
}

/**
 * The baseline before the first step (the run's state keeps it, so a resumed run compares with
 * the same one). Not green: the run does not start.
 */
async function takeBaseline(
  take: TakeBaseline,
  emit: ReturnType<typeof emitter<UpgradeRunEvent>>,
  target: string,
  specFile: string,
  envFlag: string,
): Promise<RunBaseline | undefined> {
  const b = await take();
  emit(b.ok ? "info" : "error", "upgrade.run.baseline", `baseline before the first step: ${b.summary}`, {
    ok: b.ok,
    summary: b.summary,
    ...(b.baseline ? { takenAt: b.baseline.takenAt } : {}),
    ...(b.details === undefined ? {} : { details: b.details }),
  });
  if (!b.ok)
    throw new TenkaiError(
      "UPGRADE_BASELINE_NOT_GREEN",
      `the verification fails before the upgrade to ${target} has changed anything: ${b.summary}`,
      `fix what it names first (tenkai verify network shows it), then run tenkai upgrade run --to ${target} -f ${specFile}${envFlag} again; a loss that was there before could not be told from one the upgrade caused`,
      { details: { summary: b.summary, ...(b.details === undefined ? {} : { baseline: b.details }) } },
    );
  return b.baseline;
}

async function runStep(
  step: RunStep,
  ctx: StepContext,
): Promise<{ outcome: StepOutcome; verification?: VerifyResult }> {
  const { deps, options, timeoutMs, emit } = ctx;
  switch (step.kind) {
    case "control-plane": {
      const before = await deps.controlPlane.version();
      const have = parseMinor(before);
      const want = requireMinor(step.minor, "step");
      if (have && compareMinor(have, want) >= 0)
        return { outcome: { outcome: "skipped", reason: `the control plane runs ${before} already` } };
      emit("info", "upgrade.run.control-plane", `control plane ${before} → ${step.minor}`, {
        from: before,
        to: step.minor,
      });
      const after = await deps.controlPlane.upgrade(step.minor, timeoutMs, options.signal);
      const got = parseMinor(after);
      if (!got || compareMinor(got, want) !== 0)
        throw new TenkaiError(
          "UPGRADE_CONTROL_PLANE_FAILED",
          `the control plane reports ${after} after the move to ${step.minor}`,
          "check the control plane's health, then run again",
        );
      return { outcome: { outcome: "done" } };
    }
    case "addon-before":
    case "addon-after": {
      if (!step.addon) return { outcome: { outcome: "skipped", reason: "the step names no add-on" } };
      const r = await deps.addons.update(step.addon, timeoutMs, options.signal);
      return { outcome: r.outcome === "moved" ? { outcome: "done" } : r };
    }
    case "rotate-node-group":
      return { outcome: await rotateGroup(step, ctx) };
    case "fargate-restart":
      return {
        outcome: {
          outcome: "skipped",
          reason:
            "Fargate pods keep the kubelet they started with and tenkai does not restart them: run kubectl rollout restart deployment -n <each Fargate namespace>",
        },
      };
    case "verify": {
      const v = await deps.verify({
        minor: step.minor,
        target: ctx.target,
        ...(options.environment ? { environment: options.environment } : {}),
        ...(ctx.baseline ? { baseline: ctx.baseline } : {}),
      });
      emit(v.ok ? "info" : "error", "upgrade.run.verified", `verification on ${step.minor}: ${v.summary}`, {
        minor: step.minor,
        ok: v.ok,
        summary: v.summary,
        ...(v.details === undefined ? {} : { details: v.details }),
      });
      if (!v.ok) {
        throw new TenkaiError(
          "UPGRADE_VERIFY_FAILED",
          `the verification on ${step.minor} is not green: ${v.summary}`,
          `fix what it names, then run tenkai upgrade run --to ${ctx.target} again: it resumes at the verification; nothing is promoted until it is green`,
          { details: { minor: step.minor, summary: v.summary } },
        );
      }
      if (step.minor === ctx.target && options.environment && deps.promotions) {
        const version = await deps.controlPlane.version();
        await deps.promotions.write({
          environment: options.environment,
          target: ctx.target,
          version,
          verifiedAt: new Date().toISOString(),
          summary: v.summary,
        });
        const where = deps.promotions.where(options.environment);
        emit(
          "info",
          "upgrade.run.recorded",
          `recorded ${options.environment} passed ${ctx.target} in ${where}`,
          {
            environment: options.environment,
            target: ctx.target,
            where,
          },
        );
      }
      return { outcome: { outcome: "done" }, verification: v };
    }
  }
}

/** Rotates a node group onto the control plane's version, unless every node runs it already. */
async function rotateGroup(step: RunStep, ctx: StepContext): Promise<StepOutcome> {
  const { deps, options, timeoutMs, emit } = ctx;
  const group = step.group ?? "";
  const ng = options.platform.spec.nodeGroups.find((g) => g.name === group);
  if (!ng) return { outcome: "skipped", reason: `node group ${group} is no longer in the spec` };
  const version = deps.controlPlane.nodeVersion(await deps.controlPlane.version());
  const nodesOf = async () =>
    (
      await deps.cluster.clients.core.listNode({
        labelSelector: `${NODEGROUP_LABEL} in (${nodegroupName(group, "blue")},${nodegroupName(group, "green")})`,
      })
    ).items;
  const rotation = await new RotationStateStore(deps.cluster.clients.core).read(group);
  const rotating = rotation !== undefined && !["done", "rolled-back"].includes(rotation.phase);
  const before = await nodesOf();
  if (!rotating && before.length === 0)
    return {
      outcome: "skipped",
      reason: `node group ${group} has no nodes in the cluster (${nodegroupName(group, "blue")}/${nodegroupName(group, "green")}): nothing to rotate`,
    };
  if (
    !rotating &&
    before.length > 0 &&
    before.every((n) => kubeletOn(n.status?.nodeInfo?.kubeletVersion, version))
  )
    return {
      outcome: "skipped",
      reason: `every node of ${group} (${before.length}) runs ${version} already`,
    };
  const slotTemplate: Omit<NodeGroupSlotSpec, "slot" | "nodegroupName"> = {
    group,
    instanceTypes: ng.instanceTypes,
    desired: ng.desired ?? ng.min,
    min: ng.min,
    max: ng.max,
    zones: [],
    kubernetesVersion: version,
    labels: ng.labels,
    taints: ng.taints,
    capacityType: ng.capacityType,
  };
  const r = options.rotation ?? {};
  await rotate(
    {
      group,
      slotTemplate,
      specActiveSlot: ng.activeSlot,
      timeoutMs,
      ...(r.maxDraining !== undefined ? { maxDraining: r.maxDraining } : {}),
      ...(r.budgetTimeoutMs !== undefined ? { budgetTimeoutMs: r.budgetTimeoutMs } : {}),
      ...(r.noSurge !== undefined ? { noSurge: r.noSurge } : {}),
      ...(r.stallAfterMs !== undefined ? { stallAfterMs: r.stallAfterMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    },
    {
      cluster: deps.cluster,
      provider: await deps.providerFor(group),
      ...(deps.sink ? { sink: deps.sink } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
    },
  );
  const after = await nodesOf();
  const behind = after
    .filter((n) => !kubeletOn(n.status?.nodeInfo?.kubeletVersion, version))
    .map((n) => `${n.metadata?.name} (${n.status?.nodeInfo?.kubeletVersion})`);
  emit(
    behind.length ? "error" : "info",
    "upgrade.run.nodes",
    `${group}: ${after.length - behind.length}/${after.length} node(s) on ${version}`,
    { group, nodes: after.length, behind, version },
  );
  if (behind.length > 0)
    throw new TenkaiError(
      "UPGRADE_NODES_BEHIND",
      `after its rotation, ${behind.length} node(s) of ${group} do not run ${version}: ${behind.join(", ")}`,
      `check the node provider's version for the group, then run again (tenkai nodes status ${group})`,
      { details: { group, version, behind } },
    );
  return { outcome: "done" };
}
