import type https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { CoreV1Event, KubeConfig, V1Secret } from '@kubernetes/client-node';
import { Agent, Pool, ProxyAgent, request, type buildConnector, type Dispatcher } from 'undici';
import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from '../core/retry.js';
import { failedAtProxy, markProxyHopFailures } from '../core/proxy-failure.js';

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
    /**
     * What a failed connection tried to reach (address or host name, port), to tell the proxy from the API server;
     * `atProxy`: the connection to the kubeconfig's proxy itself failed (its TLS handshake above all), not the one to the API server.
     */
    readonly tried: { address?: string; hostname?: string; port?: number; atProxy?: boolean } = {},
  ) {
    super(status !== undefined ? `HTTP ${status}${reason ? ` ${reason}` : ''}` : `request failed (${code ?? 'unknown error'})`);
  }
  /** The server's Retry-After, when it sent one. */
  retryAfterMs: number | undefined;
}

/** Where the API calls go: the server, and the kubeconfig's proxy-url when it has one. For messages, through displayUrl. */
export interface ApiEndpoint {
  readonly server: string;
  readonly proxyUrl?: string;
}

/** The few API calls the cluster refresh makes; tests and the refresh code see only this. */
export interface KubeApi extends ApiEndpoint {
  listCredentialsRequests(namespace: string): Promise<unknown[]>;
  readSecret(namespace: string, name: string): Promise<V1Secret>;
  replaceSecret(namespace: string, name: string, body: V1Secret): Promise<V1Secret>;
  createEvent(namespace: string, body: CoreV1Event): Promise<void>;
  /** The refresh's CronJob and the Jobs of its namespace: `status` judges them as the alerts do. */
  readCronJob(namespace: string, name: string): Promise<unknown>;
  listJobs(namespace: string): Promise<unknown[]>;
}

/** Connections to the API server in flight at once (the refresh also bounds its calls). */
const MAX_CONNECTIONS = 16;
/** Longest wait for a connection, an answer's headers, or the next piece of its body. */
const API_TIMEOUT_MS = 30_000;

/** One authenticated JSON call to the API server; a non-2xx answer throws a KubeRequestError without its body. */
export type KubeCall = <T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown) => Promise<T>;

/** How an API call waits before trying again; the command context's clock in a run (tests and the soak use a virtual one). */
export interface KubeRetryTiming {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => Date;
}

const REAL_TIMING: KubeRetryTiming = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  now: () => new Date(),
};

/**
 * A call the API server may answer better a moment later: 429 (priority and fairness), 500,
 * 502, 503, 504, or no answer at all (refused, reset, timed out), as client-go retries them.
 * A few attempts within 30 s, Retry-After honoured, so that a short burst does not fail a
 * Secret for a whole schedule period; anything longer is the next run's.
 */
export const KUBE_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000, deadlineMs: 30_000 };
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** No answer: the server (or the way to it) is not there for the moment. A TLS or certificate failure is never retried. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return [e?.code, e?.cause?.code].find((c): c is string => typeof c === 'string');
}

export function createKubeCall(kubeConfig: KubeConfig, server: string, timing: KubeRetryTiming = REAL_TIMING): KubeCall {
  // The TLS material and headers the kubeconfig gives, asked once: a run lasts seconds, and
  // a service account token file is re-read by the next run.
  let connection: Promise<{ dispatcher: Dispatcher; headers: Record<string, string> }> | undefined;
  const connect = () => (connection ??= openConnection(kubeConfig));

  return async function call<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const started = timing.now().getTime();
    for (let attempt = 1; ; attempt++) {
      try {
        return await callOnce<T>(method, path, body);
      } catch (err) {
        const retryable =
          err instanceof KubeRequestError ? err.status !== undefined && RETRYABLE_STATUS.has(err.status) : RETRYABLE_CODES.has(errorCode(err) ?? '');
        if (!retryable || attempt >= KUBE_RETRY.maxAttempts) throw err;
        const retryAfterMs = err instanceof KubeRequestError ? err.retryAfterMs : undefined;
        const delay = backoffDelayMs(attempt, KUBE_RETRY, timing.random, retryAfterMs);
        if (timing.now().getTime() - started + delay >= KUBE_RETRY.deadlineMs) throw err;
        await timing.sleep(delay);
      }
    }
  };

  async function callOnce<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const { dispatcher: d, headers } = await connect();
    // Appended, not resolved: a server URL may carry a path prefix (https://host/k8s/clusters/x).
    const res = await request(`${server.replace(/\/+$/, '')}${path}`, {
      method,
      dispatcher: d,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const status = parseStatus(text);
      const retryAfter = res.headers['retry-after'];
      const error = new KubeRequestError(res.statusCode, undefined, status.reason, status.fields);
      error.retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, timing.now());
      throw error;
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/**
 * The API calls over undici, the HTTP client the CAP side uses too. @kubernetes/client-node's
 * KubeConfig does what it does well (kubeconfig semantics, in-cluster token files, auth
 * providers); its generated API classes are not loaded: they cost ~3 MB of code, and its
 * fetch stack opened a new TLS connection per call. TLS verification is always on.
 */
export function createKubeApi(kubeConfig: KubeConfig, server: string, timing?: KubeRetryTiming): KubeApi {
  const call = createKubeCall(kubeConfig, server, timing);
  const enc = encodeURIComponent;
  const proxyUrl = kubeConfig.getCurrentCluster()?.proxyUrl;
  return {
    server,
    ...(proxyUrl ? { proxyUrl } : {}),
    listCredentialsRequests: (namespace) =>
      guard(async () => {
        const items: unknown[] = [];
        let next: string | undefined;
        do {
          const query = new URLSearchParams({ limit: '500', ...(next ? { continue: next } : {}) });
          const page = await call<{ items?: unknown[]; metadata?: { continue?: string } }>(
            'GET',
            `/apis/${CREDENTIALS_REQUEST_GROUP}/${CREDENTIALS_REQUEST_VERSION}/namespaces/${enc(namespace)}/${CREDENTIALS_REQUEST_PLURAL}?${query}`,
          );
          items.push(...(Array.isArray(page?.items) ? page.items : []));
          next = page?.metadata?.continue || undefined;
        } while (next);
        return items;
      }),
    readSecret: (namespace, name) => guard(() => call<V1Secret>('GET', `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`)),
    replaceSecret: (namespace, name, body) => guard(() => call<V1Secret>('PUT', `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`, body)),
    createEvent: (namespace, body) => guard(async () => void (await call('POST', `/api/v1/namespaces/${enc(namespace)}/events`, body))),
    readCronJob: (namespace, name) => guard(() => call<unknown>('GET', `/apis/batch/v1/namespaces/${enc(namespace)}/cronjobs/${enc(name)}`)),
    listJobs: (namespace) =>
      guard(async () => {
        const list = await call<{ items?: unknown[] }>('GET', `/apis/batch/v1/namespaces/${enc(namespace)}/jobs`);
        return Array.isArray(list?.items) ? list.items : [];
      }),
  };
}

async function openConnection(kubeConfig: KubeConfig): Promise<{ dispatcher: Dispatcher; headers: Record<string, string> }> {
  const opts: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(opts);
  const tlsServerName = kubeConfig.getCurrentCluster()?.tlsServerName;
  // One TLS context for every connection: building one parses the CA bundle again each time.
  const secureContext = createSecureContext({
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.cert ? { cert: opts.cert } : {}),
    ...(opts.key ? { key: opts.key } : {}),
  });
  const tls = { secureContext, ...(tlsServerName ? { servername: tlsServerName } : {}), rejectUnauthorized: true };
  const limits = {
    connections: MAX_CONNECTIONS,
    // A hung API server fails its calls instead of holding the job until its deadline.
    headersTimeout: API_TIMEOUT_MS,
    bodyTimeout: API_TIMEOUT_MS,
  };
  // The kubeconfig's proxy-url (http or https; socks is refused when the kubeconfig is loaded),
  // and nothing else: HTTPS_PROXY and NO_PROXY are never read here (they are CAP's, and the
  // CronJob's `generate --https-proxy`), so the in-cluster API server is always reached directly.
  const proxyUrl = kubeConfig.getCurrentCluster()?.proxyUrl;
  const dispatcher = proxyUrl
    ? new ProxyAgent({
        ...limits,
        uri: proxyUrl,
        requestTls: { ...tls, timeout: API_TIMEOUT_MS },
        proxyTls: { rejectUnauthorized: true, timeout: API_TIMEOUT_MS },
        // The connection to the proxy marks its own failures, so an untrusted proxy is not reported as an untrusted API server.
        clientFactory: (origin: URL, o: object) => {
          const { connect: toProxy, ...rest } = o as { connect: buildConnector.connector };
          return new Pool(origin, { ...rest, connect: markProxyHopFailures(toProxy) });
        },
      })
    : new Agent({ ...limits, connect: { ...tls, timeout: API_TIMEOUT_MS } });
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string' || typeof v === 'number') headers[k.toLowerCase()] = String(v);
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return { dispatcher, headers };
}

export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await toKubeRequestError(err);
  }
}

/** Keeps only what may be shown of a failure: status, reason, 422 field paths, error code. */
export async function toKubeRequestError(err: unknown): Promise<KubeRequestError> {
  if (err instanceof KubeRequestError) return err;
  type Failed = { code?: unknown; errno?: unknown; address?: unknown; hostname?: unknown; port?: unknown; cause?: Failed } | undefined;
  const e = err as Failed;
  // undici wraps a proxy certificate that names another host as UND_ERR_PRX_TLS; the cause says what failed.
  const wrapped = e?.code === 'UND_ERR_PRX_TLS';
  const code = (wrapped ? [e?.cause?.code, e?.code] : [e?.code, e?.errno, e?.cause?.code]).find((c): c is string => typeof c === 'string');
  const atProxy = wrapped || failedAtProxy(err);
  const pick = <T>(test: (v: unknown) => v is T, ...vs: unknown[]) => vs.find(test);
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isNumber = (v: unknown): v is number => typeof v === 'number';
  const address = pick(isString, e?.address, e?.cause?.address);
  const hostname = pick(isString, e?.hostname, e?.cause?.hostname);
  const port = pick(isNumber, e?.port, e?.cause?.port);
  const tried = {
    ...(address ? { address } : {}),
    ...(hostname ? { hostname } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(atProxy ? { atProxy } : {}),
  };
  return new KubeRequestError(undefined, code ?? (err instanceof Error ? err.name : 'unknown error'), undefined, [], tried);
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
