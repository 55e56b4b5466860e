import { parseDuration } from '../core/duration.js';
import { TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import { CronScheduleError, longestCronGapMs } from './cron-gap.js';
import { ManifestsError } from './errors.js';
import type { KubernetesObject } from './render.js';

/**
 * The AlertingRule over OpenShift's own kube-state-metrics. Its thresholds are computed
 * from the CronJob object `generate` writes (its schedule and the `--renew-before` of its
 * container), so changing either keeps the alerts right.
 *
 * Why the bound holds: a run succeeds only when every target was fresh (at least the
 * renewal margin R left when the run looked at it, which is after the Job started) or was
 * refreshed (a new lifetime, assumed at least R). So after the last successful Job that
 * started at S, no managed Secret expires before S + R, whatever stops the runs after it.
 */

export const ALERTING_RULE_NAME = TOOL_NAME;
export const ALERTING_RULE_NAMESPACE = 'openshift-monitoring';
/** The alert must fire at least this long before any managed Secret can expire. */
export const EXPIRY_WARNING_MS = 15 * 60_000;
/** Platform Prometheus evaluates rules every 30s; counted as a whole minute. */
export const EVALUATION_INTERVAL_MS = 60_000;
/** Without a staleness marker a vanished series is still seen for 5 minutes (Prometheus' lookback). */
export const LOOKBACK_MS = 5 * 60_000;
/** A normal run starts within this of its slot (controller lag, one kube-state-metrics scrape of 1m). */
const START_SLACK_MS = 2 * 60_000;
/** The CronJob gone (or kube-state-metrics down) this long before the absent alert fires: rides out a kube-state-metrics restart. */
export const ABSENT_FOR_MS = 2 * 60_000;

export const ALERTS = {
  runFailed: 'CapTokenRefreshRunFailed',
  stale: 'CapTokenRefreshNoRecentSuccess',
  neverSucceeded: 'CapTokenRefreshNeverSucceeded',
  suspended: 'CapTokenRefreshCronJobSuspended',
  absent: 'CapTokenRefreshCronJobAbsent',
} as const;

export interface AlertTimings {
  schedule: string;
  /** Longest time between two scheduled runs. */
  longestGapMs: number;
  /** The renewal margin: `--renew-before` of the CronJob's container. */
  renewBeforeMs: number;
  /** No successful Job started for longer than this: the no-success alert fires (at the next evaluation). */
  staleAfterMs: number;
  /** The latest a Secret may expire after the start of the last successful Job: S + renewBefore. */
  worstExpiryAfterLastStartMs: number;
  /** `activeDeadlineSeconds` of the Job: a success recorded only by its completion time started at most this long before it. */
  jobDeadlineMs: number;
}

interface CronJobShape {
  spec?: { schedule?: unknown; jobTemplate?: { spec?: { activeDeadlineSeconds?: unknown; template?: { spec?: { containers?: { args?: unknown }[] } } } } };
}

/** `--renew-before X` or `--renew-before=X` among the container's args; undefined when absent. */
export function renewBeforeOfCronJob(cronJob: KubernetesObject): string | undefined {
  const args = (cronJob as CronJobShape).spec?.jobTemplate?.spec?.template?.spec?.containers?.[0]?.args;
  if (!Array.isArray(args)) return undefined;
  for (const [i, arg] of args.entries()) {
    if (arg === '--renew-before') return typeof args[i + 1] === 'string' ? args[i + 1] : undefined;
    if (typeof arg === 'string' && arg.startsWith('--renew-before=')) return arg.slice('--renew-before='.length);
  }
  return undefined;
}

function floorToMinute(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000;
}

/** The thresholds, or a configuration error when the schedule and margin leave no safe one. */
export function alertTimings(cronJob: KubernetesObject): AlertTimings {
  const schedule = (cronJob as CronJobShape).spec?.schedule;
  if (typeof schedule !== 'string') throw new ManifestsError('alert-timings', 'The CronJob has no schedule to compute the alert thresholds from');
  let longestGapMs: number;
  try {
    longestGapMs = longestCronGapMs(schedule);
  } catch (error) {
    if (error instanceof CronScheduleError) throw new ManifestsError('alert-timings', `--schedule ${JSON.stringify(schedule)}: ${error.message}`);
    throw error;
  }
  const renewBefore = renewBeforeOfCronJob(cronJob);
  const renewBeforeMs = renewBefore === undefined ? undefined : parseDuration(renewBefore);
  if (renewBeforeMs === undefined || renewBeforeMs <= 0) {
    throw new ManifestsError('alert-timings', 'The CronJob runs refresh without a valid --renew-before; the alert thresholds need the renewal margin');
  }
  // Fires at the first evaluation after S + staleAfter, at most one interval later; that must be 15 minutes before S + R.
  const staleAfterMs = floorToMinute(renewBeforeMs - EXPIRY_WARNING_MS - EVALUATION_INTERVAL_MS);
  const needed = longestGapMs + START_SLACK_MS;
  if (staleAfterMs < needed) {
    throw new ManifestsError(
      'alert-timings',
      `The renewal margin ${renewBefore} is too short for the schedule ${JSON.stringify(schedule)} (runs up to ${longestGapMs / 60_000} min apart): ` +
        `an alert 15 minutes before expiry would fire between normal runs. Give a margin of at least ${Math.ceil((needed + EXPIRY_WARNING_MS + EVALUATION_INTERVAL_MS) / 60_000)}m or run more often`,
    );
  }
  if (LOOKBACK_MS + ABSENT_FOR_MS + EVALUATION_INTERVAL_MS > renewBeforeMs - EXPIRY_WARNING_MS) {
    throw new ManifestsError('alert-timings', `The renewal margin ${renewBefore} leaves no time to notice a deleted CronJob 15 minutes before expiry`);
  }
  const deadline = (cronJob as CronJobShape).spec?.jobTemplate?.spec?.activeDeadlineSeconds;
  if (typeof deadline !== 'number' || deadline <= 0)
    throw new ManifestsError('alert-timings', 'The CronJob has no activeDeadlineSeconds; the alert thresholds need it');
  return { schedule, longestGapMs, renewBeforeMs, staleAfterMs, worstExpiryAfterLastStartMs: renewBeforeMs, jobDeadlineMs: deadline * 1000 };
}

function promDuration(ms: number): string {
  if (ms % 60_000 !== 0) return `${Math.round(ms / 1000)}s`;
  return `${ms / 60_000}m`;
}

/** The PromQL of each alert, over kube-state-metrics series OpenShift keeps (no *_annotations, no *_created). */
export function alertExpressions(timings: AlertTimings, namespace = TOOL_NAMESPACE, cronJob = TOOL_NAME) {
  const ns = `namespace="${namespace}"`;
  const owned = `on (namespace, job_name) kube_job_owner{${ns}, owner_kind="CronJob", owner_name="${cronJob}"}`;
  const jobsStart = `kube_job_status_start_time{${ns}} and ${owned}`;
  const lastSuccessStart = `max by (namespace) ((${jobsStart}) and on (namespace, job_name) (kube_job_status_succeeded{${ns}} > 0))`;
  const lastFailedStart = `max by (namespace) ((${jobsStart}) and on (namespace, job_name) (kube_job_failed{${ns}, condition="true"} == 1))`;
  const lastSuccessCompletion = `max by (namespace) (kube_cronjob_status_last_successful_time{${ns}, cronjob="${cronJob}"})`;
  const lastSchedule = `max by (namespace) (kube_cronjob_status_last_schedule_time{${ns}, cronjob="${cronJob}"})`;
  // With no successful Job kept: when the last success came after the last schedule, that Job (concurrencyPolicy Forbid:
  // one at a time) started at or after the schedule; otherwise it started at most the Job deadline before it finished.
  const fallbackSuccessStart =
    `((${lastSchedule}) and on (namespace) (${lastSuccessCompletion} >= on (namespace) ${lastSchedule})) ` +
    `or on (namespace) (${lastSuccessCompletion} - ${timings.jobDeadlineMs / 1000})`;
  const cronJobInfo = `kube_cronjob_info{${ns}, cronjob="${cronJob}"}`;
  return {
    // The newest failed Job started after the newest successful one (or none is kept): its failure is the latest word.
    runFailed: `${lastFailedStart} > on (namespace) (${lastSuccessStart} or on (namespace) (${lastFailedStart} - 1))`,
    // The successful Jobs kept give their start; when they are gone, the CronJob's last schedule or last success (see above).
    stale: `time() - (${lastSuccessStart} or on (namespace) (${fallbackSuccessStart})) > ${timings.staleAfterMs / 1000}`,
    // No successful Job kept and none recorded by the CronJob (first runs never succeeded, or the Jobs were deleted).
    neverSucceeded: `max by (namespace) (${cronJobInfo}) unless on (namespace) (${lastSuccessStart} or on (namespace) ${lastSuccessCompletion})`,
    suspended: `max by (namespace, cronjob) (kube_cronjob_spec_suspend{${ns}, cronjob="${cronJob}"}) == 1`,
    absent: `absent(${cronJobInfo})`,
  };
}

/** One rule of the AlertingRule: the alert, its PromQL, and what it tells the administrator. */
export interface AlertRule {
  alert: (typeof ALERTS)[keyof typeof ALERTS];
  expr: string;
  for?: string;
  labels: { severity: 'warning' | 'critical'; namespace: string };
  annotations: { summary: string; description: string };
}

export function alertingRuleObject(timings: AlertTimings): KubernetesObject {
  return {
    apiVersion: 'monitoring.openshift.io/v1',
    kind: 'AlertingRule',
    metadata: { name: ALERTING_RULE_NAME, namespace: ALERTING_RULE_NAMESPACE, labels: { 'app.kubernetes.io/name': TOOL_NAME } },
    spec: { groups: [{ name: TOOL_NAME, rules: alertRules(timings) }] },
  };
}

/** The rules, with their texts; `status` says the same words when it finds what one would fire on. */
export function alertRules(timings: AlertTimings): AlertRule[] {
  const expr = alertExpressions(timings);
  const stale = promDuration(timings.staleAfterMs);
  const margin = promDuration(timings.renewBeforeMs);
  const where = `the CronJob ${TOOL_NAMESPACE}/${TOOL_NAME}`;
  const logs = `\`oc -n ${TOOL_NAMESPACE} logs job/<job>\` and \`cap-token-refresh status\``;
  const labels = (severity: 'warning' | 'critical') => ({ severity, namespace: TOOL_NAMESPACE });
  return [
    {
      alert: ALERTS.runFailed,
      expr: expr.runFailed,
      labels: labels('warning'),
      annotations: {
        summary: 'The last run of cap-token-refresh failed: some credential Secret could not be refreshed.',
        description: `The newest Job of ${where} failed. Read ${logs}: each failed target names its cause (CAP unreachable or refusing the certificate, a role CAP will not issue, RBAC). Fix it; the next scheduled run retries. Secrets keep at least ${margin} after the last success; ${ALERTS.stale} fires if nothing succeeds in time.`,
      },
    },
    {
      alert: ALERTS.stale,
      expr: expr.stale,
      labels: labels('critical'),
      annotations: {
        summary: `No run of cap-token-refresh has succeeded for ${stale}: managed Secrets can expire within 15 minutes.`,
        description: `No Job of ${where} that started in the last ${stale} succeeded, and a managed Secret may expire ${margin} after the last successful start. Refresh now from the bastion: \`cap-token-refresh refresh --kubeconfig <admin kubeconfig>\` (the runbook "the cluster has lost its credentials"), then find why the job stopped: \`oc -n ${TOOL_NAMESPACE} get cronjob,jobs,pods\` (CAP down, no node for the pod, image not pullable, the Job not starting) and ${logs}.`,
      },
    },
    {
      alert: ALERTS.neverSucceeded,
      expr: expr.neverSucceeded,
      for: stale,
      labels: labels('critical'),
      annotations: {
        summary: `The CronJob ${TOOL_NAMESPACE}/${TOOL_NAME} has no successful run on record for ${stale}.`,
        description: `The CronJob ${TOOL_NAMESPACE}/${TOOL_NAME} exists but no Job of it is known to have succeeded. Run \`cap-token-refresh refresh --kubeconfig <admin kubeconfig>\` from the bastion, then check \`oc -n ${TOOL_NAMESPACE} get cronjob,jobs,pods\` and ${logs}.`,
      },
    },
    {
      alert: ALERTS.suspended,
      expr: expr.suspended,
      labels: labels('warning'),
      annotations: {
        summary: `The CronJob ${TOOL_NAMESPACE}/${TOOL_NAME} is suspended: nothing refreshes the credential Secrets.`,
        description: `Managed Secrets expire within about ${margin} of the last successful run. Resume it: \`oc -n ${TOOL_NAMESPACE} patch cronjob ${TOOL_NAME} -p '{"spec":{"suspend":false}}'\`, or refresh by hand with \`cap-token-refresh refresh --kubeconfig <admin kubeconfig>\`.`,
      },
    },
    {
      alert: ALERTS.absent,
      expr: expr.absent,
      for: promDuration(ABSENT_FOR_MS),
      labels: labels('critical'),
      annotations: {
        summary: `The CronJob ${TOOL_NAMESPACE}/${TOOL_NAME} is gone (or kube-state-metrics is not reporting it): nothing refreshes the credential Secrets.`,
        description: `Managed Secrets expire within ${margin} of the last successful run. Apply cap-cronjob.yaml (and the namespace, service account and RBAC manifests) again from the generated manifests, or refresh by hand with \`cap-token-refresh refresh --kubeconfig <admin kubeconfig>\`. If the CronJob is there, check kube-state-metrics in openshift-monitoring.`,
      },
    },
  ];
}
