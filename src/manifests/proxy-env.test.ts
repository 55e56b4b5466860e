import { describe, expect, it } from 'vitest';
import { httpsProxyProblem, parseNoProxy } from './proxy-env.js';

describe('httpsProxyProblem', () => {
  it.each([
    ['http://proxy.enclave.example:3128', undefined],
    ['https://proxy.enclave.example:3129', undefined],
    ['http://10.0.0.5:3128', undefined],
    ['http://[fd00::5]:3128', undefined],
    ['proxy.enclave.example:3128', '--https-proxy proxy.enclave.example:3128: give an http:// or https:// URL'],
    ['proxy.enclave.example', '--https-proxy proxy.enclave.example: give the proxy as http://HOST:PORT (or https://HOST:PORT)'],
    ['socks5://proxy:1080', '--https-proxy socks5://proxy:1080: give an http:// or https:// URL'],
    ['http://', '--https-proxy http://: give the proxy as http://HOST:PORT (or https://HOST:PORT)'],
    ['http://proxy:3128/?token=s3cret', undefined],
  ])('%s', (value, problem) => {
    expect(httpsProxyProblem(value)).toBe(problem);
  });

  it('never quotes a query', () => {
    expect(httpsProxyProblem('ftp://proxy/?token=s3cret-value')).not.toContain('s3cret-value');
  });
});

describe('parseNoProxy', () => {
  it.each([
    ['.enclave.example', { value: '.enclave.example' }],
    [' .enclave.example , 10.0.0.0/8,,cap.enclave.example:443 ', { value: '.enclave.example,10.0.0.0/8,cap.enclave.example:443' }],
    ['[fd00::1],*', { value: '[fd00::1],*' }],
    [' , ', { problem: '--no-proxy is empty; give hosts or domains separated by commas' }],
    ['a.example,b example', { problem: '--no-proxy: "b example" is not a host, domain, IP address or CIDR' }],
    ['a.example;b.example', { problem: '--no-proxy: "a.example;b.example" is not a host, domain, IP address or CIDR' }],
  ])('%j', (value, expected) => {
    expect(parseNoProxy(value)).toEqual(expected);
  });
});
