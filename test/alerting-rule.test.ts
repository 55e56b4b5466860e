// The AlertingRule against `promtool test rules` (Debian's prometheus package; .ci/run
// installs it): synthetic kube-state-metrics series, minute by minute, for a healthy job,
// failing runs, a job that stopped, a suspended and a deleted CronJob. Each alert must fire
// at the minute computed here and not one evaluation before, and for every setting the
// no-success alert fires at least 15 minutes before the earliest a managed Secret can expire.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ALERTS, alertingRuleObject, alertTimings, type AlertTimings, EXPIRY_WARNING_MS } from '../src/manifests/alerting-rule.js';
import { cronRuns } from '../src/manifests/cron-gap.js';
import { cronJobObject, DEFAULT_RENEW_BEFORE, DEFAULT_SCHEDULE } from '../src/manifests/kubernetes-objects.js';
import { cronJobSchedule } from '../src/manifests/schedule-spread.js';

const run = promisify(execFile);
const NS = 'cap-token-refresh';
const CRONJOB = 'cap-token-refresh';
const HORIZON = 150; // minutes simulated
const HISTORY = 3; // successfulJobsHistoryLimit and failedJobsHistoryLimit of the CronJob

function findPromtool(): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin']) {
    if (dir && existsSync(join(dir, 'promtool'))) return join(dir, 'promtool');
  }
  throw new Error('promtool not found on PATH or in /usr/bin: install Debian\'s "prometheus" package (.ci/run does)');
}

const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function timingsFor(schedule: string, renewBefore: string): AlertTimings {
  return alertTimings(cronJobObject({ image: 'i', capUrl: 'https://cap.example', agency: 'a', mission: 'm', schedule, renewBefore }));
}

type Sample = number | 'stale' | undefined;
type Series = Map<string, Sample[]>;

interface Scenario {
  name: string;
  /** What happens to the run scheduled at this minute. */
  outcome: (minute: number) => 'success' | 'failure' | 'none';
  suspendedFrom?: number;
  deletedAt?: number;
  /** From this minute, finished Jobs are gone (deleted by hand): only the CronJob's own status is left. */
  jobsDeletedFrom?: number;
  /** Deleted series end with a staleness marker (a live scrape) or just stop (the worst case: seen 5 more minutes). */
  deletedWithoutMarker?: boolean;
}

/** kube-state-metrics as OpenShift scrapes it, one sample a minute: the CronJob and its Jobs (at most 3 of each outcome kept). */
function simulate(timings: AlertTimings, scenario: Scenario): Series {
  const series: Series = new Map();
  const set = (key: string, minute: number, value: number) => {
    const values = series.get(key) ?? Array<Sample>(HORIZON + 1).fill(undefined);
    values[minute] = value;
    series.set(key, values);
  };
  const end = scenario.deletedAt ?? HORIZON + 1;
  const runs = cronRuns(timings.schedule, 0, HORIZON * 60_000).map((t) => t / 60_000);
  const jobs = runs
    .filter((r) => r < end && (scenario.suspendedFrom === undefined || r < scenario.suspendedFrom))
    .map((r) => ({ start: r, outcome: scenario.outcome(r), done: r + (scenario.outcome(r) === 'failure' ? 2 : 1) }))
    .filter((j) => j.outcome !== 'none');
  for (let m = 0; m < Math.min(end, HORIZON + 1); m++) {
    const cron = `{namespace="${NS}", cronjob="${CRONJOB}"}`;
    set(`kube_cronjob_info{namespace="${NS}", cronjob="${CRONJOB}", schedule="${timings.schedule}", concurrency_policy="Forbid"}`, m, 1);
    set(`kube_cronjob_spec_suspend${cron}`, m, scenario.suspendedFrom !== undefined && m >= scenario.suspendedFrom ? 1 : 0);
    const lastSuccess = jobs.filter((j) => j.outcome === 'success' && j.done <= m).at(-1);
    if (lastSuccess) set(`kube_cronjob_status_last_successful_time${cron}`, m, lastSuccess.done * 60);
    const lastScheduled = jobs.filter((j) => j.start <= m).at(-1);
    if (lastScheduled) set(`kube_cronjob_status_last_schedule_time${cron}`, m, lastScheduled.start * 60);
    for (const job of jobs) {
      if (job.start > m) continue;
      if (scenario.jobsDeletedFrom !== undefined && m >= scenario.jobsDeletedFrom && job.done <= m) continue; // someone deleted the finished Jobs
      const newerDone = jobs.filter((j) => j.outcome === job.outcome && j.start > job.start && j.done <= m).length;
      if (job.done <= m && newerDone >= HISTORY) continue; // pruned by the history limit
      const j = `namespace="${NS}", job_name="${CRONJOB}-${job.start}"`;
      set(`kube_job_owner{${j}, owner_kind="CronJob", owner_name="${CRONJOB}", owner_is_controller="true"}`, m, 1);
      set(`kube_job_status_start_time{${j}}`, m, job.start * 60);
      set(`kube_job_status_succeeded{${j}}`, m, job.outcome === 'success' && job.done <= m ? 1 : 0);
      if (job.outcome === 'failure' && job.done <= m) {
        set(`kube_job_failed{${j}, condition="true"}`, m, 1);
        set(`kube_job_failed{${j}, condition="false"}`, m, 0);
      }
    }
  }
  // A vanished object: kube-state-metrics stops exporting it, and the next scrape marks its series stale.
  for (const values of series.values()) {
    let last = values.length - 1;
    while (last >= 0 && values[last] === undefined) last--;
    if (last >= 0 && last < HORIZON && !scenario.deletedWithoutMarker) values[last + 1] = 'stale';
  }
  return series;
}

function encode(values: Sample[]): string {
  return values.map((v) => (v === undefined ? '_' : String(v))).join(' ');
}

interface Expectation {
  /** The first minute at which each alert is firing; it keeps firing to the end (or to `lastFiring`). Absent: never fires. */
  firstFiring: Partial<Record<keyof typeof ALERTS, number>>;
  lastFiring?: Partial<Record<keyof typeof ALERTS, number>>;
}

async function promtoolTest(timings: AlertTimings, scenario: Scenario, expected: Expectation): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cap-alerts-'));
  scratchDirs.push(dir);
  const rule = alertingRuleObject(timings) as unknown as { spec: { groups: { name: string; rules: Record<string, any>[] }[] } };
  await writeFile(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
  const byName = new Map(rule.spec.groups[0]!.rules.map((r) => [r.alert as string, r]));
  const tests: object[] = [];
  for (let m = 0; m <= HORIZON; m++) {
    for (const [key, alertname] of Object.entries(ALERTS) as [keyof typeof ALERTS, string][]) {
      const first = expected.firstFiring[key];
      const last = expected.lastFiring?.[key] ?? HORIZON;
      const r = byName.get(alertname)!;
      const extra = key === 'suspended' || key === 'absent' ? { cronjob: CRONJOB } : {};
      tests.push({
        eval_time: `${m}m`,
        alertname,
        exp_alerts:
          first !== undefined && m >= first && m <= last ? [{ exp_labels: { ...r.labels, ...extra, namespace: NS }, exp_annotations: r.annotations }] : [],
      });
    }
  }
  const series = simulate(timings, scenario);
  const test = {
    rule_files: ['rules.yaml'],
    evaluation_interval: '1m',
    tests: [{ interval: '1m', input_series: [...series].map(([name, values]) => ({ series: name, values: encode(values) })), alert_rule_test: tests }],
  };
  await writeFile(join(dir, 'test.yaml'), stringify(test, { lineWidth: 0 }));
  try {
    await run(findPromtool(), ['test', 'rules', 'test.yaml'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed for "${scenario.name}":\n${(e.stdout ?? '').slice(0, 4000)}\n${(e.stderr ?? '').slice(0, 4000)}`);
  }
}

const SETTINGS = [
  { schedule: DEFAULT_SCHEDULE, renewBefore: DEFAULT_RENEW_BEFORE },
  { schedule: '3-59/5 * * * *', renewBefore: '25m' },
  // What generate writes by default for --cluster-name c2s-ocp-a (spread to minute 4 of every 5).
  { schedule: cronJobSchedule({ clusterName: 'c2s-ocp-a' }), renewBefore: DEFAULT_RENEW_BEFORE },
  { schedule: '7,37 * * * *', renewBefore: '50m' },
];

describe.each(SETTINGS)('alerts for schedule "$schedule" and margin $renewBefore', ({ schedule, renewBefore }) => {
  const timings = timingsFor(schedule, renewBefore);
  const runs = cronRuns(schedule, 0, HORIZON * 60_000).map((t) => t / 60_000);
  const staleMin = timings.staleAfterMs / 60_000;
  /** First evaluation (whole minutes) at which time() - S exceeds the threshold. */
  const staleFiresAt = (lastStart: number) => lastStart + staleMin + 1;
  const marginMin = timings.renewBeforeMs / 60_000;
  const stopAfter = runs.find((r) => r >= 40)!; // the last run that happens
  const previousRun = runs[runs.indexOf(stopAfter) - 1]!;

  it('promtool accepts the rules (valid PromQL)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cap-alerts-'));
    scratchDirs.push(dir);
    const rule = alertingRuleObject(timings) as unknown as { spec: { groups: unknown[] } };
    await writeFile(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
    const { stdout } = await run(findPromtool(), ['check', 'rules', 'rules.yaml'], { cwd: dir });
    expect(stdout).toMatch(/SUCCESS: 5 rules found/);
  });

  it('a healthy job raises nothing', async () => {
    await promtoolTest(timings, { name: 'healthy', outcome: () => 'success' }, { firstFiring: {} });
  });

  it('a job that stopped after a run: the no-success alert fires 15 minutes before the earliest expiry, not before its minute', async () => {
    const lastStart = stopAfter;
    const fires = staleFiresAt(lastStart);
    // The earliest a Secret can expire is lastStart + margin; the alert fires (at the latest, one evaluation after) 15 minutes before.
    expect(fires * 60_000).toBeLessThanOrEqual(lastStart * 60_000 + timings.worstExpiryAfterLastStartMs - EXPIRY_WARNING_MS);
    expect(fires).toBeLessThan(HORIZON);
    await promtoolTest(timings, { name: 'stopped', outcome: (m) => (m <= stopAfter ? 'success' : 'none') }, { firstFiring: { stale: fires } });
  });

  it('a job that stopped, its finished Jobs then deleted: from the CronJob status alone (its last schedule) the no-success alert fires at the same minute', async () => {
    await promtoolTest(
      timings,
      { name: 'stopped, Jobs deleted', outcome: (m) => (m <= stopAfter ? 'success' : 'none'), jobsDeletedFrom: stopAfter + 2 },
      { firstFiring: { stale: staleFiresAt(stopAfter) } },
    );
  });

  it('failing runs: the failed-run alert fires when the first failure is recorded, then the no-success alert', async () => {
    const firstFailure = runs.find((r) => r > stopAfter)!;
    await promtoolTest(
      timings,
      { name: 'failing', outcome: (m) => (m <= stopAfter ? 'success' : 'failure') },
      { firstFiring: { runFailed: firstFailure + 2, stale: staleFiresAt(stopAfter) } },
    );
  });

  it('runs that never succeed: the never-succeeded alert fires after the threshold', async () => {
    await promtoolTest(timings, { name: 'never', outcome: () => 'failure' }, { firstFiring: { runFailed: runs[0]! + 2, neverSucceeded: staleMin } });
  });

  it('a suspended CronJob: the suspended alert fires at once, the no-success alert in time', async () => {
    const at = stopAfter + 1;
    await promtoolTest(
      timings,
      { name: 'suspended', outcome: () => 'success', suspendedFrom: at },
      { firstFiring: { suspended: at, stale: staleFiresAt(stopAfter) } },
    );
  });

  for (const withoutMarker of [false, true]) {
    it(`a deleted CronJob (${withoutMarker ? 'series just stop: the 5-minute lookback' : 'staleness marker'}): the absent alert fires 15 minutes before the earliest expiry`, async () => {
      const at = stopAfter + 1; // deleted right after a run started: the worst moment
      const lastSample = at - 1;
      const absentFrom = withoutMarker ? lastSample + 5 + 1 : at;
      const fires = absentFrom + 2; // for: 2m
      expect(fires * 60_000).toBeLessThanOrEqual(stopAfter * 60_000 + timings.worstExpiryAfterLastStartMs - EXPIRY_WARNING_MS);
      await promtoolTest(
        timings,
        { name: 'deleted', outcome: () => 'success', deletedAt: at, deletedWithoutMarker: withoutMarker },
        // The run that started at the deletion never finished; without a marker the older successful Job is still seen for 5 minutes.
        withoutMarker && staleFiresAt(previousRun) <= lastSample + 5
          ? { firstFiring: { absent: fires, stale: staleFiresAt(previousRun) }, lastFiring: { stale: lastSample + 5 } }
          : { firstFiring: { absent: fires } },
      );
    });
  }

  it('the threshold leaves room for the normal gap between runs', () => {
    expect(staleMin * 60_000).toBeGreaterThan(timings.longestGapMs);
    expect(marginMin - staleMin).toBeGreaterThanOrEqual(16);
  });
});

describe('settings that leave no safe threshold', () => {
  it('a margin too short for the schedule is a configuration error naming the margin to give', () => {
    expect(() => timingsFor('*/10 * * * *', '20m')).toThrow(/margin 20m is too short.*at least 28m/);
    expect(() => timingsFor('0 * * * *', '30m')).toThrow(/too short/);
  });
});
