import { describe, expect, it } from 'vitest';
import { refreshCronJob, refreshJob } from './support/refresh-cron-job.js';
import { ALERTS, alertRules, alertTimings } from '../src/manifests/alerting-rule.js';
import { judgeCronJob } from '../src/manifests/job-health.js';

const NOW = new Date('2026-12-02T12:00:00Z');
const alerts = (h: ReturnType<typeof judgeCronJob>) => h.findings.map((f) => f.alert);

describe('judgeCronJob: what the AlertingRule would fire on, judged by hand', () => {
  it('a healthy CronJob (the newest Job succeeded a few minutes ago): nothing', () => {
    const jobs = [refreshJob(NOW, 'a', 13, 'failed'), refreshJob(NOW, 'b', 3, 'succeeded'), refreshJob(NOW, 'c', 0, 'running')];
    expect(judgeCronJob(refreshCronJob(NOW), jobs, NOW)).toEqual({ findings: [], notes: [] });
  });

  it('the newest finished Job failed after the last success: the run-failed alert, in the rule’s own words', () => {
    const cronJob = refreshCronJob(NOW);
    const h = judgeCronJob(cronJob, [refreshJob(NOW, 'a', 8, 'succeeded'), refreshJob(NOW, 'b', 3, 'failed')], NOW);
    expect(alerts(h)).toEqual([ALERTS.runFailed]);
    const rule = alertRules(alertTimings(cronJob)).find((r) => r.alert === ALERTS.runFailed)!;
    expect(h.findings[0]).toEqual({ alert: ALERTS.runFailed, severity: 'warning', ...rule.annotations });
  });

  it('Jobs of another owner do not count', () => {
    const h = judgeCronJob(refreshCronJob(NOW), [refreshJob(NOW, 'a', 3, 'succeeded'), refreshJob(NOW, 'x', 1, 'failed', 'someone-else')], NOW);
    expect(alerts(h)).toEqual([]);
  });

  // The no-success threshold is the rule's, computed from the live CronJob: it moves with --schedule and --renew-before.
  it.each([
    ['*/5 * * * *', '30m'],
    ['*/2 * * * *', '25m'],
    ['0,20,40 * * * *', '45m'],
  ])('schedule %s, margin %s: no success for longer than the rule’s threshold is the stale alert, not a second before', (schedule, renewBefore) => {
    const cronJob = refreshCronJob(NOW, { schedule, renewBefore });
    const { staleAfterMs } = alertTimings(cronJob);
    const minutes = staleAfterMs / 60_000;
    expect(alerts(judgeCronJob(cronJob, [refreshJob(NOW, 'a', minutes, 'succeeded')], NOW))).toEqual([]);
    expect(alerts(judgeCronJob(cronJob, [refreshJob(NOW, 'a', minutes + 1 / 60, 'succeeded')], NOW))).toEqual([ALERTS.stale]);
  });

  it('no Job kept: a success after the last schedule started at or after it (Forbid), as in the rule', () => {
    const cronJob = refreshCronJob(NOW);
    const stale = alertTimings(cronJob).staleAfterMs / 60_000;
    const judged = (scheduled: number) =>
      alerts(judgeCronJob(refreshCronJob(NOW, { lastScheduleMinutesAgo: scheduled, lastSuccessfulMinutesAgo: scheduled - 1 }), [], NOW));
    expect(judged(stale)).toEqual([]);
    expect(judged(stale + 1 / 60)).toEqual([ALERTS.stale]);
  });

  it('no Job kept and a newer Job scheduled than the last success: its start is bounded by the Job deadline only', () => {
    const cronJob = refreshCronJob(NOW);
    const { staleAfterMs, jobDeadlineMs } = alertTimings(cronJob);
    // The success 1 minute ago could have started a whole Job deadline before it: older than the threshold.
    expect(jobDeadlineMs + 60_000).toBeGreaterThan(staleAfterMs);
    const running = refreshCronJob(NOW, { lastScheduleMinutesAgo: 0.5, lastSuccessfulMinutesAgo: 1 });
    expect(alerts(judgeCronJob(running, [], NOW))).toEqual([ALERTS.stale]);
    expect(judgeCronJob(running, undefined, NOW).notes).toEqual([expect.stringContaining('could not be listed')]);
  });

  it('never succeeded: an alert once the CronJob is older than the threshold, a note before', () => {
    const young = judgeCronJob(refreshCronJob(NOW, { createdMinutesAgo: 3 }), [refreshJob(NOW, 'a', 2, 'failed')], NOW);
    expect(alerts(young)).toEqual([ALERTS.runFailed]);
    expect(young.notes).toEqual([expect.stringContaining('no run of the CronJob has succeeded yet')]);
    expect(alerts(judgeCronJob(refreshCronJob(NOW, { createdMinutesAgo: 600 }), [], NOW))).toEqual([ALERTS.neverSucceeded]);
  });

  it('suspended and absent', () => {
    expect(alerts(judgeCronJob(refreshCronJob(NOW, { suspend: true }), [refreshJob(NOW, 'a', 3, 'succeeded')], NOW))).toEqual([ALERTS.suspended]);
    expect(alerts(judgeCronJob(refreshCronJob(NOW, { suspend: false }), [refreshJob(NOW, 'a', 3, 'succeeded')], NOW))).toEqual([]);
    const absent = judgeCronJob(undefined, undefined, NOW);
    expect(absent.findings).toEqual([
      expect.objectContaining({ alert: ALERTS.absent, severity: 'critical', description: expect.stringContaining('cap-cronjob.yaml') }),
    ]);
  });

  it('a CronJob edited so that no threshold can be computed: suspension still checked, a note says what could not be', () => {
    const cronJob = refreshCronJob(NOW, { suspend: true });
    const container = (cronJob.spec as any).jobTemplate.spec.template.spec.containers[0];
    container.args = container.args.filter((a: string, i: number, all: string[]) => a !== '--renew-before' && all[i - 1] !== '--renew-before');
    const h = judgeCronJob(cronJob, [], NOW);
    expect(alerts(h)).toEqual([ALERTS.suspended]);
    expect(h.notes).toEqual([expect.stringContaining('without a valid --renew-before')]);
  });
});
