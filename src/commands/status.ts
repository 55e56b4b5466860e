import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readClientCertificate } from '../cap/identity.js';
import { ConfigError, EXIT_OK, EXIT_TARGETS_FAILED } from '../core/errors.js';
import { formatRfc3339 } from '../core/policy.js';
import {
  buildStatusReport,
  type ClientCertificateInfo,
  type CronJobHealthReport,
  createJudge,
  renderStatusJson,
  renderStatusTable,
  type StatusTarget,
  statusSucceeded,
  toStatusTarget,
} from '../core/status-report.js';
import type { LogFormat, LogLevel, Logger } from '../log/logger.js';
import { resolveIdentityLocation } from './cap-settings.js';
import { loggerFor, type CommandContext } from './context.js';
import { parseFlags, statusFlags } from './flags.js';

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
  /** The certs folder, as refresh reads it (--certs-dir, CAP_CERTS_DIR). */
  certsDir?: string;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/**
 * `cap-token-refresh status`: each managed target with its role, expiration, time left,
 * last refresh and verdict, and the CAP client certificate's expiry when it can be read; in a
 * cluster, also what the AlertingRule would fire on for the refresh CronJob. The judging and
 * the rendering are src/core/status-report.ts; this gathers what they judge.
 * Exit 1 when any target is expired or unmanaged, or an alert would fire.
 */
export async function status(opts: StatusOptions, ctx: CommandContext): Promise<number> {
  const { renewBefore: renewBeforeMs } = parseFlags(statusFlags, opts);
  const logger = loggerFor(ctx, opts);

  let targets: StatusTarget[];
  let cronJob: CronJobHealthReport | undefined;
  if (opts.manifests) {
    const { loadManifestStatusTargets } = await import('../disk/manifest-status.js');
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
  const clientCertificate = await findClientCertificate(opts, ctx, logger);
  const now = ctx.now();
  const report = buildStatusReport(targets, createJudge({ renewBeforeMs, force: false }), now, { clientCertificate, cronJob });
  ctx.stdout(ctx.redactor.redact(opts.output === 'json' ? renderStatusJson(report) : renderStatusTable(report, now)));
  return statusSucceeded(report) ? EXIT_OK : EXIT_TARGETS_FAILED;
}

/**
 * The client certificate's subject and expiry, found as refresh finds the identity
 * (resolveIdentityLocation: --cert / CAP_CERT_FILE, --pkcs12 / CAP_PKCS12_FILE with its
 * passphrase, --certs-dir / CAP_CERTS_DIR). Never fails status: a certificate that is not
 * given or not readable is a warning at most.
 */
async function findClientCertificate(opts: StatusOptions, ctx: CommandContext, logger: Logger): Promise<ClientCertificateInfo | undefined> {
  let file: string | undefined;
  try {
    const { identity } = resolveIdentityLocation(opts, ctx);
    file = identity.cert ?? identity.pkcs12;
    const cert = await readClientCertificate(identity, { readFile: (p) => readFile(p), registerSecret: (v) => ctx.redactor.add(v) });
    return cert && { file: cert.file, subject: cert.subject, notAfter: formatRfc3339(cert.notAfter) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ?? (err instanceof ConfigError ? err.message : 'not a certificate, or wrong passphrase');
    logger.warn(`could not read the CAP client certificate${file === undefined ? '' : ` ${file}`} (${why}); its expiry is not shown`);
    return undefined;
  }
}
