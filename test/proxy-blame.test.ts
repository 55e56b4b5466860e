// Messages blame the right party (issue 13, should fix): a proxy that cannot be reached is
// named as the proxy (shown without its userinfo), not reported as "the connection to CAP
// failed" or "cannot reach the API server"; a proxy that refuses the tunnel is named too; an
// https:// proxy whose certificate is not trusted is named as such, not reported as CAP's.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { createCertificateAuthority, issueCertificate, type KeyPairPem } from '../src/sim/pki.js';
import { startConnectProxy } from './support/connect-proxy.js';
import { runCli } from './support/run-cli.js';
import { closedPort } from './support/closed-port.js';

const PASSWORD = 'proxy-pw-31337';

let fixture: ClusterFixture;
/** The proxy's own CA (not CAP's): a certificate for localhost, and one that names another host. */
let proxyCa: KeyPairPem;
let proxyCert: KeyPairPem;
let misnamedProxyCert: KeyPairPem;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-proxy-blame-');
  proxyCa = createCertificateAuthority('proxy CA');
  proxyCert = issueCertificate(proxyCa, { commonName: 'localhost', usage: 'server', altNames: { dns: ['localhost'], ip: ['127.0.0.1'] } });
  misnamedProxyCert = issueCertificate(proxyCa, { commonName: 'proxy.invalid', usage: 'server', altNames: { dns: ['proxy.invalid'] } });
});

afterAll(async () => {
  await fixture?.stop();
});

it('HTTPS_PROXY that nobody answers on: the proxy is named, CAP is not blamed', async () => {
  const port = await closedPort();
  const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], {
    env: { ...fixture.cap.env, HTTPS_PROXY: `http://user:${PASSWORD}@127.0.0.1:${port}` },
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`the HTTPS proxy http://127.0.0.1:${port} (HTTPS_PROXY) could not be reached (ECONNREFUSED)`);
  expect(r.stderr).not.toContain('connection to CAP failed');
  expect(r.stderr).not.toContain(PASSWORD);
  expect(fixture.cap.sim.calls).toHaveLength(0);
});

it('HTTPS_PROXY that refuses the tunnel is named in the message', async () => {
  const proxy = await startConnectProxy({ refuseWith: 403, userinfo: `user:${PASSWORD}` });
  try {
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, HTTPS_PROXY: proxy.url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the HTTPS proxy ${proxy.url.replace(`user:${PASSWORD}@`, '')} refused the tunnel`);
    expect(r.stderr).not.toContain(PASSWORD);
  } finally {
    await proxy.stop();
  }
});

it('without a proxy, a CAP nobody answers on is still "the connection to CAP failed"', async () => {
  const port = await closedPort();
  const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, CAP_URL: `https://127.0.0.1:${port}` } });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('the connection to CAP failed (ECONNREFUSED)');
});

it('a kubeconfig proxy-url nobody answers on is named, not reported as the API server', async () => {
  const port = await closedPort();
  const file = await fixture.kube.writeKubeconfig(fixture.dir, 'dead-proxy');
  const config = parse(await readFile(file, 'utf8'));
  config.clusters[0].cluster['proxy-url'] = `http://user:${PASSWORD}@127.0.0.1:${port}`;
  await writeFile(file, stringify(config), { mode: 0o600 });

  // A named target: the read fails, and the report says why.
  const named = await runCli(['refresh', '--kubeconfig', file, '--target', 'team/creds', '--output', 'json'], { env: fixture.cap.env });
  expect(named.code).toBe(1);
  const [t] = (JSON.parse(named.stdout) as { targets: { error?: string }[] }).targets;
  expect(t!.error).toContain(`cannot reach the proxy http://127.0.0.1:${port} (proxy-url of the kubeconfig) on the way to the API server`);
  expect(t!.error).not.toContain('cannot reach the API server');

  // Discovery: a configuration error naming the proxy.
  const discovered = await runCli(['status', '--kubeconfig', file], { env: fixture.cap.env });
  expect(discovered.code).toBe(3);
  expect(discovered.stderr).toContain(`cannot reach the proxy http://127.0.0.1:${port} (proxy-url of the kubeconfig)`);
  for (const r of [named, discovered]) expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
});

/** A CA bundle file in the fixture's folder. */
async function bundle(name: string, ...pems: string[]): Promise<string> {
  const file = join(fixture.dir, name);
  await writeFile(file, pems.join('\n'));
  return file;
}

it('an https:// HTTPS_PROXY whose certificate is not trusted is named, with the cure; CAP is not blamed', async () => {
  const proxy = await startConnectProxy({ tls: proxyCert, userinfo: `user:${PASSWORD}` });
  try {
    // CAP's CA is trusted (CAP_CA_FILE); the proxy's is not.
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, HTTPS_PROXY: proxy.url } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const shown = proxy.url.replace(`user:${PASSWORD}@`, '');
    expect(r.stderr).toContain(`the HTTPS proxy ${shown} (HTTPS_PROXY) presented a certificate that is not signed by a trusted CA`);
    expect(r.stderr).toContain('so CAP https://');
    expect(r.stderr).toContain('was not reached');
    expect(r.stderr).toContain("the proxy's certificate is checked against the same CAs as CAP's: give the CA bundle that issued it with --ca (CAP_CA_FILE)");
    expect(r.stderr).not.toContain('CAP server certificate');
    expect(r.stderr).not.toContain(PASSWORD);
    expect(proxy.tunnels).toHaveLength(0);
    expect(fixture.cap.sim.calls).toHaveLength(0);
  } finally {
    await proxy.stop();
  }
});

it("an untrusted proxy in a pod is told to go where the pod's trust comes from (the cluster's trusted bundle)", async () => {
  const proxy = await startConnectProxy({ tls: proxyCert });
  try {
    const trusted = await bundle('trusted-bundle.pem', fixture.cap.pki.ca.certPem);
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], {
      env: { ...fixture.cap.env, HTTPS_PROXY: proxy.url, CAP_TRUSTED_CA_BUNDLE: trusted },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the HTTPS proxy ${proxy.url} (HTTPS_PROXY) presented a certificate that is not signed by a trusted CA`);
    expect(r.stderr).toContain(`or to the cluster's trusted bundle`);
    expect(r.stderr).toContain(trusted);
    expect(r.stderr).not.toContain('CAP server certificate');
  } finally {
    await proxy.stop();
  }
});

it('the converse: a trusted https:// proxy in front of a CAP whose certificate is not trusted still blames CAP', async () => {
  const proxy = await startConnectProxy({ tls: proxyCert, userinfo: `user:${PASSWORD}` });
  try {
    // The proxy's CA and a CA that did not sign CAP's certificate.
    const ca = await bundle('proxy-and-wrong-ca.pem', proxyCa.certPem, await readFile(fixture.cap.files.wrongCa, 'utf8'));
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, HTTPS_PROXY: proxy.url, CAP_CA_FILE: ca } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the CAP server certificate is not signed by a trusted CA');
    expect(r.stderr).not.toContain('HTTPS proxy');
    expect(r.stderr).not.toContain(PASSWORD);
    // The proxy was trusted: the tunnel to CAP was opened.
    expect(proxy.tunnels).toHaveLength(1);
    expect(fixture.cap.sim.calls).toHaveLength(0);
  } finally {
    await proxy.stop();
  }
});

it("an https:// proxy is verified with the CAs CAP is verified with: its CA next to CAP's in --ca makes the call work", async () => {
  const proxy = await startConnectProxy({ tls: proxyCert, userinfo: `user:${PASSWORD}` });
  try {
    const ca = await bundle('proxy-and-cap-ca.pem', proxyCa.certPem, fixture.cap.pki.ca.certPem);
    const before = fixture.cap.sim.calls.length;
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, HTTPS_PROXY: proxy.url, CAP_CA_FILE: ca } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Version).toBe(1);
    expect(proxy.tunnels).toHaveLength(1);
    expect(fixture.cap.sim.calls.length).toBe(before + 1);
  } finally {
    await proxy.stop();
  }
});

it('an https:// proxy whose certificate names another host is named, not reported as refusing the tunnel', async () => {
  const proxy = await startConnectProxy({ tls: misnamedProxyCert });
  try {
    const ca = await bundle('proxy-and-cap-ca-2.pem', proxyCa.certPem, fixture.cap.pki.ca.certPem);
    const r = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, HTTPS_PROXY: proxy.url, CAP_CA_FILE: ca } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the HTTPS proxy ${proxy.url} (HTTPS_PROXY) presented a certificate that does not name its host`);
    expect(r.stderr).not.toContain('refused the tunnel');
    expect(r.stderr).not.toContain('CAP server certificate');
    expect(proxy.tunnels).toHaveLength(0);
  } finally {
    await proxy.stop();
  }
});

/** A kubeconfig for the test API server whose cluster goes through PROXY_URL (and, when given, trusts CA_PEM for the API server). */
async function kubeconfigThrough(name: string, proxyUrl: string, caPem?: string): Promise<string> {
  const file = await fixture.kube.writeKubeconfig(fixture.dir, name);
  const config = parse(await readFile(file, 'utf8'));
  config.clusters[0].cluster['proxy-url'] = proxyUrl;
  if (caPem) config.clusters[0].cluster['certificate-authority-data'] = Buffer.from(caPem).toString('base64');
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

it("a kubeconfig's https:// proxy-url whose certificate is not trusted is named, not reported as the API server's certificate", async () => {
  const proxy = await startConnectProxy({ tls: proxyCert, userinfo: `user:${PASSWORD}` });
  try {
    const file = await kubeconfigThrough('untrusted-proxy', proxy.url);
    const shown = proxy.url.replace(`user:${PASSWORD}@`, '');
    const named = await runCli(['refresh', '--kubeconfig', file, '--target', 'team/creds', '--output', 'json'], { env: fixture.cap.env });
    expect(named.code).toBe(1);
    const [t] = (JSON.parse(named.stdout) as { targets: { error?: string }[] }).targets;
    expect(t!.error).toContain(`the proxy ${shown} (proxy-url of the kubeconfig) presented a certificate that is not trusted`);
    expect(t!.error).toContain('NODE_EXTRA_CA_CERTS');
    expect(t!.error).toMatch(/so the API server https:\/\/127\.0\.0\.1:\d+ was not reached/);
    expect(t!.error).not.toMatch(/the API server \S+ presented/);

    const discovered = await runCli(['status', '--kubeconfig', file], { env: fixture.cap.env });
    expect(discovered.code).toBe(3);
    expect(discovered.stderr).toContain(`the proxy ${shown} (proxy-url of the kubeconfig) presented a certificate that is not trusted`);
    for (const r of [named, discovered]) expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
    expect(proxy.tunnels).toHaveLength(0);
  } finally {
    await proxy.stop();
  }
});

it('the converse: a trusted kubeconfig proxy in front of an API server whose certificate is not trusted still blames the API server', async () => {
  const proxy = await startConnectProxy({ tls: proxyCert });
  try {
    const file = await kubeconfigThrough('trusted-proxy', proxy.url, await readFile(fixture.cap.files.wrongCa, 'utf8'));
    const extra = await bundle('node-extra-proxy-ca.pem', proxyCa.certPem);
    const r = await runCli(['refresh', '--kubeconfig', file, '--target', 'team/creds', '--output', 'json'], {
      env: { ...fixture.cap.env, NODE_EXTRA_CA_CERTS: extra },
    });
    expect(r.code).toBe(1);
    const [t] = (JSON.parse(r.stdout) as { targets: { error?: string }[] }).targets;
    expect(t!.error).toMatch(/the API server https:\/\/127\.0\.0\.1:\d+ presented a certificate that is not trusted/);
    expect(t!.error).not.toContain('the proxy');
    // The proxy was trusted: tunnels to the API server were opened.
    expect(proxy.tunnels.length).toBeGreaterThan(0);
  } finally {
    await proxy.stop();
  }
});

// Last in the file: its successful call is one more CAP call the tests above count from zero.
it('a proxy that demands credentials (407) is named with its own cure, and one that rejects the given ones likewise', async () => {
  const proxy = await startConnectProxy({ requireAuth: `user:${PASSWORD}` });
  const callsBefore = fixture.cap.sim.calls.length;
  try {
    const bare = proxy.url;
    const none = await runCli(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, HTTPS_PROXY: bare } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`the HTTPS proxy ${bare} (HTTPS_PROXY) demands authentication (HTTP 407 Proxy Authentication Required)`);
    expect(none.stderr).toContain('as USER:PASSWORD@ before its host');
    expect(none.stderr).not.toContain('refused the tunnel');

    const wrong = await runCli(['credential-process', '--role', 'r1', '--no-cache'], {
      env: { ...fixture.cap.env, HTTPS_PROXY: bare.replace('http://', `http://user:not-${PASSWORD}@`) },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`the HTTPS proxy ${bare} (HTTPS_PROXY) rejected the user name and password given in HTTPS_PROXY (HTTP 407`);
    expect(wrong.stderr).not.toContain(PASSWORD);

    // The right ones pass: the 407 came from the credentials, not from the proxy refusing CAP.
    const right = await runCli(['credential-process', '--role', 'r1', '--no-cache'], {
      env: { ...fixture.cap.env, HTTPS_PROXY: bare.replace('http://', `http://user:${PASSWORD}@`) },
    });
    expect(right.code).toBe(0);
    expect(proxy.tunnels.length).toBe(3);
    expect(fixture.cap.sim.calls.length).toBe(callsBefore + 1);
  } finally {
    await proxy.stop();
  }
});
