import { ApiException, CoreV1Api, CustomObjectsApi, type CoreV1Event, type KubeConfig, type V1Secret } from '@kubernetes/client-node';

export const CREDENTIALS_REQUEST_GROUP = 'cloudcredential.openshift.io';
export const CREDENTIALS_REQUEST_VERSION = 'v1';
export const CREDENTIALS_REQUEST_PLURAL = 'credentialsrequests';
export const CREDENTIALS_REQUEST_NAMESPACE = 'openshift-cloud-credential-operator';

/**
 * What a failed API call leaves behind: the HTTP status or the network/file error code, and
 * the fields of the Status that are safe to show. The library's message (which embeds the
 * response body and headers) is never kept.
 */
export class KubeRequestError extends Error {
  override name = 'KubeRequestError';
  constructor(
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly reason: string | undefined,
    /** Field paths of a 422 Invalid answer, e.g. `data[bad key]`; never the cause messages. */
    readonly fields: string[],
  ) {
    super(status !== undefined ? `HTTP ${status}${reason ? ` ${reason}` : ''}` : `request failed (${code ?? 'unknown error'})`);
  }
}

/** The few API calls the cluster refresh makes; tests and the refresh code see only this. */
export interface KubeApi {
  readonly server: string;
  listCredentialsRequests(namespace: string): Promise<unknown[]>;
  readSecret(namespace: string, name: string): Promise<V1Secret>;
  replaceSecret(namespace: string, name: string, body: V1Secret): Promise<V1Secret>;
  createEvent(namespace: string, body: CoreV1Event): Promise<void>;
}

export function createKubeApi(kubeConfig: KubeConfig, server: string): KubeApi {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    server,
    listCredentialsRequests: (namespace) =>
      guard(async () => {
        const items: unknown[] = [];
        let next: string | undefined;
        do {
          const page = (await custom.listNamespacedCustomObject({
            group: CREDENTIALS_REQUEST_GROUP,
            version: CREDENTIALS_REQUEST_VERSION,
            namespace,
            plural: CREDENTIALS_REQUEST_PLURAL,
            limit: 500,
            ...(next ? { _continue: next } : {}),
          })) as { items?: unknown[]; metadata?: { continue?: string } };
          items.push(...(Array.isArray(page?.items) ? page.items : []));
          next = page?.metadata?.continue || undefined;
        } while (next);
        return items;
      }),
    readSecret: (namespace, name) => guard(() => core.readNamespacedSecret({ namespace, name })),
    replaceSecret: (namespace, name, body) => guard(() => core.replaceNamespacedSecret({ namespace, name, body })),
    createEvent: (namespace, body) => guard(async () => void (await core.createNamespacedEvent({ namespace, body }))),
  };
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await toKubeRequestError(err);
  }
}

/** Keeps only what may be shown of a failure: status, reason, 422 field paths, error code. */
export async function toKubeRequestError(err: unknown): Promise<KubeRequestError> {
  if (err instanceof KubeRequestError) return err;
  if (err instanceof ApiException) {
    const status = typeof err.code === 'number' ? err.code : undefined;
    const body = await Promise.resolve(err.body).catch(() => undefined);
    const parsed = parseStatus(body);
    return new KubeRequestError(status, undefined, parsed.reason, parsed.fields);
  }
  const e = err as { code?: unknown; errno?: unknown; cause?: { code?: unknown } } | undefined;
  const code = [e?.code, e?.errno, e?.cause?.code].find((c): c is string => typeof c === 'string');
  return new KubeRequestError(undefined, code ?? (err instanceof Error ? err.name : 'unknown error'), undefined, []);
}

function parseStatus(body: unknown): { reason?: string; fields: string[] } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { fields: [] };
    }
  }
  if (typeof value !== 'object' || value === null) return { fields: [] };
  const status = value as { reason?: unknown; details?: { causes?: { field?: unknown }[] } };
  const reason = typeof status.reason === 'string' && /^[A-Za-z]{1,40}$/.test(status.reason) ? status.reason : undefined;
  const causes = Array.isArray(status.details?.causes) ? status.details.causes : [];
  const fields = causes
    .map((c) => (typeof c?.field === 'string' ? c.field : undefined))
    .filter((f): f is string => f !== undefined && f.length <= 120)
    .slice(0, 5);
  return { ...(reason ? { reason } : {}), fields };
}
