// A connection through a proxy that fails may have failed at the proxy or beyond it; the
// message must blame the right one (issue 13). What Node's connect errors say they tried to
// reach (address and port, or the host name of a failed lookup) tells them apart.

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether ERR is the connection to PROXY failing, from what the error says it tried to reach
 * (Node's connect errors carry the address and port, a failed lookup the host name), so a
 * dead proxy is not reported as a dead CAP.
 */
export function failedToReach(err: unknown, proxy: string): boolean {
  const e = err as { code?: string; address?: string; port?: number; hostname?: string; cause?: unknown };
  const inner = (e.cause ?? {}) as typeof e;
  const code = e.code ?? inner.code ?? '';
  if (!UNREACHABLE.has(code)) return false;
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const hostname = e.hostname ?? inner.hostname;
  if ((code === 'ENOTFOUND' || code === 'EAI_AGAIN') && hostname !== undefined) return hostname === host;
  const triedPort = e.port ?? inner.port;
  const triedAddress = e.address ?? inner.address;
  const literal = /^[\d.]+$/.test(host) || host.includes(':');
  return triedPort === port && (!literal || triedAddress === undefined || triedAddress === host);
}

// Through an https:// proxy there are two TLS handshakes, both over a socket to the proxy's
// address: one with the proxy, then one with the far server inside the tunnel. A certificate
// error names neither, and its address is the proxy's in both cases. So the connector of the
// proxy hop marks its own failures, and the message is chosen from that mark.
const proxyHopFailures = new WeakSet<object>();

/** A connector as undici calls it: options, then a callback with the error or the socket. */
type Connector = (options: never, callback: never) => void;

/** CONNECT, wrapped so that a failure of the connection to the proxy itself is marked as the proxy's. */
export function markProxyHopFailures<C extends Connector>(connect: C): C {
  const inner = connect as unknown as (options: unknown, callback: (err: unknown, socket: unknown) => void) => void;
  const marked = (options: unknown, callback: (err: unknown, socket: unknown) => void) =>
    inner(options, (err, socket) => {
      if (err !== null && typeof err === 'object') proxyHopFailures.add(err);
      callback(err, socket);
    });
  return marked as unknown as C;
}

/** Whether ERR (or what it wraps) is a failure of the connection to the proxy itself (its TLS handshake above all). */
export function failedAtProxy(err: unknown): boolean {
  let e = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    if (proxyHopFailures.has(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
