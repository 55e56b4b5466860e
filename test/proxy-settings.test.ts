// Proxies: HTTPS_PROXY for CAP that is not an http(s) URL is a configuration error before any
// request (never quoted: it may hold a password), and the TLS connection to an https:// proxy
// (HTTPS_PROXY for CAP, a kubeconfig's proxy-url for the API server) is verified even when
// NODE_TLS_REJECT_UNAUTHORIZED=0 is in the environment. Node reads that variable from the
// process's own environment, so those two tests spawn the built command (runCli); the others
// run in process.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate, type KeyPairPem } from '../src/sim/pki.js';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startConnectProxy } from './support/connect-proxy.js';
import { startKubeApiServer, type KubeApiServer } from './support/kube-api-server.js';
import { runCli } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

let cap: CapFixture;
let kube: KubeApiServer;
let dir: string;

beforeAll(async () => {
  cap = await startCapFixture();
  kube = await startKubeApiServer();
  dir = await makeTempDir('ctr-proxy-');
});

afterAll(async () => {
  await kube?.stop();
  await cap?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * A CONNECT proxy spoken to over TLS, with a certificate from a CA nothing trusts: neither a
 * root, nor CAP's CA (an https:// proxy is verified with CAP's CA list too), nor the kubeconfig's.
 */
let untrustedProxyCert: KeyPairPem | undefined;
const startTlsConnectProxy = () => {
  untrustedProxyCert ??= issueCertificate(createCertificateAuthority('untrusted proxy CA'), {
    commonName: 'localhost',
    usage: 'server',
    altNames: { dns: ['localhost'], ip: ['127.0.0.1'] },
  });
  return startConnectProxy({ tls: untrustedProxyCert, userinfo: 'proxy-user:proxy-password-9f8e7d' });
};

it.each([
  ['HTTPS_PROXY', 'proxy.corp.example:3128'],
  ['HTTPS_PROXY', 'http//user:hunter2-proxy-pw@proxy'],
  ['https_proxy', 'ftp://user:hunter2-proxy-pw@proxy:21'],
])('%s=%s is a configuration error (exit 3) that does not quote the value', async (name, value) => {
  const r = await runInProcess(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...cap.env, [name]: value } });
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(`${name} is not an http:// or https:// URL`);
  expect(r.stderr).not.toContain('hunter2');
  expect(r.stdout).toBe('');
  expect(cap.sim.calls.length).toBe(0);
});

it('verifies the certificate of an https:// proxy even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
  const proxy = await startTlsConnectProxy();
  try {
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], {
      env: { ...cap.env, HTTPS_PROXY: proxy.url, NODE_TLS_REJECT_UNAUTHORIZED: '0' },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(proxy.tunnels).toHaveLength(0);
    expect(r.stderr).not.toContain('proxy-password-9f8e7d');
  } finally {
    await proxy.stop();
  }
});

it("verifies the certificate of a kubeconfig's https:// proxy-url even with NODE_TLS_REJECT_UNAUTHORIZED=0", async () => {
  const proxy = await startTlsConnectProxy();
  try {
    kube.putSecret({ metadata: { namespace: 'team', name: 'aws-creds', annotations: { 'cap-token-refresh/role': 'proxied-role' } } });
    const file = await kube.writeKubeconfig(dir, 'proxied');
    const config = parse(await readFile(file, 'utf8'));
    config.clusters[0].cluster['proxy-url'] = proxy.url;
    await writeFile(file, stringify(config), { mode: 0o600 });
    const r = await runCli(['refresh', '--kubeconfig', file, '--target', 'team/aws-creds', '--output', 'json'], {
      env: { ...cap.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' },
    });
    expect(r.code).toBe(1);
    expect(proxy.tunnels).toHaveLength(0);
    expect(`${r.stdout}${r.stderr}`).not.toContain('proxy-password-9f8e7d');
  } finally {
    await proxy.stop();
  }
});
