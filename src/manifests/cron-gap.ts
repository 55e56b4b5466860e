/**
 * The longest time between two runs of a five-field cron schedule, which the alert
 * thresholds are computed from. Numbers, `*`, ranges, steps and lists; `@hourly` and
 * friends. Names (MON, JAN) and `?`/`L`/`W` are not understood: the schedule is refused.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronScheduleError extends Error {}

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronScheduleError(`the ${field.name} field "${text}" is not understood (use numbers, *, ranges, steps and lists)`);
    const range = m[1] === '*' ? [field.min, field.max] : m[1]!.split('-').map(Number);
    const from = range[0]!;
    const to = range.length === 2 ? range[1]! : m[2] && m[1] !== '*' ? field.max : range[0]!;
    const step = m[2] ? Number(m[2]) : 1;
    if (from < field.min || to > field.max || from > to || step < 1) throw new CronScheduleError(`the ${field.name} field "${text}" is out of range`);
    for (let v = from; v <= to; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

/** Longest gap between consecutive runs, in ms, over four years of minutes (UTC, as the CronJob controller counts without a timeZone). */
export function longestCronGapMs(schedule: string): number {
  const expanded = MACROS[schedule.trim()] ?? schedule.trim();
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new CronScheduleError(`"${schedule}" is not a cron schedule of five fields`);
  const [minutes, hours, doms, months, dows] = parts.map((p, i) => parseField(p, FIELDS[i]!));
  const domStar = parts[2]!.startsWith('*');
  const dowStar = parts[4]!.startsWith('*');
  const dayMatches = (d: Date) => {
    const dom = doms!.has(d.getUTCDate());
    const dow = dows!.has(d.getUTCDay());
    // Vixie cron: when both day fields are restricted, either may match.
    if (domStar || dowStar) return dom && dow;
    return dom || dow;
  };
  const start = Date.UTC(2024, 0, 1);
  const end = Date.UTC(2028, 0, 1);
  let first: number | undefined;
  let last: number | undefined;
  let longest = 0;
  for (let day = start; day < end; day += 86_400_000) {
    const d = new Date(day);
    if (!months!.has(d.getUTCMonth() + 1) || !dayMatches(d)) continue;
    for (const h of [...hours!].sort((a, b) => a - b)) {
      for (const m of [...minutes!].sort((a, b) => a - b)) {
        const t = day + h * 3_600_000 + m * 60_000;
        if (last !== undefined) longest = Math.max(longest, t - last);
        first ??= t;
        last = t;
      }
    }
  }
  if (first === undefined || last === undefined || first === last) throw new CronScheduleError(`"${schedule}" does not run repeatedly`);
  return longest;
}

/** The run times of a schedule in [fromMs, toMs), minute by minute (for tests and simulations). */
export function cronRuns(schedule: string, fromMs: number, toMs: number): number[] {
  const expanded = MACROS[schedule.trim()] ?? schedule.trim();
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new CronScheduleError(`"${schedule}" is not a cron schedule of five fields`);
  const [minutes, hours, doms, months, dows] = parts.map((p, i) => parseField(p, FIELDS[i]!));
  const runs: number[] = [];
  for (let t = Math.ceil(fromMs / 60_000) * 60_000; t < toMs; t += 60_000) {
    const d = new Date(t);
    if (
      minutes!.has(d.getUTCMinutes()) &&
      hours!.has(d.getUTCHours()) &&
      doms!.has(d.getUTCDate()) &&
      months!.has(d.getUTCMonth() + 1) &&
      dows!.has(d.getUTCDay())
    )
      runs.push(t);
  }
  return runs;
}
