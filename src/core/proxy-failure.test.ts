import { describe, expect, it } from 'vitest';
import { failedAtProxy, failedToReach, markProxyHopFailures } from './proxy-failure.js';

describe('failedToReach', () => {
  const refused = (address: string, port: number) =>
    Object.assign(new Error(`connect ECONNREFUSED ${address}:${port}`), { code: 'ECONNREFUSED', address, port });

  it.each([
    ['the proxy port refused', refused('127.0.0.1', 3128), 'http://u:p@127.0.0.1:3128', true],
    ['another port refused (CAP direct, NO_PROXY)', refused('127.0.0.1', 8443), 'http://127.0.0.1:3128', false],
    ['the same port on another address', refused('10.0.0.9', 3128), 'http://127.0.0.1:3128', false],
    ['a proxy named by host, its port refused', refused('10.0.0.9', 3128), 'http://proxy.corp:3128', true],
    ['the default port of an http proxy', refused('10.0.0.9', 80), 'http://proxy.corp', true],
    ['the default port of an https proxy', refused('10.0.0.9', 443), 'https://proxy.corp', true],
    ['a lookup of the proxy host failing', Object.assign(new Error('x'), { code: 'ENOTFOUND', hostname: 'proxy.corp' }), 'http://proxy.corp:3128', true],
    ['a lookup of another host failing', Object.assign(new Error('x'), { code: 'ENOTFOUND', hostname: 'cap.corp' }), 'http://proxy.corp:3128', false],
    ['the cause carrying it', Object.assign(new Error('fetch failed'), { cause: refused('127.0.0.1', 3128) }), 'http://127.0.0.1:3128', true],
    ['a TLS failure (not a reach failure)', Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED', port: 3128 }), 'http://127.0.0.1:3128', false],
    ['an unparsable proxy', refused('127.0.0.1', 3128), 'not a url', false],
  ])('%s', (_what, err, proxy, expected) => {
    expect(failedToReach(err, proxy)).toBe(expected);
  });
});

describe('failedAtProxy', () => {
  const failing =
    (err: Error) =>
    (_options: { host: string }, callback: (err: Error | null, socket: null) => void): void =>
      callback(err, null);

  it('is true for a failure the marked connector reported, and for an error wrapping it', () => {
    const err = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    let seen: Error | null = null;
    markProxyHopFailures(failing(err))({ host: 'proxy' }, (e) => {
      seen = e;
    });
    expect(seen).toBe(err);
    expect(failedAtProxy(err)).toBe(true);
    expect(failedAtProxy(Object.assign(new Error('Secure Proxy Connection failed'), { cause: err }))).toBe(true);
  });

  it('is false for the same kind of failure from another connection (CAP inside the tunnel)', () => {
    const err = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    failing(err)({ host: 'cap' }, () => {});
    expect(failedAtProxy(err)).toBe(false);
    expect(failedAtProxy(undefined)).toBe(false);
  });
});
