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
