import { ConfigError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { CommandContext } from '../commands/context.js';
import type { RefreshOptions } from '../commands/refresh.js';
import type { Logger } from '../log/logger.js';
import { runRefresh, type RefreshDeps, type RefreshSettings } from '../refresh/engine.js';
import { createClusterStore, targetKey, type ClusterStore, type ClusterTarget } from './cluster-store.js';
import { describeConnectionFailure, describeSecretFailure, missingRoleMessage } from './describe-kube-failure.js';
import { CREDENTIALS_REQUEST_NAMESPACE, createKubeApi, toKubeRequestError, type KubeApi } from './kube-api.js';
import { createLimiter, type Limiter } from './limiter.js';
import { loadKubeConfig, type KubeEnvironment } from './load-kube-config.js';
import { buildSecretEvent, type SecretEventSpec } from './secret-events.js';
import { isNamespaceName, isSecretName, parseTargetFlags, secretRefsFromCredentialsRequests, type SecretRef } from './secret-refs.js';
import { ANNOTATION_ROLE } from '../core/names.js';
import { readSecretState } from './secret-update.js';

/** API requests in flight at once: reads, updates and Events of one run share it. */
export const KUBE_CONCURRENCY = 16;

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
  environment: Partial<Omit<KubeEnvironment, 'env' | 'cwd'>> = {},
): Promise<Report> {
  const wanted = opts.target?.length ? parseTargetFlags(opts.target) : undefined;
  const loaded = loadKubeConfig(
    { ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), ...(opts.context ? { context: opts.context } : {}) },
    { env: ctx.env, cwd: ctx.cwd, ...environment },
  );
  deps.logger.info('using the cluster', { server: loaded.server, config: loaded.source, context: loaded.context });
  const api = createKubeApi(loaded.kubeConfig, loaded.server);
  return refreshClusterTargets(api, wanted, settings, deps, {
    source: loaded.source,
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
  const refs = wanted ?? (await discoverSecretRefs(api, deps.logger, run.source));
  const targets = await Promise.all(refs.map((ref) => readTarget(api, limit, ref)));
  const store = createClusterStore({ api, limit, policy: settings.policy, now: deps.now, logger: deps.logger });
  const report = await runRefresh(targets, store, settings, deps);

  for (const entry of report.targets) {
    const elsewhere = store.refreshedElsewhere.get(targetKey(entry));
    if (entry.result === 'refreshed' && elsewhere) Object.assign(entry, { result: 'fresh', expiration: elsewhere });
  }
  await recordEvents(api, limit, targets, report, store, deps, run);
  return report;
}

async function discoverSecretRefs(api: KubeApi, logger: Logger, source: string): Promise<SecretRef[]> {
  let items: unknown[];
  try {
    items = await api.listCredentialsRequests(CREDENTIALS_REQUEST_NAMESPACE);
  } catch (err) {
    throw describeDiscoveryFailure(await toKubeRequestError(err), api.server, source);
  }
  const { refs, ignored } = secretRefsFromCredentialsRequests(items);
  for (const i of ignored) logger.debug('CredentialsRequest ignored', { credentialsRequest: i.name, reason: i.reason });
  logger.info('targets discovered from CredentialsRequests', { credentialsRequests: items.length, secrets: refs.length });
  if (refs.length === 0) logger.warn(`no AWS CredentialsRequest found in ${CREDENTIALS_REQUEST_NAMESPACE}; name the Secrets with --target NAMESPACE/NAME`);
  return refs;
}

function describeDiscoveryFailure(err: Awaited<ReturnType<typeof toKubeRequestError>>, server: string, source: string): Error {
  const what = `cannot list the CredentialsRequests in ${CREDENTIALS_REQUEST_NAMESPACE} to find the Secrets to refresh`;
  const connection = describeConnectionFailure(err, server);
  if (connection) return new ConfigError(`${what}: ${connection}`);
  switch (err.status) {
    case 401:
      return new ConfigError(`${what}: the API server ${server} rejected the credentials of ${source} (HTTP 401 Unauthorized); log in again (oc login) or check the service account token`);
    case 403:
      return new ConfigError(
        `${what} (HTTP 403 Forbidden): the job's service account needs a Role in ${CREDENTIALS_REQUEST_NAMESPACE} allowing get and list on credentialsrequests.cloudcredential.openshift.io ` +
          '(manifests/ has it); or name the Secrets with --target NAMESPACE/NAME',
      );
    case 404:
      return new ConfigError(`${what}: the API server ${server} does not serve cloudcredential.openshift.io/v1 CredentialsRequests (HTTP 404; not an OpenShift cluster?); name the Secrets with --target NAMESPACE/NAME`);
    default:
      return new Error(`${what}: the API server ${server} answered HTTP ${err.status ?? '?'}${err.reason ? ` ${err.reason}` : ''}; run again later`);
  }
}

async function readTarget(api: KubeApi, limit: Limiter, ref: SecretRef): Promise<ClusterTarget> {
  const { namespace, name } = ref;
  if (ref.problem) return { namespace, name, problem: ref.problem };
  let secret;
  try {
    secret = await limit(() => api.readSecret(namespace, name));
  } catch (err) {
    return { namespace, name, problem: describeSecretFailure(await toKubeRequestError(err), 'read', namespace, name, api.server) };
  }
  const state = readSecretState(secret);
  if (state.role === undefined) return { namespace, name, secret, problem: missingRoleMessage(namespace, name) };
  if (state.role === '') {
    return { namespace, name, secret, role: '', problem: `the ${ANNOTATION_ROLE} annotation of Secret ${namespace}/${name} is empty; set it to the IAM role CAP should issue: oc annotate --overwrite secret -n ${namespace} ${name} ${ANNOTATION_ROLE}=ROLE` };
  }
  return { namespace, name, secret, ...state };
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
