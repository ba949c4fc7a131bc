/**
 * `tenkai nodes rotate GROUP --rollback`: undoes a rotation that has not deleted blue yet. Blue
 * is uncordoned first, then green is cordoned and drained back onto blue through the same
 * budget-bounded drain (so rolling back is as safe as rolling forward), then green is deleted.
 * Resumable like the rotation itself: the phase `rolling-back` is recorded before anything moves.
 */

import { systemClock } from "../shared/clock.js";
import { TenkaiError } from "../shared/errors.js";
import { emitter } from "../shared/events.js";
import { fmtMs } from "./drain.js";
import { cordon, slotNodes } from "./nodes.js";
import { type RotationResult, RotationRun, resolveOptions } from "./rotate.js";
import { StateStore } from "./state.js";
import type { RotationDeps, RotationOptions } from "./types.js";

export async function rollback(options: RotationOptions, deps: RotationDeps): Promise<RotationResult> {
  const o = resolveOptions(options);
  const clock = deps.clock ?? systemClock;
  const emit = emitter(deps.sink, clock);
  const clients = deps.cluster.clients;
  const store = new StateStore(clients.core, o.stateNamespace);
  const started = clock.now();
  const state = await store.read(o.group);
  if (!state || state.phase === "rolled-back") {
    throw new TenkaiError(
      "ROTATION_NOTHING_TO_ROLL_BACK",
      `node group ${o.group} has no rotation in progress`,
      "nothing to do; `tenkai nodes status` shows the active slot",
    );
  }
  if (state.phase === "done" || state.phase === "deleting-blue") {
    throw new TenkaiError(
      "ROTATION_TOO_LATE",
      `the rotation of ${o.group} has ${state.phase === "done" ? "finished" : "started deleting"} ${state.fromNodegroup}; there is no blue to go back to`,
      state.phase === "done"
        ? `rotate again to move back to ${state.from}: tenkai nodes rotate ${o.group}`
        : `let it finish (tenkai nodes rotate ${o.group}), then rotate again to move back`,
    );
  }
  if (o.dryRun) return { group: o.group, phase: state.phase, activeSlot: state.activeSlot, ms: 0 };
  const view = await deps.cluster.watch(() => clock.now());
  try {
    // Record intent first, so a rotate run cannot pick the half-undone rotation up again. A
    // rollback resumed after a crash keeps the green nodes it had already drained.
    const rb = {
      ...state,
      phase: "rolling-back" as const,
      nodesDone: state.phase === "rolling-back" ? state.nodesDone : [],
      updatedAt: new Date(clock.now()).toISOString(),
    };
    await store.write(rb);
    const run = new RotationRun(o, deps, clock, clients, store, view, rb, undefined);
    emit("info", "rotation.phase", `${o.group}: rolling back to ${state.from}`, {
      group: o.group,
      phase: "rolling-back",
    });
    o.checkpoint?.("phase:rolling-back");

    const blue = [
      ...new Set([
        ...state.blueNodes,
        ...(await slotNodes(clients, state.fromNodegroup)).map((n) => n.metadata?.name ?? ""),
      ]),
    ];
    for (const node of blue) {
      await cordon(clients, node, false);
      emit("debug", "rotation.node.uncordoned", `node ${node}: uncordoned`, { node });
    }
    const green = (await slotNodes(clients, state.toNodegroup)).map((n) => n.metadata?.name ?? "");
    for (const node of green) {
      await cordon(clients, node, true);
      emit("debug", "rotation.node.cordoned", `node ${node}: cordoned`, { node });
    }
    o.checkpoint?.("rollback:cordoned");
    await run.drain(green, new Set(rb.nodesDone), state.toNodegroup);
    await run.deleteSlot(state.toNodegroup, green);
    const now = new Date(clock.now()).toISOString();
    await store.write({
      ...rb,
      phase: "rolled-back",
      activeSlot: state.from,
      nodesDone: green,
      updatedAt: now,
      finishedAt: now,
    });
    const ms = clock.now() - started;
    emit("info", "rotation.done", `${o.group}: rolled back to ${state.from} in ${fmtMs(ms)}`, {
      group: o.group,
      activeSlot: state.from,
      ms,
    });
    return { group: o.group, phase: "rolled-back", activeSlot: state.from, ms };
  } finally {
    await view.stop();
  }
}
