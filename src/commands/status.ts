import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readManifestFile } from '../disk/read-manifest-file.js';
import { isAbsolute, resolve } from 'node:path';
import { isMap, parseAllDocuments } from 'yaml';
import { escapeControl } from '../core/display-text.js';
import { formatDuration } from '../core/duration.js';
import { EXIT_OK, EXIT_TARGETS_FAILED } from '../core/errors.js';
import { ANNOTATION_ISSUED_ROLE, ANNOTATION_ROLE, LABEL_MANAGED, TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import type { CronJobHealth } from '../manifests/job-health.js';
import { openPkcs12 } from '../cap/pkcs12.js';
import { awsRefuses, skewDirection } from '../core/clock-skew.js';
import { decideRefresh, formatRfc3339, type RefreshPolicy } from '../core/policy.js';
import { renderColumns, type TargetReport } from '../core/report.js';
import { listManifestFiles, loadManifestTargets } from '../disk/manifest-store.js';
import type { LogFormat, LogLevel, Logger } from '../log/logger.js';
import type { RefreshTarget } from '../refresh/engine.js';
import { loggerFor, type CommandContext } from './context.js';
import { parseFlags, statusFlags } from './flags.js';

export type Verdict = 'ok' | 'due' | 'expired' | 'unmanaged';

/** A managed Secret as status sees it, wherever it lives (a manifest or a cluster). */
export interface StatusTarget {
  namespace: string;
  name: string;
  role?: string;
  expiration?: string;
  refreshedAt?: string;
  issuedRole?: string;
  /** CAP's clock minus the refreshing node's at the last refresh, when over 60 s. */
  clockOffsetSeconds?: number;
  /** Why the data cannot serve; the target is then due. */
  dataProblem?: string;
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
  notAfter: string;
}

export interface StatusReport {
  targets: StatusTargetReport[];
  clientCertificate?: ClientCertificateInfo;
  /** In a cluster: the refresh CronJob as the AlertingRule sees it; absent when it could not be read (or with --manifests). */
  cronJob?: CronJobHealth;
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
        return { verdict: 'expired', ...at, note: `the credentials expired at ${formatRfc3339(d.expiration!)}; run cap-token-refresh refresh (or fill) now` };
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

/** Pure: the report of a list of targets at `now`. */
export function buildStatusReport(
  targets: StatusTarget[],
  judge: JudgeTarget,
  now: Date,
  clientCertificate?: ClientCertificateInfo,
  cronJob?: CronJobHealth,
): StatusReport {
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

/** False when a target is expired or unmanaged, or when an alert would fire on the CronJob. */
export function statusSucceeded(report: StatusReport): boolean {
  return report.targets.every((t) => t.verdict === 'ok' || t.verdict === 'due') && (report.cronJob?.findings.length ?? 0) === 0;
}

/** The human table: one row per target, then why each non-ok target is so, then the client certificate. */
export function renderStatusTable(report: StatusReport, now: Date): string {
  const lines: string[] = [];
  if (report.targets.length === 0) lines.push('No managed targets found.');
  else {
    const ago = (iso: string | null) => {
      const ms = iso ? Date.parse(iso) : NaN;
      return Number.isNaN(ms) ? '-' : `${formatDuration(now.getTime() - ms)} ago`;
    };
    const rows = report.targets.map((t) => [
      t.namespace ? `${t.namespace}/${t.name}` : t.name,
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
      for (const t of notes)
        lines.push(`${t.verdict}: ${escapeControl(t.namespace ? `${t.namespace}/${t.name}` : t.name)}: ${escapeControl(t.error ?? t.note ?? '')}`);
    }
    const skewed = report.targets.filter((t) => t.clockOffsetSeconds !== undefined);
    if (skewed.length > 0) lines.push('');
    for (const t of skewed) lines.push(`clock skew: ${t.namespace ? `${t.namespace}/${t.name}` : t.name}: ${describeRecordedSkew(t.clockOffsetSeconds!)}`);
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

export interface StatusOptions {
  manifests?: string;
  /** In a cluster (no --manifests): the Secrets to show, NAMESPACE/NAME; default: discovered from CredentialsRequests. */
  target?: string[];
  kubeconfig?: string;
  context?: string;
  renewBefore?: string;
  output?: 'table' | 'json';
  cert?: string;
  pkcs12?: string;
  pkcs12PassphraseFile?: string;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/**
 * `cap-token-refresh status`: each managed target with its role, expiration, time left,
 * last refresh and verdict, and the CAP client certificate's expiry when it can be read; in a
 * cluster, also what the AlertingRule would fire on for the refresh CronJob.
 * Exit 1 when any target is expired or unmanaged, or an alert would fire.
 */
export async function status(opts: StatusOptions, ctx: CommandContext): Promise<number> {
  const { renewBefore: renewBeforeMs } = parseFlags(statusFlags, opts);
  const logger = loggerFor(ctx, opts);
  const judge = createJudge({ renewBeforeMs, force: false });

  let targets: StatusTarget[];
  let cronJob: CronJobHealth | undefined;
  if (opts.manifests) {
    targets = await loadManifestStatusTargets(resolve(ctx.cwd, opts.manifests));
  } else {
    // Loaded only here, so status --manifests never loads the Kubernetes client.
    const { connectCluster, loadClusterTargets, wantedTargets } = await import('../kube/cluster-targets.js');
    const wanted = wantedTargets(opts);
    const { api, source } = connectCluster(opts, ctx, logger);
    targets = (await loadClusterTargets(api, wanted, logger, source)).map(toStatusTarget);
    const { checkCronJobHealth } = await import('../kube/cron-job-health.js');
    cronJob = await checkCronJobHealth(api, ctx.now(), logger);
  }
  const cert = await readClientCertificate(opts, ctx, logger);
  const report = buildStatusReport(targets, judge, ctx.now(), cert, cronJob);
  const text = opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderStatusTable(report, ctx.now());
  ctx.stdout(ctx.redactor.redact(text));
  return statusSucceeded(report) ? EXIT_OK : EXIT_TARGETS_FAILED;
}

/**
 * A target (in a cluster or a manifest) as status sees it: its role and annotations, never its data.
 * A missing Secret, one without (or with an empty) role annotation and one that could not be
 * read carry `problem`, so they are unmanaged with that message.
 */
export function toStatusTarget(t: RefreshTarget): StatusTarget {
  return {
    namespace: t.namespace,
    name: t.name,
    ...(t.role ? { role: t.role } : {}),
    ...(t.expiration ? { expiration: t.expiration } : {}),
    ...(t.refreshedAt ? { refreshedAt: t.refreshedAt } : {}),
    ...(t.issuedRole ? { issuedRole: t.issuedRole } : {}),
    ...(t.clockOffsetSeconds !== undefined ? { clockOffsetSeconds: t.clockOffsetSeconds } : {}),
    ...(t.dataProblem ? { dataProblem: t.dataProblem } : {}),
    ...(t.problem ? { problem: t.problem } : {}),
  };
}

/**
 * The targets of a manifests folder: every Secret with the role annotation (as the refresh
 * finds them), plus, as unmanaged, Secrets that carry the managed label without a role and
 * files that cannot be read or parsed.
 */
export async function loadManifestStatusTargets(dir: string): Promise<StatusTarget[]> {
  const targets: StatusTarget[] = (await loadManifestTargets(dir)).map((t) => ({ ...toStatusTarget(t), file: t.file }));
  for (const file of await listManifestFiles(dir)) {
    const text = await readManifestFile(file).catch(() => undefined);
    if (text === undefined) continue; // already reported by loadManifestTargets
    const docs = parseAllDocuments(text);
    for (const doc of Array.isArray(docs) ? docs : []) {
      if (doc.errors.length > 0 || !isMap(doc.contents) || doc.get('kind') !== 'Secret') continue;
      const labelled = String(doc.getIn(['metadata', 'labels', LABEL_MANAGED]) ?? '') === 'true';
      if (!labelled || doc.hasIn(['metadata', 'annotations', ANNOTATION_ROLE])) continue;
      const ns = doc.getIn(['metadata', 'namespace']);
      targets.push({
        namespace: typeof ns === 'string' ? ns : 'default',
        name: String(doc.getIn(['metadata', 'name']) ?? ''),
        problem: `${file} labels this Secret ${LABEL_MANAGED}: "true" but it has no ${ANNOTATION_ROLE} annotation, so nothing refreshes it; add the annotation`,
        file,
      });
    }
  }
  return targets;
}

/**
 * The client certificate's subject and expiry from --cert / CAP_CERT_FILE, or from
 * --pkcs12 / CAP_PKCS12_FILE with its passphrase. Never fails status: a certificate that
 * is not given or not readable is a warning at most.
 */
async function readClientCertificate(opts: StatusOptions, ctx: CommandContext, logger: Logger): Promise<ClientCertificateInfo | undefined> {
  const path = (v: string | undefined) => (v ? (isAbsolute(v) ? v : resolve(ctx.cwd, v)) : undefined);
  const certFile = path(opts.cert ?? ctx.env.CAP_CERT_FILE);
  const p12File = path(opts.pkcs12 ?? ctx.env.CAP_PKCS12_FILE);
  const file = certFile ?? p12File;
  if (!file) return undefined;
  try {
    let pem: string;
    if (certFile) {
      pem = await readFile(certFile, 'utf8');
    } else {
      const passFile = path(opts.pkcs12PassphraseFile ?? ctx.env.CAP_PKCS12_PASSPHRASE_FILE);
      const passphrase = passFile ? (await readFile(passFile, 'utf8')).replace(/\r?\n$/, '') : '';
      ctx.redactor.add(passphrase);
      pem = (await openPkcs12(await readFile(p12File!), passphrase)).certPem;
    }
    const cert = new X509Certificate(pem);
    return { file, subject: cert.subject.replace(/\n/g, ', '), notAfter: formatRfc3339(new Date(cert.validTo)) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    logger.warn(`could not read the CAP client certificate ${file} (${code ?? 'not a certificate, or wrong passphrase'}); its expiry is not shown`);
    return undefined;
  }
}
