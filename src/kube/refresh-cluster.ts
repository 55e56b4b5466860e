import type { Report, TargetReport } from '../core/report.js';
import type { CommandContext } from '../commands/context.js';
import type { RefreshOptions } from '../commands/refresh.js';
import { runRefresh, type RefreshDeps, type RefreshSettings } from '../refresh/engine.js';
import { connectCluster, KUBE_CONCURRENCY, startReadingClusterTargets, wantedTargets, type ClusterEnvironment } from './cluster-targets.js';
import { createClusterStore, targetKey, type ClusterStore, type ClusterTarget } from './cluster-store.js';
import { toKubeRequestError, type KubeApi } from './kube-api.js';
import { createLimiter, type Limiter } from '../refresh/limiter.js';
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
  const reading = await startReadingClusterTargets(api, wanted, deps.logger, run.source, limit);
  const store = createClusterStore({ api, limit, policy: settings.policy, now: deps.now, logger: deps.logger });
  const events: Promise<void>[] = [];
  const report = await runRefresh(
    // A Secret that cannot be read or has no role fails before the engine: log it as a failed write is.
    reading.map((p) => p.then((t) => (t.problem && deps.logger.error('target failed', { target: targetKey(t), error: t.problem }), t))),
    store,
    settings,
    deps,
    (target, entry) => {
      const elsewhere = store.refreshedElsewhere.get(targetKey(entry));
      if (entry.result === 'refreshed' && elsewhere) Object.assign(entry, { result: 'fresh', expiration: elsewhere });
      // Recorded while other roles are still being refreshed, not after the whole run.
      events.push(recordEvents(api, limit, target, entry, store, deps, run));
    },
  );
  await Promise.all(events);
  return report;
}

/**
 * The Events of one Secret: Normal when refreshed, Warning when failed, and a Warning ClockSkew when
 * it was written with this node's clock more than 60 s off CAP's. One that cannot be recorded is only a warning.
 */
async function recordEvents(
  api: KubeApi,
  limit: Limiter,
  target: ClusterTarget,
  entry: TargetReport,
  store: ClusterStore,
  deps: RefreshDeps,
  run: ClusterRunOptions,
): Promise<void> {
  if (!isNamespaceName(entry.namespace) || !isSecretName(entry.name)) return;
  const key = targetKey(entry);
  const written = store.written.get(key);
  const specs: SecretEventSpec[] = [];
  if (entry.result === 'refreshed' && written) {
    specs.push({ kind: 'refreshed', role: entry.role ?? '', expiration: written.expiration, accessKey: written.accessKey });
    if (written.clockOffsetSeconds !== undefined) specs.push({ kind: 'clock-skew', role: entry.role ?? '', offsetSeconds: written.clockOffsetSeconds });
  } else if (entry.result === 'failed') specs.push({ kind: 'failed', role: entry.role, error: run.redact(entry.error ?? 'failed') });
  const uid = written?.uid ?? target.secret?.metadata?.uid;
  const resourceVersion = written?.resourceVersion ?? target.secret?.metadata?.resourceVersion;
  for (const spec of specs) {
    const event = buildSecretEvent(
      { namespace: entry.namespace, name: entry.name, ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
      spec,
      deps.now(),
      run.instance,
    );
    // The same guard as every text that leaves the process: an Event holds no secret.
    event.message = run.redact(event.message ?? '');
    try {
      await limit(() => api.createEvent(entry.namespace, event));
    } catch (err) {
      const failure = await toKubeRequestError(err);
      const cure = failure.status === 403 ? `; the Role in namespace ${entry.namespace} must allow create on events` : '';
      deps.logger.warn(`could not record the ${event.reason} Event on the Secret (${failure.message})${cure}`, { target: key });
    }
  }
}
