// Passwords in URLs (issue 13, must fix 5): a kubeconfig server or proxy-url, or a CAP URL,
// with `user:password@` or a query is never printed whole: not in the default info log, not
// in the text log, not in an error. Every URL goes out through displayUrl (scheme, host, port,
// path); a CAP URL with userinfo is refused (exit 3) without being echoed, and generate never
// writes one into the CronJob.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { OC_EXTRACT_AWS } from './support/fixtures.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTestTempDir } from './support/temp-dir.js';
import { closedPort } from './support/closed-port.js';

const PASSWORD = 'pw-9c1e77';
const QUERY = 'token=x4711';

let fixture: ClusterFixture;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-url-display-');
});

afterAll(async () => {
  await fixture?.stop();
});

/** The test server's kubeconfig with its server and proxy-url changed as given. */
async function kubeconfigWith(name: string, change: (cluster: Record<string, unknown>, server: URL) => void): Promise<string> {
  const file = await fixture.kube.writeKubeconfig(fixture.dir, name);
  const config = parse(await readFile(file, 'utf8'));
  const cluster = config.clusters[0].cluster as Record<string, unknown>;
  change(cluster, new URL(String(cluster.server)));
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

function expectNoUserinfoOrQuery(r: CliResult): void {
  const all = `${r.stdout}${r.stderr}`;
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain(QUERY);
  expect(all).not.toContain('user:');
}

describe('kubeconfig server and proxy-url', () => {
  it('a server with user:password@ and a query is shown as scheme, host and port in the default (JSON) log and in the error', async () => {
    let shown = '';
    const kubeconfig = await kubeconfigWith('server-userinfo', (cluster, server) => {
      shown = `https://${server.host}`;
      cluster.server = `https://user:${PASSWORD}@${server.host}/?${QUERY}`;
    });
    const r = await runInProcess(['refresh', '--kubeconfig', kubeconfig], { env: fixture.cap.env });
    expect(r.code).not.toBe(0);
    const using = r.stderr.split('\n').find((l) => l.includes('using the cluster'));
    expect(using, r.stderr).toBeDefined();
    expect(JSON.parse(using!).server).toBe(shown);
    // The discovery fails (the query ruins the path), and its message names the server.
    expect(r.stderr).toMatch(/error: cannot list the CredentialsRequests/);
    expect(r.stderr).toContain(shown);
    expectNoUserinfoOrQuery(r);
  });

  it('a server nobody answers on, with user:password@ and a query, in the text log and the error', async () => {
    const port = await closedPort();
    const kubeconfig = await kubeconfigWith('server-closed', (cluster) => {
      cluster.server = `https://user:${PASSWORD}@127.0.0.1:${port}/?${QUERY}`;
    });
    // A fake clock: the API client's retries of the refused connection take no time.
    const r = await runInProcess(['status', '--kubeconfig', kubeconfig, '--log-format', 'text'], { env: fixture.cap.env, now: new Date() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`using the cluster server=https://127.0.0.1:${port} `);
    expect(r.stderr).toContain(`https://127.0.0.1:${port}`);
    expectNoUserinfoOrQuery(r);
  });

  it('a proxy-url with user:password@ and a query is shown without them in the log and the error', async () => {
    const port = await closedPort();
    const kubeconfig = await kubeconfigWith('proxy-userinfo', (cluster) => {
      cluster['proxy-url'] = `http://proxy-user:${PASSWORD}@127.0.0.1:${port}/?${QUERY}`;
    });
    for (const format of ['json', 'text']) {
      const r = await runInProcess(['refresh', '--kubeconfig', kubeconfig, '--target', 'team/creds', '--log-format', format, '--output', 'json'], {
        env: fixture.cap.env,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`http://127.0.0.1:${port}`);
      expectNoUserinfoOrQuery(r);
    }
  });

  it('a server that is not https, with user:password@, is refused without quoting them', async () => {
    const kubeconfig = await kubeconfigWith('server-http', (cluster, server) => {
      cluster.server = `http://user:${PASSWORD}@${server.host}/?${QUERY}`;
    });
    const r = await runInProcess(['refresh', '--kubeconfig', kubeconfig], { env: fixture.cap.env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('only https:// API servers are used');
    expectNoUserinfoOrQuery(r);
  });

  it('a socks proxy-url with user:password@ is refused without quoting them', async () => {
    const kubeconfig = await kubeconfigWith('proxy-socks', (cluster) => {
      cluster['proxy-url'] = `socks5://proxy-user:${PASSWORD}@127.0.0.1:1080/?${QUERY}`;
    });
    const r = await runInProcess(['refresh', '--kubeconfig', kubeconfig], { env: fixture.cap.env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('has proxy-url socks5://127.0.0.1:1080;');
    expectNoUserinfoOrQuery(r);
  });
});

describe('CAP URL with userinfo', () => {
  const capUrl = `https://user:${PASSWORD}@cap.example/?${QUERY}`;

  it('generate --cap-url with user:password@ exits 3 without echoing it and writes no CronJob', async () => {
    const out = await makeTestTempDir('ctr-url-generate-');
    for (const url of [capUrl, `http://user:${PASSWORD}@cap.example/?${QUERY}`, `https://user:${PASSWORD}@{agency}.cap.example/x?role={role}`]) {
      const r = await runInProcess([
        'generate',
        '--credentials-requests',
        OC_EXTRACT_AWS,
        '--out',
        join(out, 'manifests'),
        '--iam-out',
        join(out, 'iam'),
        '--cap-url',
        url,
      ]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('--cap-url must not carry a user name or password');
      expectNoUserinfoOrQuery(r);
    }
    expect(await readdir(out)).toEqual([]);
  });

  it('generate --cap-url with a template query is accepted, and written as given', async () => {
    const out = await makeTestTempDir('ctr-url-generate-ok-');
    const template = 'https://cap.example/cap/gxCAP/getTemporaryCredentials?agency={agency}&accountName={account}&roleName={role}';
    const r = await runInProcess([
      'generate',
      '--credentials-requests',
      OC_EXTRACT_AWS,
      '--out',
      join(out, 'manifests'),
      '--iam-out',
      join(out, 'iam'),
      '--cap-url',
      template,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(out, 'manifests', 'cap-cronjob.yaml'), 'utf8')).toContain(template);
  });

  it.each([
    ['refresh', ['refresh', '--manifests', '.', '--cap-url', capUrl]],
    ['credential-process', ['credential-process', '--role', 'r1', '--no-cache', '--cap-url', capUrl]],
    ['preflight --probe-cap', ['preflight', '--to', OC_EXTRACT_AWS, '--from', OC_EXTRACT_AWS, '--manifests', 'manifests', '--probe-cap', '--cap-url', capUrl]],
  ])('%s with user:password@ in the CAP URL exits 3 without echoing it', async (_name, args) => {
    const r = await runInProcess(args, { env: fixture.cap.env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('must not carry a user name or password');
    expectNoUserinfoOrQuery(r);
    expect(fixture.cap.sim.calls).toHaveLength(0);
  });

  it('CAP_URL with user:password@ in the environment exits 3 without echoing it', async () => {
    const r = await runInProcess(['credential-process', '--role', 'r1', '--no-cache'], { env: { ...fixture.cap.env, CAP_URL: capUrl } });
    expect(r.code).toBe(3);
    expectNoUserinfoOrQuery(r);
  });
});
