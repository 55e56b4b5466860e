import { createLimiter, type Limiter } from '../core/limiter.js';
import type { Report, TargetReport } from '../core/report.js';
import type { WriteOutcome } from '../core/target-store.js';
import { createClusterStore, targetKey, type ClusterTarget } from '../kube/cluster-store.js';
import {
  connectCluster,
  KUBE_CONCURRENCY,
  startReadingClusterTargets,
  wantedTargets,
  type ClusterEnvironment,
  type ClusterFlags,
  type ClusterHost,
} from '../kube/cluster-targets.js';
import { toKubeRequestError, type KubeApi } from '../kube/kube-api.js';
import { buildSecretEvent, type SecretEventSpec } from '../kube/secret-events.js';
import { isNamespaceName, isSecretName, type SecretRef } from '../kube/secret-refs.js';
import { runRefresh, type RefreshDeps, type RefreshSettings } from './engine.js';

/** What a cluster refresh needs of the process (a command's context has it all). */
export interface ClusterRefreshHost extends ClusterHost {
  /** The last line of defence before text leaves the process in an Event. */
  redactor: { redact(text: string): string };
}

/**
 * `refresh` without `--manifests`: the Secrets named by `--target`, or by the cluster's AWS
 * CredentialsRequests, refreshed when due. Configuration problems are raised before any
 * request; a Secret that cannot be read or written fails alone.
 */
export async function refreshCluster(
  flags: ClusterFlags,
  settings: RefreshSettings,
  deps: RefreshDeps,
  host: ClusterRefreshHost,
  environment: ClusterEnvironment = {},
): Promise<Report> {
  const wanted = wantedTargets(flags);
  const { api, source } = connectCluster(flags, host, deps.logger, environment);
  return refreshClusterTargets(api, wanted, settings, deps, {
    source,
    instance: host.env.HOSTNAME || 'cap-token-refresh',
    redact: (text) => host.redactor.redact(text),
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
  const store = createClusterStore({ api, limit, logger: deps.logger });
  const events: Promise<void>[] = [];
  const report = await runRefresh(
    // A Secret that cannot be read or has no role fails before the engine: log it as a failed write is.
    reading.map((p) =>
      p.then((t) => {
        if (t.problem) deps.logger.error('target failed', { target: targetKey(t), error: t.problem });
        return t;
      }),
    ),
    store,
    settings,
    deps,
    // Recorded while other roles are still being refreshed, not after the whole run.
    (target, entry, outcome) => {
      events.push(recordEvents(api, limit, target, entry, outcome, deps, run));
    },
  );
  await Promise.all(events);
  return report;
}

/**
 * The Events of one Secret, from its result and the store's outcome: Normal when this run wrote it,
 * Warning when it failed, and a Warning ClockSkew when it was written with this node's clock more
 * than 60 s off CAP's. None when it was fresh (or kept: another run wrote it and recorded its own).
 * One that cannot be recorded is only a warning.
 */
async function recordEvents(
  api: KubeApi,
  limit: Limiter,
  target: ClusterTarget,
  entry: TargetReport,
  outcome: WriteOutcome | undefined,
  deps: RefreshDeps,
  run: ClusterRunOptions,
): Promise<void> {
  if (!isNamespaceName(entry.namespace) || !isSecretName(entry.name)) return;
  const written = outcome?.kind === 'written' ? outcome : undefined;
  const specs: SecretEventSpec[] = [];
  if (written) {
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
      deps.logger.warn(`could not record the ${event.reason} Event on the Secret (${failure.message})${cure}`, { target: targetKey(entry) });
    }
  }
}
