import { awsRefuses, skewDirection } from './clock-skew.js';
import { escapeControl } from './display-text.js';
import { formatDuration } from './duration.js';
import { ANNOTATION_ISSUED_ROLE, ANNOTATION_ROLE, TOOL_NAME, TOOL_NAMESPACE } from './names.js';
import { decideRefresh, formatRfc3339, type RefreshPolicy, type RefreshState, type SecretState } from './policy.js';
import { renderColumns, type TargetReport } from './report.js';

/**
 * What `status` says about each managed Secret, decided and written here, pure: the verdict of
 * the refresh policy, the report (`--output json`) and the human table. The command
 * (src/commands/status.ts) only gathers the targets, the client certificate and the CronJob's
 * health, and prints what these functions return.
 */

export type Verdict = 'ok' | 'due' | 'expired' | 'unmanaged';

/** A managed Secret as status sees it, wherever it lives (a manifest or a cluster): its role and annotations, never its data. */
export interface StatusTarget extends RefreshState, Pick<SecretState, 'clockOffsetSeconds'> {
  namespace: string;
  name: string;
  /** Set when the target could not be read or is not properly managed; it is then unmanaged. */
  problem?: string;
  file?: string;
}

export interface TargetVerdict {
  verdict: Verdict;
  expiration?: Date;
  /** Why the verdict is not ok, in words the administrator acts on. */
  note?: string;
}

export type JudgeTarget = (target: StatusTarget, now: Date) => TargetVerdict;

/** One line of `status --output json`: docs/DESIGN.md's target object plus what status adds. */
export interface StatusTargetReport extends TargetReport {
  verdict: Verdict;
  /** Seconds until expiration (negative once past); null when unknown. */
  timeLeftSeconds: number | null;
  refreshedAt: string | null;
  /** Why a due target is due. */
  note?: string;
  /** CAP's clock minus the clock of the node that last refreshed it, in seconds, when that was over 60 s. */
  clockOffsetSeconds?: number;
}

export interface ClientCertificateInfo {
  file: string;
  subject: string;
  /** RFC 3339, UTC. */
  notAfter: string;
}

/** What the AlertingRule would fire on for the refresh CronJob (src/manifests/job-health.ts judges it). */
export interface CronJobHealthReport {
  findings: { alert: string; severity: string; summary: string; description: string }[];
  /** Why some checks could not be made. */
  notes: string[];
}

export interface StatusReport {
  targets: StatusTargetReport[];
  clientCertificate?: ClientCertificateInfo;
  /** In a cluster: the refresh CronJob as the AlertingRule sees it; absent when it could not be read (or with --manifests). */
  cronJob?: CronJobHealthReport;
}

/**
 * A target (from a cluster or a manifest) as status sees it: its role and annotations, never
 * its data, nor where it would be written. A missing Secret, one without (or with an empty)
 * role annotation and one that could not be read carry `problem`, so they are unmanaged.
 */
export function toStatusTarget(t: StatusTarget): StatusTarget {
  const { namespace, name, role, expiration, refreshedAt, issuedRole, clockOffsetSeconds, dataProblem, problem } = t;
  return {
    namespace,
    name,
    ...(role ? { role } : {}),
    ...(expiration ? { expiration } : {}),
    ...(refreshedAt ? { refreshedAt } : {}),
    ...(issuedRole ? { issuedRole } : {}),
    ...(clockOffsetSeconds !== undefined ? { clockOffsetSeconds } : {}),
    ...(dataProblem ? { dataProblem } : {}),
    ...(problem ? { problem } : {}),
  };
}

/**
 * The verdict by the refresh policy: ok when the refresh would leave it alone, due when the
 * next refresh writes it, expired once its credentials stopped working, unmanaged when it
 * has no role or could not be read.
 */
export function createJudge(policy: RefreshPolicy): JudgeTarget {
  return (t, now) => {
    if (t.problem) return { verdict: 'unmanaged', note: t.problem };
    if (!t.role) return { verdict: 'unmanaged', note: `no ${ANNOTATION_ROLE} annotation; set it to the IAM role CAP should issue` };
    const d = decideRefresh(t, now, policy);
    const at = d.expiration ? { expiration: d.expiration } : {};
    switch (d.reason) {
      case 'fresh':
        return { verdict: 'ok', ...at };
      case 'expired':
        return {
          verdict: 'expired',
          ...at,
          note: `the credentials expired${d.expiration ? ` at ${formatRfc3339(d.expiration)}` : ''}; run cap-token-refresh refresh (or fill) now`,
        };
      case 'unusable-data':
        return {
          verdict: 'due',
          ...at,
          note: `empty: its data cannot serve the operator (${t.dataProblem}), whatever its annotations say; the next refresh writes it`,
        };
      case 'seeded':
        return {
          verdict: 'due',
          ...at,
          note: `seeded: no ${ANNOTATION_ISSUED_ROLE} annotation (fill wrote one response into every Secret); the next refresh asks CAP for its own role`,
        };
      case 'role-changed':
        return {
          verdict: 'due',
          ...at,
          note: `role changed: issued for ${JSON.stringify(t.issuedRole)}, the ${ANNOTATION_ROLE} annotation now says ${JSON.stringify(t.role)}; the next refresh asks CAP for the new role`,
        };
      case 'no-expiration':
        return { verdict: 'due', note: 'never refreshed (no cap-token-refresh/expiration annotation); the next refresh writes it' };
      case 'invalid-expiration':
        return { verdict: 'due', note: 'the cap-token-refresh/expiration annotation is not an RFC 3339 time; the next refresh rewrites it' };
      case 'lifetime-third':
        return { verdict: 'due', ...at, note: 'less than a third of its lifetime is left; the next refresh renews it' };
      case 'renew-before':
        return { verdict: 'due', ...at, note: 'less than --renew-before is left; the next refresh renews it' };
      case 'forced':
        return { verdict: 'due', ...at };
    }
  };
}

/** What the report holds besides the targets. */
export interface StatusExtras {
  clientCertificate?: ClientCertificateInfo | undefined;
  cronJob?: CronJobHealthReport | undefined;
}

/** The report of a list of targets at `now`. */
export function buildStatusReport(targets: StatusTarget[], judge: JudgeTarget, now: Date, extras: StatusExtras = {}): StatusReport {
  const { clientCertificate, cronJob } = extras;
  return {
    targets: targets.map((t) => {
      const v = judge(t, now);
      const failed = v.verdict === 'expired' || v.verdict === 'unmanaged';
      return {
        namespace: t.namespace,
        name: t.name,
        role: t.role || null,
        result: failed ? 'failed' : 'fresh',
        expiration: v.expiration ? formatRfc3339(v.expiration) : null,
        ...(failed ? { error: v.note ?? v.verdict } : {}),
        ...(t.file ? { file: t.file } : {}),
        verdict: v.verdict,
        timeLeftSeconds: v.expiration ? Math.floor((v.expiration.getTime() - now.getTime()) / 1000) : null,
        refreshedAt: t.refreshedAt ?? null,
        ...(v.note && !failed ? { note: v.note } : {}),
        ...(t.clockOffsetSeconds !== undefined ? { clockOffsetSeconds: t.clockOffsetSeconds } : {}),
      };
    }),
    ...(clientCertificate ? { clientCertificate } : {}),
    ...(cronJob ? { cronJob } : {}),
  };
}

/** False when a target is expired or unmanaged, or when an alert would fire on the CronJob: status then exits 1. */
export function statusSucceeded(report: StatusReport): boolean {
  return report.targets.every((t) => t.verdict === 'ok' || t.verdict === 'due') && (report.cronJob?.findings.length ?? 0) === 0;
}

/** `status --output json`: the report as one JSON object. */
export function renderStatusJson(report: StatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const targetName = (t: { namespace: string; name: string }) => (t.namespace ? `${t.namespace}/${t.name}` : t.name);

/** The human table: one row per target, then why each non-ok target is so, then the CronJob and the client certificate. */
export function renderStatusTable(report: StatusReport, now: Date): string {
  const lines: string[] = [];
  if (report.targets.length === 0) lines.push('No managed targets found.');
  else {
    const ago = (iso: string | null) => {
      const ms = iso ? Date.parse(iso) : Number.NaN;
      return Number.isNaN(ms) ? '-' : `${formatDuration(now.getTime() - ms)} ago`;
    };
    const rows = report.targets.map((t) => [
      targetName(t),
      t.role ?? '-',
      t.verdict,
      t.expiration ?? '-',
      t.timeLeftSeconds === null ? '-' : formatDuration(t.timeLeftSeconds * 1000),
      ago(t.refreshedAt),
    ]);
    lines.push(...renderColumns([['TARGET', 'ROLE', 'VERDICT', 'EXPIRATION', 'TIME LEFT', 'LAST REFRESH'], ...rows]));
    const notes = report.targets.filter((t) => t.verdict !== 'ok');
    if (notes.length > 0) {
      lines.push('');
      for (const t of notes) lines.push(`${t.verdict}: ${escapeControl(targetName(t))}: ${escapeControl(t.error ?? t.note ?? '')}`);
    }
    const skewed = report.targets.filter((t) => t.clockOffsetSeconds !== undefined);
    if (skewed.length > 0) lines.push('');
    for (const t of skewed) lines.push(`clock skew: ${escapeControl(targetName(t))}: ${describeRecordedSkew(t.clockOffsetSeconds ?? 0)}`);
  }
  const job = report.cronJob;
  if (job) {
    lines.push('');
    if (job.findings.length === 0) lines.push(`CronJob ${TOOL_NAMESPACE}/${TOOL_NAME}: no alert would fire.`);
    for (const f of job.findings) lines.push(`ALERT ${f.alert} (${f.severity}): ${f.summary}`, `  ${f.description}`);
    for (const note of job.notes) lines.push(`note: ${note}`);
  }
  const c = report.clientCertificate;
  if (c) {
    const left = Date.parse(c.notAfter) - now.getTime();
    lines.push(
      '',
      `CAP client certificate ${escapeControl(c.subject)} (${escapeControl(c.file)}) ${left > 0 ? `expires ${c.notAfter} (in ${formatDuration(left)})` : `EXPIRED on ${c.notAfter}; renew it, the next refresh will fail`}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The skew recorded at a target's last refresh, in words: offset, way, and what AWS makes of it. */
export function describeRecordedSkew(offsetSeconds: number): string {
  const refuse = awsRefuses(offsetSeconds)
    ? '; AWS will refuse requests signed on that node (SigV4 allows 5 minutes of skew)'
    : '; AWS allows up to 5 minutes, so requests signed there still work';
  return `at its last refresh the refreshing node's clock was ${skewDirection(offsetSeconds)}${refuse}; fix that node's time source (NTP/chrony)`;
}
