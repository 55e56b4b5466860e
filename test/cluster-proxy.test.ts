// A kubeconfig's proxy-url: the Kubernetes API calls go through the HTTPS proxy (CONNECT),
// TLS to the API server still verified end to end; a socks proxy is refused before any call.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startConnectProxy, type ConnectProxy } from './support/connect-proxy.js';
import { startKubeApiServer, type KubeApiServer } from './support/kube-api-server.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

let cap: CapFixture;
let kube: KubeApiServer;
let proxy: ConnectProxy;
let dir: string;

async function kubeconfigWithProxy(proxyUrl: string): Promise<string> {
  const file = await kube.writeKubeconfig(dir, `proxied-${Math.random().toString(16).slice(2)}`);
  const config = parse(await readFile(file, 'utf8'));
  config.clusters[0].cluster['proxy-url'] = proxyUrl;
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  cap = await startCapFixture();
  kube = await startKubeApiServer();
  proxy = await startConnectProxy();
  dir = await makeTempDir('ctr-kube-proxy-');
  kube.putSecret({ metadata: { namespace: 'team', name: 'aws-creds', annotations: { 'cap-token-refresh/role': 'proxied-role' } }, data: { keep: 'a2VlcA==' } });
});

afterAll(async () => {
  await proxy?.stop();
  await kube?.stop();
  await cap?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('reaches the API server through the proxy-url of the kubeconfig', async () => {
  const kubeconfig = await kubeconfigWithProxy(proxy.url);
  const r = await runInProcess(['refresh', '--kubeconfig', kubeconfig, '--target', 'team/aws-creds', '--output', 'json'], { env: cap.env });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).targets[0]).toMatchObject({ namespace: 'team', name: 'aws-creds', result: 'refreshed' });
  expect(proxy.tunnels).toContain(new URL(kube.url).host);
  expect((kube.getSecret('team', 'aws-creds')?.data as Record<string, string> | undefined)?.keep).toBe('a2VlcA==');
});

// The CronJob's HTTPS_PROXY (generate --https-proxy) is for CAP only: the API calls follow a
// kubeconfig's proxy-url and nothing else, so the in-cluster API server needs no NO_PROXY entry.
it('HTTPS_PROXY carries the CAP calls and never the API calls', async () => {
  const file = await kube.writeKubeconfig(dir, 'direct');
  const envProxy = await startConnectProxy();
  try {
    const r = await runInProcess(['refresh', '--kubeconfig', file, '--target', 'team/aws-creds', '--force', '--output', 'json'], {
      env: { ...cap.env, HTTPS_PROXY: envProxy.url },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).targets[0]).toMatchObject({ result: 'refreshed' });
    expect(envProxy.tunnels).toContain(new URL(cap.env.CAP_URL ?? '').host);
    expect(envProxy.tunnels).not.toContain(new URL(kube.url).host);
  } finally {
    await envProxy.stop();
  }
});

it('refuses a socks proxy-url before any request', async () => {
  const kubeconfig = await kubeconfigWithProxy('socks5://127.0.0.1:1080');
  kube.clearRequests();
  const r = await runInProcess(['refresh', '--kubeconfig', kubeconfig, '--target', 'team/aws-creds'], { env: cap.env });
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/proxy-url socks5:\/\/127\.0\.0\.1:1080; only http:\/\/ and https:\/\/ proxies are supported/);
  expect(kube.requests).toHaveLength(0);
});

it('keeps the path prefix of a server URL (https://host/k8s/clusters/x)', async () => {
  const file = await kube.writeKubeconfig(dir, 'prefixed');
  const config = parse(await readFile(file, 'utf8'));
  config.clusters[0].cluster.server = `${kube.url}/k8s/clusters/c-1`;
  await writeFile(file, stringify(config), { mode: 0o600 });
  kube.clearRequests();
  await runInProcess(['refresh', '--kubeconfig', file, '--target', 'team/aws-creds'], { env: cap.env });
  expect(kube.requests.map((r) => r.path)).toContain('/k8s/clusters/c-1/api/v1/namespaces/team/secrets/aws-creds');
});
