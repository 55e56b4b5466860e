import { describe, expect, it } from 'vitest';
import { CronScheduleError, cronRuns, longestCronGapMs } from './cron-gap.js';

const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

describe('longestCronGapMs', () => {
  it.each([
    ['*/5 * * * *', 5 * MIN],
    ['3-59/5 * * * *', 5 * MIN],
    ['7,37 * * * *', 30 * MIN],
    ['5/20 * * * *', 20 * MIN], // 5, 25, 45, then 5 past the next hour
    ['0,50 * * * *', 50 * MIN],
    ['0 */6 * * *', 6 * 60 * MIN],
    ['@hourly', 60 * MIN],
    ['0 0 * * 1-5', 3 * 24 * 60 * MIN], // Friday to Monday
  ])('%s: %d ms', (schedule, gap) => {
    expect(longestCronGapMs(schedule)).toBe(gap);
  });

  it.each([
    ['*/5 * * *', 'five fields'],
    ['MON * * * *', 'not understood'],
    ['60 * * * *', 'out of range'],
    ['*/0 * * * *', 'out of range'],
    ['10-5 * * * *', 'out of range'],
    ['0 0 30 2 *', 'does not run repeatedly'],
  ])('%s is refused (%s)', (schedule, why) => {
    expect(() => longestCronGapMs(schedule)).toThrow(CronScheduleError);
    expect(() => longestCronGapMs(schedule)).toThrow(why);
  });
});

describe('cronRuns', () => {
  it('lists the runs in [from, to), ascending', () => {
    expect(cronRuns('*/20 * * * *', at('2026-01-01T00:10:00Z'), at('2026-01-01T01:00:00Z'))).toEqual([at('2026-01-01T00:20:00Z'), at('2026-01-01T00:40:00Z')]);
  });

  it('runs when either day field matches if both are restricted (Vixie cron), as the gap assumes', () => {
    // 2026-01-01 is a Thursday (4): the 1st by day of month, the 5th (Monday) by day of week.
    const runs = cronRuns('0 0 1 * 1', at('2026-01-01T00:00:00Z'), at('2026-01-06T00:00:00Z'));
    expect(runs).toEqual([at('2026-01-01T00:00:00Z'), at('2026-01-05T00:00:00Z')]);
  });

  it('day of week 7 is Sunday', () => {
    // 2026-01-04 is a Sunday.
    expect(cronRuns('0 0 * * 7', at('2026-01-01T00:00:00Z'), at('2026-01-08T00:00:00Z'))).toEqual([at('2026-01-04T00:00:00Z')]);
  });
});
