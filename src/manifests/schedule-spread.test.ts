import { describe, expect, it } from 'vitest';
import { alertTimings } from './alerting-rule.js';
import { cronRuns, longestCronGapMs } from './cron-gap.js';
import { cronJobObject, DEFAULT_RENEW_BEFORE, DEFAULT_SCHEDULE } from './kubernetes-objects.js';
import { cronJobSchedule, DEFAULT_PERIOD_MINUTES, scheduleOffset } from './schedule-spread.js';

const HOUR = 3_600_000;
const timingsOf = (schedule: string) =>
  alertTimings(cronJobObject({ image: 'i', capUrl: 'https://cap.example', agency: 'a', mission: 'm', schedule, renewBefore: DEFAULT_RENEW_BEFORE }));

describe('the schedule spread by cluster name', () => {
  it('keeps the period of the default schedule', () => {
    expect(DEFAULT_SCHEDULE).toBe(`*/${DEFAULT_PERIOD_MINUTES} * * * *`);
  });

  // Expected offsets computed outside this code: python3 -c 'import hashlib; print(int(hashlib.sha256(b"NAME").hexdigest(), 16) % 5)'
  it.each([
    ['prod-east-1', 0, '*/5 * * * *'],
    ['lab', 1, '1-59/5 * * * *'],
    ['enclave-2', 2, '2-59/5 * * * *'],
    ['cluster-a', 3, '3-59/5 * * * *'],
    ['c2s-ocp-a', 4, '4-59/5 * * * *'],
  ])('%s: offset %i, schedule "%s"', (name, offset, schedule) => {
    expect(scheduleOffset(name)).toBe(offset);
    expect(cronJobSchedule({ clusterName: name })).toBe(schedule);
  });

  it('gives the same name the same schedule every time, and different names different schedules', () => {
    expect(cronJobSchedule({ clusterName: 'cluster-a' })).toBe(cronJobSchedule({ clusterName: 'cluster-a' }));
    const names = ['prod-east-1', 'lab', 'enclave-2', 'cluster-a', 'c2s-ocp-a'];
    expect(new Set(names.map((clusterName) => cronJobSchedule({ clusterName }))).size).toBe(names.length);
  });

  it('spreads a thousand clusters over the five minutes, none with more than a quarter', () => {
    const counts = [0, 0, 0, 0, 0];
    for (let i = 1; i <= 1000; i++) counts[scheduleOffset(`cluster-${String(i).padStart(4, '0')}`)]! += 1;
    expect(counts).toEqual([198, 191, 196, 204, 211]);
    for (const count of counts) expect(count).toBeLessThan(250);
  });

  it.each(['lab', 'enclave-2', 'cluster-a', 'c2s-ocp-a'])(
    '%s: runs 12 times an hour, 5 minutes apart across the hour, with the default alert thresholds',
    (name) => {
      const schedule = cronJobSchedule({ clusterName: name });
      const offset = scheduleOffset(name);
      const runs = cronRuns(schedule, 0, 2 * HOUR).map((t) => t / 60_000);
      expect(runs).toEqual(Array.from({ length: 24 }, (_, k) => offset + 5 * k));
      expect(longestCronGapMs(schedule)).toBe(5 * 60_000);
      const { schedule: _spread, ...thresholds } = timingsOf(schedule);
      const { schedule: _default, ...defaults } = timingsOf(DEFAULT_SCHEDULE);
      expect(thresholds).toEqual(defaults);
    },
  );

  it('keeps an explicit schedule as given, and the default without a cluster name', () => {
    expect(cronJobSchedule({ schedule: '*/5 * * * *', clusterName: 'lab' })).toBe('*/5 * * * *');
    expect(cronJobSchedule({ schedule: '7,37 * * * *', clusterName: 'lab' })).toBe('7,37 * * * *');
    expect(cronJobSchedule({})).toBe(DEFAULT_SCHEDULE);
    expect(cronJobSchedule({ clusterName: '  ' })).toBe(DEFAULT_SCHEDULE);
  });
});
