import { describe, expect, it } from 'vitest';
import { failedToReach } from './proxy-failure.js';

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
