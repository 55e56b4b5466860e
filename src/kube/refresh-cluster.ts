import { UsageError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { CommandContext } from '../commands/context.js';
import type { RefreshOptions } from '../commands/refresh.js';
import type { RefreshDeps, RefreshSettings } from '../refresh/engine.js';

/** Refresh of Secrets in a cluster (issue 3 builds it here). */
export async function refreshCluster(_opts: RefreshOptions, _settings: RefreshSettings, _deps: RefreshDeps, _ctx: CommandContext): Promise<Report> {
  throw new UsageError('refreshing Secrets in a cluster is not built yet; use --manifests DIR');
}
