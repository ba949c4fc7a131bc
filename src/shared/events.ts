/**
 * The one event channel (STYLE.md 6: engines never print). Every engine reports through an
 * injected `EventSink` with one event shape: when, how loud, a stable dotted code
 * (`<engine>.<thing>[.<what happened>]`: `rotation.pod.evicted`, `apply.object`), a sentence for
 * people and the ids and counts in `data`, for scripts and for the CLI, which renders from `data`
 * and `level`, never by cutting `message`.
 *
 * Engines narrow `code` and `data` to their own union (`RotationEvent`, `ApplyEvent`, ...), so a
 * consumer switching on `code` gets typed data.
 */
import type { Clock } from "./clock.js";

/** `debug` is detail (per object, per pod); `info` progress; `warn` needs a look; `error` failed. */
export type EventLevel = "debug" | "info" | "warn" | "error";

export interface TenkaiEvent<C extends string = string, D = Readonly<Record<string, unknown>>> {
  /** ISO 8601, from the engine's clock. */
  readonly time: string;
  readonly level: EventLevel;
  readonly code: C;
  readonly message: string;
  readonly data: D;
}

export type EventSink<E extends TenkaiEvent = TenkaiEvent> = (event: E) => void;

type DataOf<E extends TenkaiEvent, C extends E["code"]> = Extract<E, { code: C }>["data"];

/** The emit function an engine holds: typed by its event union, stamped by its clock. */
export type Emit<E extends TenkaiEvent> = <C extends E["code"]>(
  level: EventLevel,
  code: C,
  message: string,
  data: DataOf<E, C>,
) => void;

export function emitter<E extends TenkaiEvent>(
  sink: EventSink<E> | undefined,
  clock?: Pick<Clock, "now">,
): Emit<E> {
  const now = clock ? () => clock.now() : () => Date.now();
  return (level, code, message, data) => {
    sink?.({ time: new Date(now()).toISOString(), level, code, message, data } as unknown as E);
  };
}
