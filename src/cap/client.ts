import { createSecureContext, rootCertificates } from 'node:tls';
import { buildConnector, EnvHttpProxyAgent, Pool, request, type Dispatcher } from 'undici';
import { parseCapResponse } from '../core/cap-response.js';
import { describeClockSkew } from '../core/clock-skew.js';
import type { CapCredentials } from '../core/credentials.js';
import { CapError, CapResponseError, errorMessage } from '../core/errors.js';
import { markProxyHopFailures } from '../core/proxy-failure.js';
import type { Logger } from '../log/logger.js';
import type { ClientIdentity } from './identity.js';
import { MAX_CAP_RESPONSE_BYTES } from './limits.js';
import type { CapQuery } from '../core/cap-query.js';
import { buildCredentialsUrl, describeUrl } from './url.js';
import { classifyNetworkError, classifyStatus, midBodyError } from './failures.js';
import { backoffDelayMs, type RetryPolicy } from '../core/retry.js';

export interface CapClientOptions {
  capUrl: URL;
  identity: ClientIdentity;
  /** Per-request timeout. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** Largest response body read, in bytes. */
  maxBodyBytes: number;
  /** Proxy settings (HTTPS_PROXY, NO_PROXY); the client certificate still goes to CAP through the tunnel. */
  proxy?: { httpsProxy?: string; noProxy?: string };
  logger: Logger;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  registerSecret: (value: string) => void;
  /** --assume-lifetime: a response without Expiration is taken as this long from CAP's Date header (or now). */
  assumeLifetimeMs?: number;
}

export interface CapClient {
  fetchCredentials(query: CapQuery): Promise<CapCredentials>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = MAX_CAP_RESPONSE_BYTES;

/** The identity as TLS options: certificate and key, or the PKCS#12 bundle for OpenSSL to read. */
function proofOptions({ certPem, proof }: ClientIdentity): { pfx: Buffer; passphrase: string } | { cert: string; key: string } {
  return 'pfx' in proof
    ? { pfx: proof.pfx, passphrase: proof.passphrase.reveal() }
    : { cert: certPem + (proof.chainPem ?? ''), key: proof.key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function createCapClient(opts: CapClientOptions): CapClient {
  // One TLS context for every connection to CAP: building one parses the CA bundle (the
  // system's store can hold hundreds of certificates) and the key again each time.
  const tls = {
    secureContext: createSecureContext({
      ...proofOptions(opts.identity),
      ...(opts.identity.caPem ? { ca: opts.identity.caPem } : {}),
    }),
    // Never switched off: the server certificate and its hostname are always verified.
    rejectUnauthorized: true,
  };
  // undici reports a TLS alert that arrives after the handshake (TLS 1.3) as "other side
  // closed"; the connector remembers alerts per local port so the failure can say what it was.
  const tlsAlerts = new Map<number, Error>();
  const baseConnect = buildConnector(tls);
  const connect: buildConnector.connector = (options, callback) =>
    baseConnect(options, (err, socket) => {
      if (socket) {
        const port = socket.localPort;
        socket.on('error', (e: NodeJS.ErrnoException) => {
          if (port !== undefined && /ALERT/.test(e.code ?? '')) tlsAlerts.set(port, e);
        });
        socket.on('close', () => setTimeout(() => port !== undefined && tlsAlerts.delete(port), 1000).unref());
      }
      // undici's callback types require both arguments; pass them as they came.
      (callback as (e: Error | null, s: typeof socket) => void)(err, socket);
    });
  const dispatcher: Dispatcher = new EnvHttpProxyAgent({
    connect,
    requestTls: tls,
    // The TLS connection to an https:// proxy is verified too, whatever NODE_TLS_REJECT_UNAUTHORIZED
    // says: the proxy may get a Proxy-Authorization header, and undici would otherwise leave this to Node's default.
    // It is verified with the CAs CAP is verified with (--ca or the system's store, the cluster's
    // trusted bundle, NODE_EXTRA_CA_CERTS) and Node's built-in roots: an enclave's proxy has its CA
    // where CAP's is, and a proxy Node's roots vouch for keeps working when --ca names only CAP's CA.
    proxyTls: { rejectUnauthorized: true, ...(proxyUsesTls(opts.proxy?.httpsProxy) ? { secureContext: proxyContext(opts.identity.caPem) } : {}) },
    // The connection to the proxy marks its own failures, so an untrusted proxy is not reported as an untrusted CAP.
    clientFactory: (origin: URL, o: object) => {
      const { connect: toProxy, ...rest } = o as { connect: buildConnector.connector };
      return new Pool(origin, { ...rest, connect: markProxyHopFailures(toProxy) });
    },
    httpsProxy: opts.proxy?.httpsProxy ?? '',
    httpProxy: '',
    noProxy: opts.proxy?.noProxy ?? '',
  });

  async function attempt(url: URL, query: CapQuery): Promise<CapCredentials> {
    const where = describeUrl(url);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher,
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(opts.timeoutMs),
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
    } catch (err) {
      const port = (err as { socket?: { localPort?: number } }).socket?.localPort;
      const alert = port !== undefined ? tlsAlerts.get(port) : undefined;
      throw classifyNetworkError(alert ?? err, where, query.role, opts.timeoutMs, opts.identity.trustHint, opts.proxy?.httpsProxy);
    }
    let body: Buffer;
    try {
      body = await readCapped(res.body, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof CapError) {
        throw new CapError(err.kind, `${err.message} from ${where} for role ${query.role}`, err.details);
      }
      throw midBodyError(err, where, query.role, opts.timeoutMs);
    }
    if (res.statusCode !== 200) {
      throw classifyStatus(res.statusCode, headerValue(res.headers['retry-after']), body, where, query.role, opts.now());
    }
    try {
      const capDate = parseDateHeader(headerValue(res.headers.date));
      const creds = parseCapResponse(body, opts.now(), {
        ...(capDate ? { capDate } : {}),
        ...(opts.assumeLifetimeMs !== undefined ? { assumeLifetimeMs: opts.assumeLifetimeMs } : {}),
        warn: (m) => opts.logger.warn(m, { role: query.role }),
      });
      if (capDate) {
        // The Date header has whole seconds: its offset is known to about a second.
        const offsetMs = capDate.getTime() - opts.now().getTime();
        creds.capClockOffsetMs = offsetMs;
        const warning = describeClockSkew(offsetMs);
        if (warning) opts.logger.warn(warning, { role: query.role, clockOffsetSeconds: Math.round(offsetMs / 1000) });
      }
      if (creds.expirationAssumed) {
        opts.logger.warn('CAP sent no Expiration; assumed from --assume-lifetime', { role: query.role, expiration: creds.expiration.toISOString() });
      }
      opts.registerSecret(creds.accessKeyId);
      opts.registerSecret(creds.secretAccessKey);
      opts.registerSecret(creds.sessionToken);
      return creds;
    } catch (err) {
      if (err instanceof CapResponseError) throw new CapError(err.kind, `${err.message} (${where}, role ${query.role})`);
      throw err;
    }
  }

  return {
    async fetchCredentials(query) {
      const url = buildCredentialsUrl(opts.capUrl, query);
      const started = opts.now().getTime();
      for (let attemptNo = 1; ; attemptNo++) {
        try {
          return await attempt(url, query);
        } catch (err) {
          if (!(err instanceof CapError) || !err.retryable || attemptNo >= opts.retry.maxAttempts) throw err;
          const delay = backoffDelayMs(attemptNo, opts.retry, opts.random, err.details.retryAfterMs);
          const elapsed = opts.now().getTime() - started;
          if (elapsed + delay >= opts.retry.deadlineMs) {
            const deadline = `${Math.round(opts.retry.deadlineMs / 1000)}s`;
            const asked = err.details.retryAfterMs !== undefined && delay === err.details.retryAfterMs;
            const why = asked
              ? `CAP asked to retry after ${Math.round(delay / 1000)}s, past the ${deadline} deadline: gave up after ${attemptNo} attempt(s)`
              : `gave up after ${attemptNo} attempt(s) within the ${deadline} deadline`;
            throw new CapError('deadline', `${err.message}; ${why}`, {
              ...err.details,
              retryable: false,
            });
          }
          opts.logger.warn('CAP request failed, retrying', { role: query.role, attempt: attemptNo, retryInMs: Math.round(delay), reason: err.kind });
          await opts.sleep(delay);
        }
      }
    },
    async close() {
      await dispatcher.close();
    },
  };
}

function proxyUsesTls(proxy: string | undefined): boolean {
  return proxy !== undefined && /^https:/i.test(proxy);
}

/** The trust for an https:// proxy: CAP's CA list (when one was built) together with Node's built-in roots. */
function proxyContext(caPem: string | undefined) {
  return createSecureContext({ ca: [...rootCertificates, ...(caPem ? [caPem] : [])] });
}

async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw new CapError('body-too-large', `the CAP response is larger than ${max} bytes; that is not a CAP credentials answer`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export { describeClockSkew, SKEW_SIGV4_MS, SKEW_WARN_MS } from '../core/clock-skew.js';

/** CAP's Date header (RFC 9110 IMF-fixdate), when it is there and readable. */
export function parseDateHeader(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export { errorMessage };
