import { resolve } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { EXIT_OK, EXIT_TARGETS_FAILED, UsageError } from '../core/errors.js';
import { renderReportJson, renderReportTable, reportSucceeded, type Report } from '../core/report.js';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { requiredSettings } from '../cap/url.js';
import { runRefresh, type RefreshSettings } from '../refresh/engine.js';
import { buildCapClient, loadIdentity, resolveCapSettings, type CapFlags } from './cap-settings.js';
import { loggerFor, type CommandContext } from './context.js';

export interface RefreshOptions extends CapFlags {
  manifests?: string;
  target?: string[];
  kubeconfig?: string;
  context?: string;
  force?: boolean;
  renewBefore?: string;
  concurrency?: string | number;
  output?: 'table' | 'json';
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

export interface RefreshOutcome {
  exitCode: number;
  report: Report;
}

/** `cap-token-refresh refresh`: keeps managed Secrets (manifests on disk, or in a cluster) fresh. */
export async function refresh(opts: RefreshOptions, ctx: CommandContext): Promise<RefreshOutcome> {
  const logger = loggerFor(ctx, opts);
  const settings = resolveCapSettings(opts, ctx);
  const refreshSettings = resolveRefreshSettings(opts, settings);
  if (opts.manifests && opts.target?.length) throw new UsageError('--target names Secrets in a cluster; it cannot be combined with --manifests');
  const identity = await loadIdentity(settings, ctx, logger);

  const cap = buildCapClient(settings, identity, ctx, logger);
  let report: Report;
  try {
    const deps = { fetchCredentials: cap.fetchCredentials, now: ctx.now, logger };
    if (opts.manifests) {
      // Each side loads only its own code: a cluster run needs no YAML editor, a disk run no Kubernetes client.
      const { createManifestStore, loadManifestTargets } = await import('../disk/manifest-store.js');
      const dir = resolve(ctx.cwd, opts.manifests);
      report = await runRefresh(await loadManifestTargets(dir), createManifestStore(), refreshSettings, deps);
    } else {
      const { refreshCluster } = await import('../kube/refresh-cluster.js');
      report = await refreshCluster(opts, refreshSettings, deps, ctx);
    }
  } finally {
    await cap.close();
  }
  // Reports carry no secret by construction; the redactor is the second line of defence.
  ctx.stdout(ctx.redactor.redact(opts.output === 'json' ? renderReportJson(report) : renderReportTable(report, ctx.now())));
  return { exitCode: reportSucceeded(report) ? EXIT_OK : EXIT_TARGETS_FAILED, report };
}

export function resolveRefreshSettings(opts: RefreshOptions, cap: { capUrl?: URL; agency?: string; mission?: string; account?: string }): RefreshSettings {
  const renewBeforeMs = opts.renewBefore === undefined ? 0 : parseDuration(opts.renewBefore);
  if (renewBeforeMs === undefined) throw new UsageError(`--renew-before ${opts.renewBefore} is not a duration; use for example 20m or 1h`);
  const concurrency = Number(opts.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new UsageError(`--concurrency must be a whole number from 1 to 64, not ${opts.concurrency}`);
  return {
    policy: { renewBeforeMs, force: Boolean(opts.force) },
    concurrency,
    ...(cap.agency ? { agency: cap.agency } : {}),
    ...(cap.mission ? { mission: cap.mission } : {}),
    ...(cap.account ? { account: cap.account } : {}),
    ...(cap.capUrl ? { requires: requiredSettings(cap.capUrl) } : {}),
  };
}
