import { displayUrl } from '../core/display-url.js';

/**
 * The proxy the CronJob's pod reaches CAP through. OpenShift does not inject the cluster-wide
 * proxy into user pods, so `generate --https-proxy/--no-proxy` write `HTTPS_PROXY` and
 * `NO_PROXY` into the container. Only the CAP client reads them (undici's EnvHttpProxyAgent
 * in src/cap/client.ts); the Kubernetes API calls (src/kube/kube-api.ts) use a dispatcher
 * of their own that follows only a kubeconfig's proxy-url, which the in-cluster config never
 * has, so the API server at KUBERNETES_SERVICE_HOST is always reached directly and NO_PROXY
 * needs no service IP or `.svc` entry for it (test/cluster-proxy.test.ts pins this).
 */
export interface ProxyEnv {
  httpsProxy: string;
  noProxy?: string;
}

/**
 * Why `--https-proxy` cannot be written into the CronJob, or undefined when it can: an
 * http:// or https:// URL with a host. Userinfo is checked by the caller first (a
 * configuration error that must not quote the value). Shown only through displayUrl.
 */
export function httpsProxyProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `--https-proxy ${displayUrl(value)}: give the proxy as http://HOST:PORT (or https://HOST:PORT)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `--https-proxy ${displayUrl(value)}: give an http:// or https:// URL`;
  if (url.hostname === '') return `--https-proxy ${displayUrl(value)}: the URL has no host`;
  return undefined;
}

/**
 * `--no-proxy` as NO_PROXY: comma-separated host names, domains (`.example.com`), IP
 * addresses or CIDRs, each optionally with `:port`, or `*`. Entries are trimmed and empty
 * ones dropped. Returns the list joined by commas, or the problems.
 */
export function parseNoProxy(value: string): { value: string } | { problem: string } {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return { problem: '--no-proxy is empty; give hosts or domains separated by commas' };
  const bad = entries.filter((entry) => !/^[A-Za-z0-9*.[\]:/_-]+$/.test(entry));
  if (bad.length > 0) return { problem: `--no-proxy: ${bad.map((entry) => JSON.stringify(entry)).join(', ')} is not a host, domain, IP address or CIDR` };
  return { value: entries.join(',') };
}
