import { resolve } from 'node:path';
import { EXIT_OK, EXIT_TARGETS_FAILED } from '../core/errors.js';
import { renderReportJson, renderReportTable, reportSucceeded, type Report } from '../core/report.js';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { requiredSettings } from '../cap/url.js';
import { runRefresh, type RefreshSettings } from '../refresh/engine.js';
import { buildCapClient, loadIdentity, resolveCapSettings, type CapFlags } from './cap-settings.js';
import { loggerFor, type CommandContext } from './context.js';
import { parseFlags, refreshFlags } from './flags.js';

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
  const flags = parseFlags(refreshFlags, opts);
  const logger = loggerFor(ctx, opts);
  const settings = resolveCapSettings(opts, ctx);
  const refreshSettings = resolveRefreshSettings(flags, settings);
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
      const { refreshCluster } = await import('../refresh/refresh-cluster.js');
      report = await refreshCluster(opts, refreshSettings, deps, ctx);
    }
  } finally {
    await cap.close();
  }
  // Reports carry no secret by construction; the redactor is the second line of defence.
  ctx.stdout(ctx.redactor.redact(opts.output === 'json' ? renderReportJson(report) : renderReportTable(report, ctx.now())));
  return { exitCode: reportSucceeded(report) ? EXIT_OK : EXIT_TARGETS_FAILED, report };
}

export function resolveRefreshSettings(
  flags: { renewBefore: number; concurrency: number; force?: unknown },
  cap: { capUrl?: URL; agency?: string; mission?: string; account?: string },
): RefreshSettings {
  const { renewBefore: renewBeforeMs, concurrency } = flags;
  return {
    policy: { renewBeforeMs, force: Boolean(flags.force) },
    concurrency,
    ...(cap.agency ? { agency: cap.agency } : {}),
    ...(cap.mission ? { mission: cap.mission } : {}),
    ...(cap.account ? { account: cap.account } : {}),
    ...(cap.capUrl ? { requires: requiredSettings(cap.capUrl) } : {}),
  };
}
