import { TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import { ALERTS, type AlertRule, alertRules, alertTimings } from './alerting-rule.js';
import { ManifestsError } from './errors.js';
import type { KubernetesObject } from './render.js';

/**
 * What the AlertingRule would say, judged by hand from the CronJob and its Jobs as the API
 * server returns them: `status` runs the same checks as the rules, with the same thresholds
 * (computed from the live CronJob) and the same words.
 */

export interface AlertFinding {
  alert: AlertRule['alert'];
  severity: AlertRule['labels']['severity'];
  summary: string;
  description: string;
}

export interface CronJobHealth {
  findings: AlertFinding[];
  /** Why some checks could not be made (for example a CronJob edited without --renew-before). */
  notes: string[];
}

interface JobShape {
  metadata?: { ownerReferences?: { kind?: unknown; name?: unknown }[] };
  status?: { startTime?: unknown; succeeded?: unknown; conditions?: { type?: unknown; status?: unknown }[] };
}

interface CronJobStatusShape {
  metadata?: { creationTimestamp?: unknown };
  spec?: { suspend?: unknown };
  status?: { lastSuccessfulTime?: unknown; lastScheduleTime?: unknown };
}

function time(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function latest(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

/** Start times of the CronJob's own Jobs that succeeded, and of those that failed (as kube_job_owner, kube_job_status_succeeded and kube_job_failed see them). */
function jobStarts(jobs: object[], cronJobName: string) {
  const owned = (jobs as JobShape[]).filter((j) => j.metadata?.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === cronJobName));
  const succeeded = owned.filter((j) => typeof j.status?.succeeded === 'number' && j.status.succeeded > 0);
  const failed = owned.filter((j) => j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True'));
  return { lastSuccessStart: latest(succeeded.map((j) => time(j.status?.startTime))), lastFailedStart: latest(failed.map((j) => time(j.status?.startTime))) };
}

const ABSENT: AlertFinding = {
  alert: ALERTS.absent,
  severity: 'critical',
  summary: `The CronJob ${TOOL_NAMESPACE}/${TOOL_NAME} is gone: nothing refreshes the credential Secrets.`,
  description:
    'Apply cap-cronjob.yaml (and the namespace, service account and RBAC manifests) again from the generated manifests, or refresh by hand with `cap-token-refresh refresh --kubeconfig <admin kubeconfig>`.',
};

/**
 * Pure: the alerts that would fire at `now` for `cronJob` (undefined when it is gone) and
 * the Jobs of its namespace (undefined when they could not be listed; the CronJob's
 * lastSuccessfulTime is then used, as the rule does when no Job is kept).
 */
export function judgeCronJob(cronJob: object | undefined, jobs: object[] | undefined, now: Date): CronJobHealth {
  if (!cronJob) return { findings: [ABSENT], notes: [] };
  const state = cronJob as CronJobStatusShape;
  const findings: AlertFinding[] = [];
  const notes: string[] = [];
  let rules: AlertRule[] | undefined;
  let timings: ReturnType<typeof alertTimings> | undefined;
  try {
    // As the API server returned it: alertTimings reads only its spec, and checks each field it uses.
    timings = alertTimings(cronJob as KubernetesObject);
    rules = alertRules(timings);
  } catch (error) {
    if (!(error instanceof ManifestsError)) throw error;
    notes.push(`the CronJob's alert thresholds cannot be computed (${error.message}); only suspension and absence are checked`);
  }
  // The rule's own words; the fallback only where the thresholds (and so the rules) are unknown.
  const finding = (alert: AlertRule['alert'], fallback?: Omit<AlertFinding, 'alert'>): AlertFinding => {
    const rule = rules?.find((r) => r.alert === alert);
    if (rule) return { alert, severity: rule.labels.severity, ...rule.annotations };
    if (!fallback) throw new Error(`no rule for ${alert}`);
    return { alert, ...fallback };
  };

  if (state.spec?.suspend === true) {
    findings.push(
      finding(ALERTS.suspended, {
        severity: 'warning',
        summary: `The CronJob ${TOOL_NAMESPACE}/${TOOL_NAME} is suspended: nothing refreshes the credential Secrets.`,
        description: `Resume it: \`oc -n ${TOOL_NAMESPACE} patch cronjob ${TOOL_NAME} -p '{"spec":{"suspend":false}}'\`.`,
      }),
    );
  }
  if (!timings) return { findings, notes };

  const { lastSuccessStart, lastFailedStart } = jobStarts(jobs ?? [], TOOL_NAME);
  if (lastFailedStart !== undefined && (lastSuccessStart === undefined || lastFailedStart > lastSuccessStart)) {
    findings.push(finding(ALERTS.runFailed));
  }
  const lastSuccessfulTime = time(state.status?.lastSuccessfulTime);
  const lastScheduleTime = time(state.status?.lastScheduleTime);
  // As the rule: with no successful Job kept, a success after the last schedule was that Job's (Forbid: one at a time).
  const fallbackStart =
    lastSuccessfulTime === undefined
      ? undefined
      : lastScheduleTime !== undefined && lastSuccessfulTime >= lastScheduleTime
        ? lastScheduleTime
        : lastSuccessfulTime - timings.jobDeadlineMs;
  const successReference = lastSuccessStart ?? fallbackStart;
  if (successReference !== undefined) {
    if (now.getTime() - successReference > timings.staleAfterMs) findings.push(finding(ALERTS.stale));
  } else {
    // The rule waits `for` the stale threshold, so a CronJob created minutes ago is not yet alarming.
    const created = time(state.metadata?.creationTimestamp);
    if (created === undefined || now.getTime() - created > timings.staleAfterMs) {
      findings.push(finding(ALERTS.neverSucceeded));
    } else notes.push(`no run of the CronJob has succeeded yet (it was created ${Math.round((now.getTime() - created) / 60_000)} min ago)`);
  }
  if (jobs === undefined) notes.push("the CronJob's Jobs could not be listed; the last success is taken from the CronJob's status");
  return { findings, notes };
}
