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
    const m = /^(?:(\*)|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronScheduleError(`the ${field.name} field "${text}" is not understood (use numbers, *, ranges, steps and lists)`);
    const [, star, low, high, stepText] = m;
    const from = star ? field.min : Number(low);
    // A single number with a step ("5/15") runs from it to the field's end, as cron reads it.
    const to = star ? field.max : high !== undefined ? Number(high) : stepText ? field.max : from;
    const step = stepText ? Number(stepText) : 1;
    if (from < field.min || to > field.max || from > to || step < 1) throw new CronScheduleError(`the ${field.name} field "${text}" is out of range`);
    for (let v = from; v <= to; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

interface Schedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  runsOnDay(d: Date): boolean;
}

function parseSchedule(schedule: string): Schedule {
  const expanded = MACROS[schedule.trim()] ?? schedule.trim();
  const parts = expanded.split(/\s+/);
  const [minute, hour, dom, month, dow] = parts;
  if (parts.length !== 5 || minute === undefined || hour === undefined || dom === undefined || month === undefined || dow === undefined) {
    throw new CronScheduleError(`"${schedule}" is not a cron schedule of five fields`);
  }
  const [minuteField, hourField, domField, monthField, dowField] = FIELDS;
  const doms = parseField(dom, domField);
  const months = parseField(month, monthField);
  const dows = parseField(dow, dowField);
  const bothDaysRestricted = !dom.startsWith('*') && !dow.startsWith('*');
  const ascending = (values: Set<number>) => [...values].sort((a, b) => a - b);
  return {
    minutes: ascending(parseField(minute, minuteField)),
    hours: ascending(parseField(hour, hourField)),
    runsOnDay(d) {
      if (!months.has(d.getUTCMonth() + 1)) return false;
      const byDom = doms.has(d.getUTCDate());
      const byDow = dows.has(d.getUTCDay());
      // Vixie cron: when both day fields are restricted, either may match.
      return bothDaysRestricted ? byDom || byDow : byDom && byDow;
    },
  };
}

const DAY_MS = 86_400_000;

/** Longest gap between consecutive runs, in ms, over four years of minutes (UTC, as the CronJob controller counts without a timeZone). */
export function longestCronGapMs(schedule: string): number {
  let previous: number | undefined;
  let longest = 0;
  for (const t of runsBetween(parseSchedule(schedule), Date.UTC(2024, 0, 1), Date.UTC(2028, 0, 1))) {
    if (previous !== undefined) longest = Math.max(longest, t - previous);
    previous = t;
  }
  if (longest === 0) throw new CronScheduleError(`"${schedule}" does not run repeatedly`);
  return longest;
}

/** The run times of a schedule in [fromMs, toMs), in ms, ascending (for tests and simulations). */
export function cronRuns(schedule: string, fromMs: number, toMs: number): number[] {
  return [...runsBetween(parseSchedule(schedule), fromMs, toMs)];
}

function* runsBetween({ minutes, hours, runsOnDay }: Schedule, fromMs: number, toMs: number): Generator<number> {
  for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS; day < toMs; day += DAY_MS) {
    if (!runsOnDay(new Date(day))) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = day + h * 3_600_000 + m * 60_000;
        if (t >= fromMs && t < toMs) yield t;
      }
    }
  }
}
