/**
 * Validates CronJob schedules the way Kubernetes does: the controller parses them with
 * robfig/cron's standard parser (five fields, names for months and weekdays, ranges, steps,
 * lists, and the @-descriptors). `TZ=`/`CRON_TZ=` prefixes are rejected by the API since 1.27;
 * use the CronJob's `timeZone` field instead.
 */
const DESCRIPTORS = new Set([
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]);
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldRule {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly namesStart?: number;
}

const FIELDS: readonly FieldRule[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, namesStart: 1 },
  { min: 0, max: 6, names: DAYS, namesStart: 0 },
];

function value(token: string, rule: FieldRule): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const i = rule.names?.indexOf(token.toUpperCase()) ?? -1;
  return i >= 0 ? i + (rule.namesStart ?? 0) : undefined;
}

function validPart(part: string, rule: FieldRule): boolean {
  const [range, step, extra] = part.split("/");
  if (extra !== undefined || range === undefined || range === "") return false;
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return false;
  if (range === "*" || range === "?") return true;
  const [lo, hi, more] = range.split("-");
  if (more !== undefined || lo === undefined) return false;
  const a = value(lo, rule);
  const b = hi === undefined ? a : value(hi, rule);
  return a !== undefined && b !== undefined && a >= rule.min && b <= rule.max && a <= b;
}

export function isValidCronSchedule(schedule: string): boolean {
  const s = schedule.trim();
  if (DESCRIPTORS.has(s)) return true;
  if (/^@every\s+\S+$/.test(s)) return /^@every\s+(\d+(ns|us|µs|ms|s|m|h))+$/.test(s);
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return false;
  return fields.every((f, i) => f.split(",").every((part) => validPart(part, FIELDS[i]!)));
}

function expand(field: string, rule: FieldRule): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [range = "*", stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    let lo = rule.min;
    let hi = rule.max;
    if (range !== "*" && range !== "?") {
      const [a, b] = range.split("-");
      lo = value(a!, rule)!;
      hi = b === undefined ? (stepText ? rule.max : lo) : value(b, rule)!;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

const DESCRIPTOR_FIELDS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/**
 * How many times a schedule fires in a 30-day month (counted over 2026-04-01..30, UTC), for cost
 * estimates. Day-of-month and day-of-week combine with OR when both are restricted, as in cron.
 */
export function runsPerMonth(schedule: string): number {
  const s = schedule.trim();
  const every = /^@every\s+(.+)$/.exec(s);
  if (every) {
    const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
    let seconds = 0;
    for (const m of every[1]!.matchAll(/(\d+)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * units[m[2]!]!;
    return seconds > 0 ? Math.floor((30 * 86400) / seconds) : 0;
  }
  const fields = (DESCRIPTOR_FIELDS[s] ?? s).split(/\s+/);
  const [min, hour, dom, month, dow] = fields.map((f, i) => expand(f, FIELDS[i]!));
  const domStar = fields[2] === "*" || fields[2] === "?";
  const dowStar = fields[4] === "*" || fields[4] === "?";
  let days = 0;
  for (let d = 1; d <= 30; d++) {
    const date = new Date(Date.UTC(2026, 3, d));
    const domOk = dom!.has(d);
    const dowOk = dow!.has(date.getUTCDay());
    const dayOk = domStar || dowStar ? domOk && dowOk : domOk || dowOk;
    if (dayOk) days++;
  }
  const perMonth = days * min!.size * hour!.size;
  // Averaged over a year: a schedule that fires in 3 months of 12 costs a quarter as much.
  return month!.size === 12
    ? perMonth
    : (runsPerMonth(fields.map((f, i) => (i === 3 ? "*" : f)).join(" ")) * month!.size) / 12;
}
