/**
 * Validates CronJob schedules the way Kubernetes does: the controller parses them with
 * robfig/cron's standard parser (five fields, names for months and weekdays, ranges, steps,
 * lists, and the @-descriptors). `TZ=`/`CRON_TZ=` prefixes are rejected by the API since 1.27;
 * use the CronJob's `timeZone` field instead.
 */
const DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
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
