import { ConfigError } from '../core/errors.js';
import { ANNOTATION_ROLE, TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import { secretKey } from '../manifests/compare-releases.js';
import type { AwsCredentialsRequest } from '../manifests/credentials-requests.js';
import type { CurrentState } from '../manifests/preflight-plan.js';
import { CREDENTIALS_REQUEST_NAMESPACE, type KubeCall, KubeRequestError, guard } from './kube-api.js';

/** The annotation the Cloud Credential Operator reads before it lets a minor upgrade go (Manual mode). */
export const ANNOTATION_UPGRADEABLE_TO = 'cloudcredential.openshift.io/upgradeable-to';
const CLOUD_CREDENTIAL_PATH = '/apis/operator.openshift.io/v1/cloudcredentials/cluster';
export const JOB_USER = `system:serviceaccount:${TOOL_NAMESPACE}:${TOOL_NAME}`;

/** The reads and the one write preflight makes in a cluster. */
export interface PreflightClusterApi {
  listCredentialsRequests(): Promise<unknown[]>;
  /** The Secret's role annotation; `missing` when there is no such Secret. */
  readSecretRole(namespace: string, name: string): Promise<{ role: string | undefined } | 'missing'>;
  namespaceExists(namespace: string): Promise<boolean>;
  /** A SubjectAccessReview for the job's service account. */
  jobMay(verb: string, namespace: string, name: string): Promise<boolean>;
  readUpgradeableTo(): Promise<{ value: string | undefined; object: CloudCredential }>;
  writeUpgradeableTo(object: CloudCredential, version: string): Promise<void>;
}

interface CloudCredential {
  metadata?: { annotations?: Record<string, string>; resourceVersion?: string };
  [key: string]: unknown;
}

const enc = encodeURIComponent;
const isNotFound = (err: unknown) => err instanceof KubeRequestError && err.status === 404;

export function createPreflightClusterApi(call: KubeCall): PreflightClusterApi {
  return {
    listCredentialsRequests: () =>
      guard(async () => {
        const list = await call<{ items?: unknown[] }>(
          'GET',
          `/apis/cloudcredential.openshift.io/v1/namespaces/${CREDENTIALS_REQUEST_NAMESPACE}/credentialsrequests`,
        );
        return Array.isArray(list?.items) ? list.items : [];
      }),
    readSecretRole: (namespace, name) =>
      guard(async () => {
        try {
          const secret = await call<{ metadata?: { annotations?: Record<string, string> } }>(
            'GET',
            `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`,
          );
          return { role: secret?.metadata?.annotations?.[ANNOTATION_ROLE] || undefined };
        } catch (err) {
          if (isNotFound(err)) return 'missing' as const;
          throw err;
        }
      }),
    namespaceExists: (namespace) =>
      guard(async () => {
        try {
          await call('GET', `/api/v1/namespaces/${enc(namespace)}`);
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      }),
    jobMay: (verb, namespace, name) =>
      guard(async () => {
        const review = await call<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: JOB_USER, resourceAttributes: { namespace, verb, group: '', version: 'v1', resource: 'secrets', name } },
        });
        return review?.status?.allowed === true;
      }),
    readUpgradeableTo: () =>
      guard(async () => {
        const object = await call<CloudCredential>('GET', CLOUD_CREDENTIAL_PATH);
        return { value: object?.metadata?.annotations?.[ANNOTATION_UPGRADEABLE_TO], object };
      }),
    writeUpgradeableTo: (object, version) =>
      guard(async () => {
        const metadata = object.metadata ?? {};
        const body = { ...object, metadata: { ...metadata, annotations: { ...metadata.annotations, [ANNOTATION_UPGRADEABLE_TO]: version } } };
        await call('PUT', CLOUD_CREDENTIAL_PATH, body);
      }),
  };
}

/** The cluster's current AWS requests as texts the CredentialsRequest parser reads (JSON is YAML), without those the release deletes. */
export function clusterRequestSources(items: readonly unknown[]): { source: string; text: string }[] {
  return items
    .filter((item) => (item as { metadata?: { annotations?: Record<string, string> } })?.metadata?.annotations?.['release.openshift.io/delete'] !== 'true')
    .map((item) => ({
      source: `cluster: CredentialsRequest ${(item as { metadata?: { name?: string } })?.metadata?.name ?? '(unnamed)'}`,
      text: JSON.stringify(item),
    }));
}

/** What exists for each Secret the next release names: the Secret and its role, its namespace, and the job's access to it. */
export async function readClusterState(api: PreflightClusterApi, next: readonly AwsCredentialsRequest[]): Promise<CurrentState> {
  const secrets = new Map<string, { role: string | undefined }>();
  const granted = new Set<string>();
  const namespaces = new Set<string>();
  await Promise.all(
    next.map(async (request) => {
      const { namespace, name } = request.secretRef;
      const key = secretKey(request);
      const [exists, secret, mayGet, mayUpdate] = await Promise.all([
        api.namespaceExists(namespace),
        api.readSecretRole(namespace, name),
        api.jobMay('get', namespace, name),
        api.jobMay('update', namespace, name),
      ]);
      if (exists) namespaces.add(namespace);
      if (secret !== 'missing') secrets.set(key, secret);
      if (mayGet && mayUpdate) granted.add(key);
    }),
  );
  return { secrets, granted, namespaces };
}

/** Compares major.minor versions; NaN parts (a malformed annotation) compare as lower. */
export function compareMinor(a: string, b: string): number {
  const parse = (v: string) => v.split('.').map((p) => Number.parseInt(p, 10));
  const [am = Number.NaN, an = Number.NaN] = parse(a);
  const [bm = Number.NaN, bn = Number.NaN] = parse(b);
  const val = (x: number) => (Number.isNaN(x) ? -1 : x);
  return val(am) - val(bm) || val(an) - val(bn);
}

/** Sets upgradeable-to only when nothing blocks, and never lowers it. Returns what it did, for a person. */
export async function applyUpgradeableTo(api: PreflightClusterApi, version: string, blockers: number): Promise<{ changed: boolean; message: string }> {
  const { value, object } = await api.readUpgradeableTo().catch((err) => {
    if (isNotFound(err))
      throw new ConfigError('cloudcredential.operator.openshift.io/cluster does not exist; is this an OpenShift cluster with the Cloud Credential Operator?');
    throw err;
  });
  if (blockers > 0)
    return { changed: false, message: `${blockers} blocker(s): ${ANNOTATION_UPGRADEABLE_TO} left ${value === undefined ? 'unset' : `at "${value}"`}` };
  if (value !== undefined && compareMinor(value, version) >= 0) {
    return { changed: false, message: `${ANNOTATION_UPGRADEABLE_TO} is already "${value}", not lowered to "${version}"` };
  }
  await api.writeUpgradeableTo(object, version);
  return {
    changed: true,
    message: `set ${ANNOTATION_UPGRADEABLE_TO}: "${version}" on cloudcredential.operator.openshift.io/cluster; the upgrade to ${version} is no longer blocked by the Cloud Credential Operator`,
  };
}
