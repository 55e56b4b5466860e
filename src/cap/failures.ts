import { escapeControl } from '../core/display-text.js';
import { displayUrl, hasUserinfo } from '../core/display-url.js';
import { failedAtProxy, failedToReach } from '../core/proxy-failure.js';
import { CapError } from '../core/errors.js';
import { parseRetryAfter } from '../core/retry.js';

/**
 * Turns a network or TLS failure into a CapError whose message names the URL (never its
 * query), the role and the cure. Only transient failures are marked retryable.
 */
export function classifyNetworkError(
  err: unknown,
  where: string,
  role: string,
  timeoutMs: number,
  trustHint = 'give the CA bundle that issued it with --ca (CAP_CA_FILE)',
  /** HTTPS_PROXY, when one is set: a failure to reach it names the proxy, not CAP. */
  httpsProxy?: string,
): CapError {
  const e = err as { code?: string; name?: string; message?: string; cause?: unknown };
  const code = e.code ?? (e.cause as { code?: string } | undefined)?.code ?? '';
  const name = e.name ?? '';
  const message = e.message ?? '';
  const at = `${where} (role ${escapeControl(role)})`;

  if (httpsProxy && (code === 'UND_ERR_PRX_TLS' || failedAtProxy(err))) {
    const proxyFailure = describeProxyTlsFailure(err, displayUrl(httpsProxy), at, trustHint);
    if (proxyFailure) return proxyFailure;
  }
  const proxy = /Proxy response \((\d+)\)/.exec(message);
  if (proxy?.[1] === '407') return proxyAuthenticationFailure(httpsProxy, at);
  if (proxy || /proxy/i.test(message)) {
    return new CapError(
      'proxy-refused',
      `the HTTPS proxy${httpsProxy ? ` ${displayUrl(httpsProxy)}` : ''} refused the tunnel to ${at}${proxy ? ` (HTTP ${proxy[1]})` : ''}; check HTTPS_PROXY and NO_PROXY, and that the proxy allows CONNECT to CAP`,
    );
  }
  if (httpsProxy && failedToReach(err, httpsProxy)) {
    return new CapError(
      'proxy-unreachable',
      `the HTTPS proxy ${displayUrl(httpsProxy)} (HTTPS_PROXY) could not be reached (${code}) on the way to ${at}; check HTTPS_PROXY and that the proxy is up, or add CAP's host to NO_PROXY if it needs none`,
      { retryable: code !== 'ENOTFOUND' },
    );
  }
  if (name === 'TimeoutError' || name === 'AbortError' || /TIMEOUT/.test(code)) {
    return new CapError('timeout', `CAP did not answer within ${describeTimeout(timeoutMs)} at ${at}; check that CAP is up and reachable, or raise --timeout`, {
      retryable: true,
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CapError(
      'hostname-mismatch',
      `the CAP server certificate does not name the host in CAP_URL ${at}; use the host name the certificate was issued for`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return new CapError('server-cert-expired', `the CAP server certificate has expired ${at}; CAP's operators must renew it`);
  }
  if (UNTRUSTED_CODES.has(code)) {
    return new CapError('unknown-server-ca', `the CAP server certificate is not signed by a trusted CA ${at}; ${trustHint}`);
  }
  if (/^ERR_SSL_.*ALERT/.test(code) || /alert/i.test(message)) {
    const alert = /ALERT_([A-Z_]+)/.exec(code)?.[1]?.toLowerCase().replace(/_/g, ' ') ?? 'handshake failure';
    const certHint = /certificate|unknown ca|bad certificate|handshake/.test(alert)
      ? '; CAP did not accept the client certificate: check that --cert/--key (or --pkcs12) is the identity CAP knows and not expired'
      : '';
    return new CapError('tls-alert', `CAP ended the TLS handshake with an alert (${alert}) ${at}${certHint}`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new CapError('connection', `the CAP host in ${where} could not be resolved (${code}); check CAP_URL and DNS`, { retryable: code === 'EAI_AGAIN' });
  }
  if (code === 'UND_ERR_SOCKET' && /other side closed/.test(message)) {
    return new CapError(
      'connection',
      `CAP closed the connection without answering ${at}; if this persists, CAP may not accept the client certificate (check --cert/--key or --pkcs12) or CAP is restarting`,
      { retryable: true },
    );
  }
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code)) {
    return new CapError('connection', `the connection to CAP failed (${code}) ${at}; check that CAP is reachable from here`, { retryable: true });
  }
  return new CapError('connection', `the request to CAP failed (${code || name || 'unknown error'}) ${at}`, { retryable: true });
}

/** Verification failures that mean "signed by no CA we trust". */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * The proxy answered CONNECT with 407: it wants credentials this process did not give, or
 * refused the ones in HTTPS_PROXY. Neither the user name nor the password is ever printed.
 */
function proxyAuthenticationFailure(httpsProxy: string | undefined, at: string): CapError {
  const proxy = `the HTTPS proxy${httpsProxy ? ` ${displayUrl(httpsProxy)}` : ''} (HTTPS_PROXY)`;
  const gaveCredentials = httpsProxy !== undefined && hasUserinfo(httpsProxy);
  return new CapError(
    'proxy-auth',
    gaveCredentials
      ? `${proxy} rejected the user name and password given in HTTPS_PROXY (HTTP 407 Proxy Authentication Required) on the way to ${at}; ` +
          "check them with the proxy's operators, or have the proxy allow CONNECT to CAP from this host without them"
      : `${proxy} demands authentication (HTTP 407 Proxy Authentication Required) on the way to ${at}; ` +
          "give the proxy's user name and password in the HTTPS_PROXY URL, as USER:PASSWORD@ before its host (never printed), " +
          'or have the proxy allow CONNECT to CAP from this host without them (in a cluster, from the control-plane nodes)',
  );
}

/**
 * The TLS handshake with an https:// proxy failed (the proxy's connection marked it, or undici
 * wrapped it as a secure-proxy failure): the proxy's certificate is named, not CAP's, and CAP
 * was never reached. Undefined for failures that are not about the proxy's certificate.
 */
function describeProxyTlsFailure(err: unknown, proxy: string, at: string, trustHint: string): CapError | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e.code === 'UND_ERR_PRX_TLS' ? (e.cause?.code ?? e.code) : (e.code ?? e.cause?.code ?? '');
  const onTheWay = `the HTTPS proxy ${proxy} (HTTPS_PROXY)`;
  const notReached = `, so CAP ${at} was not reached`;
  if (UNTRUSTED_CODES.has(code)) {
    return new CapError(
      'proxy-cert-untrusted',
      `${onTheWay} presented a certificate that is not signed by a trusted CA (${code})${notReached}; the proxy's certificate is checked against the same CAs as CAP's: ${trustHint} (the bundle must hold CAP's CA too)`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CapError(
      'proxy-cert-untrusted',
      `${onTheWay} presented a certificate that does not name its host${notReached}; set HTTPS_PROXY to the host name the proxy's certificate was issued for`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new CapError(
      'proxy-cert-untrusted',
      `${onTheWay} presented a certificate that is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}${notReached}; the proxy's operators must renew it (or check this machine's clock)`,
    );
  }
  return undefined;
}

/** `300ms`, `15s`, `1.5s`: a --timeout below a second no longer reads as "0s". */
function describeTimeout(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(1))}s`;
}

/** The body stopped before its end (the connection was cut after the status and headers). */
export function midBodyError(err: unknown, where: string, role: string, timeoutMs: number): CapError {
  const classified = classifyNetworkError(err, where, role, timeoutMs);
  if (classified.kind !== 'connection') return classified;
  return new CapError(
    'connection',
    `CAP cut the connection in the middle of its answer at ${where} (role ${escapeControl(role)}); check that CAP is reachable and not restarting, and run again`,
    { retryable: true },
  );
}

/** A non-200 answer: what it means for this role and what to do. Never quotes the body. */
export function classifyStatus(status: number, retryAfter: string | undefined, body: Buffer, where: string, role: string, now: Date): CapError {
  const at = `${where} (role ${escapeControl(role)}, HTTP ${status})`;
  const html = body.subarray(0, 512).toString('utf8').trimStart().startsWith('<');
  if (status === 400 && html) {
    return new CapError(
      'client-cert-rejected',
      `CAP refused the client certificate at ${at}; check that --cert and --key (or --pkcs12) belong to the identity CAP knows and that its CA is trusted by CAP`,
      { status },
    );
  }
  if (status === 400) {
    return new CapError('bad-request', `CAP rejected the request at ${at}; check AGENCY, MISSION and the role name`, { status });
  }
  if (status === 401 || status === 403) {
    return new CapError(
      'role-forbidden',
      `CAP does not allow this client certificate to use role ${escapeControl(role)} at ${at}; check the role name and ask the CAP administrators to grant it`,
      { status },
    );
  }
  if (status === 404) {
    return new CapError('not-found', `CAP answered Not Found at ${at}; check CAP_URL (it should be the portal, or end in /api/v1/credentials)`, { status });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return new CapError('rate-limited', `CAP is rate limiting requests at ${at}; lower --concurrency or run less often`, {
      status,
      retryable: true,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status >= 500) {
    // A 503 may say when to come back (RFC 9110, Retry-After), as a 429 does.
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return new CapError('server-error', `CAP failed with a server error at ${at}; try again later or tell CAP's operators`, {
      status,
      retryable: true,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  return new CapError('bad-request', `CAP answered with unexpected status ${status} at ${at}`, { status });
}
