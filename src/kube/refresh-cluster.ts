import type { Report } from '../core/report.js';
import type { CommandContext } from '../commands/context.js';
import type { RefreshOptions } from '../commands/refresh.js';
import { runRefresh, type RefreshDeps, type RefreshSettings } from '../refresh/engine.js';
import { connectCluster, KUBE_CONCURRENCY, loadClusterTargets, wantedTargets, type ClusterEnvironment } from './cluster-targets.js';
import { createClusterStore, targetKey, type ClusterStore, type ClusterTarget } from './cluster-store.js';
import { toKubeRequestError, type KubeApi } from './kube-api.js';
import { createLimiter, type Limiter } from './limiter.js';
import { buildSecretEvent, type SecretEventSpec } from './secret-events.js';
import { isNamespaceName, isSecretName, type SecretRef } from './secret-refs.js';

export { KUBE_CONCURRENCY } from './cluster-targets.js';

/**
 * `refresh` without `--manifests`: the Secrets named by `--target`, or by the cluster's AWS
 * CredentialsRequests, refreshed when due. Configuration problems are raised before any
 * request; a Secret that cannot be read or written fails alone.
 */
export async function refreshCluster(
  opts: RefreshOptions,
  settings: RefreshSettings,
  deps: RefreshDeps,
  ctx: CommandContext,
  environment: ClusterEnvironment = {},
): Promise<Report> {
  const wanted = wantedTargets(opts);
  const { api, source } = connectCluster(opts, ctx, deps.logger, environment);
  return refreshClusterTargets(api, wanted, settings, deps, {
    source,
    instance: ctx.env.HOSTNAME || 'cap-token-refresh',
    redact: (text) => ctx.redactor.redact(text),
  });
}

export interface ClusterRunOptions {
  /** Where the connection came from, for messages. */
  source: string;
  /** Reported as the Events' reportingInstance (the pod name in a CronJob). */
  instance: string;
  /** Last line of defence before text leaves the process in an Event. */
  redact: (text: string) => string;
  concurrency?: number;
}

export async function refreshClusterTargets(
  api: KubeApi,
  wanted: SecretRef[] | undefined,
  settings: RefreshSettings,
  deps: RefreshDeps,
  run: ClusterRunOptions,
): Promise<Report> {
  const limit = createLimiter(run.concurrency ?? KUBE_CONCURRENCY);
  const targets = await loadClusterTargets(api, wanted, deps.logger, run.source, limit);
  // A Secret that cannot be read or has no role fails before the engine: log it as a failed write is.
  for (const t of targets) if (t.problem) deps.logger.error('target failed', { target: targetKey(t), error: t.problem });
  const store = createClusterStore({ api, limit, policy: settings.policy, now: deps.now, logger: deps.logger });
  const report = await runRefresh(targets, store, settings, deps);

  for (const entry of report.targets) {
    const elsewhere = store.refreshedElsewhere.get(targetKey(entry));
    if (entry.result === 'refreshed' && elsewhere) Object.assign(entry, { result: 'fresh', expiration: elsewhere });
  }
  await recordEvents(api, limit, targets, report, store, deps, run);
  return report;
}

/** One Event per refreshed (Normal) and failed (Warning) Secret; an Event that cannot be recorded is only a warning. */
async function recordEvents(
  api: KubeApi,
  limit: Limiter,
  targets: ClusterTarget[],
  report: Report,
  store: ClusterStore,
  deps: RefreshDeps,
  run: ClusterRunOptions,
): Promise<void> {
  const now = deps.now();
  await Promise.all(
    report.targets.map(async (entry, i) => {
      const target = targets[i];
      if (!target || !isNamespaceName(entry.namespace) || !isSecretName(entry.name)) return;
      const key = targetKey(entry);
      const written = store.written.get(key);
      let spec: SecretEventSpec;
      if (entry.result === 'refreshed' && written) spec = { kind: 'refreshed', role: entry.role ?? '', expiration: written.expiration, accessKey: written.accessKey };
      else if (entry.result === 'failed') spec = { kind: 'failed', role: entry.role, error: run.redact(entry.error ?? 'failed') };
      else return;
      const uid = written?.uid ?? target.secret?.metadata?.uid;
      const resourceVersion = written?.resourceVersion ?? target.secret?.metadata?.resourceVersion;
      const event = buildSecretEvent({ namespace: entry.namespace, name: entry.name, ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) }, spec, now, run.instance);
      try {
        await limit(() => api.createEvent(entry.namespace, event));
      } catch (err) {
        const failure = await toKubeRequestError(err);
        const cure = failure.status === 403 ? `; the Role in namespace ${entry.namespace} must allow create on events` : '';
        deps.logger.warn(`could not record the ${spec.kind === 'refreshed' ? 'CredentialsRefreshed' : 'CredentialsRefreshFailed'} Event on the Secret (${failure.message})${cure}`, { target: key });
      }
    }),
  );
}
