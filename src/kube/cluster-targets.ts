import { displayUrl } from '../core/display-url.js';
import { ConfigError, RunFailedError } from '../core/errors.js';
import { createLimiter, type Limiter } from '../core/limiter.js';
import { ANNOTATION_ROLE } from '../core/names.js';
import type { Logger } from '../log/logger.js';
import type { ClusterTarget } from './cluster-store.js';
import { describeConnectionFailure, describeSecretFailure, emptySecretMessage, missingRoleMessage } from './describe-kube-failure.js';
import { CREDENTIALS_REQUEST_NAMESPACE, createKubeApi, toKubeRequestError, type ApiEndpoint, type KubeApi, type KubeRetryTiming } from './kube-api.js';
import { loadKubeConfig, type KubeEnvironment } from './load-kube-config.js';
import { parseTargetFlags, secretRefsFromCredentialsRequests, type SecretRef } from './secret-refs.js';
import { isSecretObject, readSecretState } from './secret-update.js';

/** API requests in flight at once: reads, updates and Events of one run share it. */
export const KUBE_CONCURRENCY = 16;

/** How a command names its cluster and targets: the flags refresh and status share. */
export interface ClusterFlags {
  target?: string[];
  kubeconfig?: string;
  context?: string;
}

export interface ClusterConnection {
  api: KubeApi;
  /** Where the connection came from, for messages. */
  source: string;
}

/** Injected parts of the Kubernetes configuration lookup (tests: no pod, no home folder). */
export type ClusterEnvironment = Partial<Omit<KubeEnvironment, 'env' | 'cwd'>>;

/** What connecting needs of the process: its environment and folder, and the clock and sleep the API retries use (a command's context has them). */
export type ClusterHost = Pick<KubeEnvironment, 'env' | 'cwd'> & KubeRetryTiming;

/** The `--target` values, checked (a UsageError before anything else); undefined means discover them. */
export function wantedTargets(flags: ClusterFlags): SecretRef[] | undefined {
  return flags.target?.length ? parseTargetFlags(flags.target) : undefined;
}

/** The API server connection of `--kubeconfig` / `--context` (else in-cluster, KUBECONFIG, ~/.kube/config); problems are ConfigErrors raised before any request. */
export function connectCluster(flags: ClusterFlags, host: ClusterHost, logger: Logger, environment: ClusterEnvironment = {}): ClusterConnection {
  const loaded = loadKubeConfig(
    { ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}) },
    { env: host.env, cwd: host.cwd, ...environment },
  );
  logger.info('using the cluster', {
    server: displayUrl(loaded.server),
    ...(loaded.proxyUrl ? { proxy: displayUrl(loaded.proxyUrl) } : {}),
    config: loaded.source,
    context: loaded.context,
  });
  return { api: createKubeApi(loaded.kubeConfig, loaded.server, host), source: loaded.source };
}

/**
 * The targets in a cluster, read: the Secrets named by `wanted` (the `--target` flags), or
 * else by the cluster's AWS CredentialsRequests. Only reads. A Secret that is missing, has no
 * (or an empty) role annotation or cannot be read comes back with `problem` set; failing to
 * list the CredentialsRequests is the only error thrown.
 */
export async function loadClusterTargets(
  api: KubeApi,
  wanted: SecretRef[] | undefined,
  logger: Logger,
  source: string,
  limit: Limiter = createLimiter(KUBE_CONCURRENCY),
): Promise<ClusterTarget[]> {
  return Promise.all(await startReadingClusterTargets(api, wanted, logger, source, limit));
}

/**
 * The targets as they are being read, in order: discovery (when no Secret is named) is
 * awaited, then every read is started (bounded by `limit`) and returned as a promise, so a
 * refresh can act on the first Secrets while the others are still on their way.
 */
export async function startReadingClusterTargets(
  api: KubeApi,
  wanted: SecretRef[] | undefined,
  logger: Logger,
  source: string,
  limit: Limiter = createLimiter(KUBE_CONCURRENCY),
): Promise<Promise<ClusterTarget>[]> {
  const refs = wanted ?? (await discoverSecretRefs(api, logger, source));
  return refs.map((ref) => readTarget(api, limit, ref));
}

async function discoverSecretRefs(api: KubeApi, logger: Logger, source: string): Promise<SecretRef[]> {
  let items: unknown[];
  try {
    items = await api.listCredentialsRequests(CREDENTIALS_REQUEST_NAMESPACE);
  } catch (err) {
    throw describeDiscoveryFailure(await toKubeRequestError(err), api, source);
  }
  const { refs, ignored } = secretRefsFromCredentialsRequests(items);
  for (const i of ignored) logger.debug('CredentialsRequest ignored', { credentialsRequest: i.name, reason: i.reason });
  logger.info('targets discovered from CredentialsRequests', { credentialsRequests: items.length, secrets: refs.length });
  if (refs.length === 0) logger.warn(`no AWS CredentialsRequest found in ${CREDENTIALS_REQUEST_NAMESPACE}; name the Secrets with --target NAMESPACE/NAME`);
  return refs;
}

function describeDiscoveryFailure(err: Awaited<ReturnType<typeof toKubeRequestError>>, endpoint: ApiEndpoint, source: string): Error {
  const server = displayUrl(endpoint.server);
  const what = `cannot list the CredentialsRequests in ${CREDENTIALS_REQUEST_NAMESPACE} to find the Secrets to refresh`;
  const connection = describeConnectionFailure(err, endpoint);
  if (connection) return new ConfigError(`${what}: ${connection}`);
  switch (err.status) {
    case 401:
      return new ConfigError(
        `${what}: the API server ${server} rejected the credentials of ${source} (HTTP 401 Unauthorized); log in again (oc login) or check the service account token`,
      );
    case 403:
      return new ConfigError(
        `${what} (HTTP 403 Forbidden): the job's service account needs a Role in ${CREDENTIALS_REQUEST_NAMESPACE} allowing get and list on credentialsrequests.cloudcredential.openshift.io ` +
          '(manifests/ has it); or name the Secrets with --target NAMESPACE/NAME',
      );
    case 404:
      return new ConfigError(
        `${what}: the API server ${server} does not serve cloudcredential.openshift.io/v1 CredentialsRequests (HTTP 404; not an OpenShift cluster?); name the Secrets with --target NAMESPACE/NAME`,
      );
    default:
      return new RunFailedError(`${what}: the API server ${server} answered HTTP ${err.status ?? '?'}${err.reason ? ` ${err.reason}` : ''}; run again later`);
  }
}

async function readTarget(api: KubeApi, limit: Limiter, ref: SecretRef): Promise<ClusterTarget> {
  const { namespace, name } = ref;
  if (ref.problem) return { namespace, name, problem: ref.problem };
  let secret: Awaited<ReturnType<KubeApi['readSecret']>>;
  try {
    secret = await limit(() => api.readSecret(namespace, name));
  } catch (err) {
    return { namespace, name, problem: describeSecretFailure(await toKubeRequestError(err), 'read', namespace, name, api) };
  }
  if (!isSecretObject(secret)) return { namespace, name, problem: emptySecretMessage(namespace, name) };
  const state = readSecretState(secret);
  if (state.role === undefined) return { namespace, name, secret, problem: missingRoleMessage(namespace, name) };
  if (state.role === '') {
    return {
      namespace,
      name,
      secret,
      role: '',
      problem: `the ${ANNOTATION_ROLE} annotation of Secret ${namespace}/${name} is empty; set it to the IAM role CAP should issue: oc annotate --overwrite secret -n ${namespace} ${name} ${ANNOTATION_ROLE}=ROLE`,
    };
  }
  return { namespace, name, secret, ...state };
}
