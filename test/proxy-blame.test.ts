// Messages blame the right party (issue 13, should fix): a proxy that cannot be reached is
// named as the proxy (shown without its userinfo), not reported as "the connection to CAP
// failed" or "cannot reach the API server"; a proxy that refuses the tunnel is named too.

import { createServer } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { startConnectProxy } from './support/connect-proxy.js';
import { runCli } from './support/run-cli.js';

const PASSWORD = 'proxy-pw-31337';

let fixture: ClusterFixture;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-proxy-blame-');
});

afterAll(async () => {
  await fixture?.stop();
});

/** A port nothing listens on: bound, read, closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

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
