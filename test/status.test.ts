import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

// `status --manifests`, run in process (test/support/run-in-process.ts) with a fake clock:
// NOW is when the file started, and every annotation is written relative to it.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Secret values planted in every manifest: status must never print them. */
const PLANTED = { accessKeyId: 'ASIAPLANTEDKEY7777', secret: 'planted-secret-access-key-value', token: 'FwoGplanted-session-token-value' };

function secret(name: string, opts: { role?: string; issuedRole?: string | null; managed?: boolean; expiration?: string; refreshedAt?: string }): string {
  const issuedRole = opts.issuedRole === null ? undefined : (opts.issuedRole ?? opts.role);
  const annotations = [
    ...(opts.role !== undefined ? [`    cap-token-refresh/role: "${opts.role}"`] : []),
    ...(issuedRole ? [`    cap-token-refresh/issued-role: "${issuedRole}"`] : []),
    ...(opts.expiration ? [`    cap-token-refresh/expiration: ${opts.expiration}`] : []),
    ...(opts.refreshedAt ? [`    cap-token-refresh/refreshed-at: ${opts.refreshedAt}`] : []),
  ];
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${name}`,
    '  namespace: openshift-test',
    ...(annotations.length ? ['  annotations:', ...annotations] : []),
    ...(opts.managed !== false ? ['  labels:', '    cap-token-refresh/managed: "true"'] : []),
    'stringData:',
    `  aws_access_key_id: ${PLANTED.accessKeyId}`,
    `  aws_secret_access_key: ${PLANTED.secret}`,
    '  credentials: |',
    '    [default]',
    `    aws_access_key_id = ${PLANTED.accessKeyId}`,
    `    aws_secret_access_key = ${PLANTED.secret}`,
    `    aws_session_token = ${PLANTED.token}`,
    '',
  ].join('\n');
}

const TARGETS = {
  ok: () => secret('fresh', { role: 'role-ok', refreshedAt: at(-10), expiration: at(50) }),
  due: () => secret('due', { role: 'role-due', refreshedAt: at(-50), expiration: at(10) }),
  never: () => secret('never', { role: 'role-never' }),
  expired: () => secret('expired', { role: 'role-expired', refreshedAt: at(-70), expiration: at(-10) }),
  noRole: () => secret('no-role', {}),
  emptyRole: () => secret('empty-role', { role: '', refreshedAt: at(-10), expiration: at(50) }),
  seeded: () => secret('seeded', { role: 'role-seeded', issuedRole: null, refreshedAt: at(-10), expiration: at(50) }),
  reroled: () => secret('reroled', { role: 'role-new', issuedRole: 'role-old', refreshedAt: at(-10), expiration: at(50) }),
  emptied: () =>
    secret('emptied', { role: 'role-emptied', refreshedAt: at(-10), expiration: at(50) }).replace(
      /stringData:[\s\S]*$/,
      'stringData:\n  aws_access_key_id: ""\n  aws_secret_access_key: ""\n  credentials: ""\n',
    ),
  broken: () => 'kind: Secret\nmetadata: [unclosed\n',
  unlabelled: () => secret('plain', { managed: false }),
};

let cap: CapFixture;
let root: string;
let n = 0;
beforeAll(async () => {
  cap = await startCapFixture();
  root = await makeTempDir('ctr-status-');
});
afterAll(async () => {
  await cap?.stop();
  await rm(root, { recursive: true, force: true });
});

async function manifests(kinds: (keyof typeof TARGETS)[]): Promise<string> {
  const dir = join(root, `m${n++}`);
  await mkdir(dir);
  for (const k of kinds) await writeFile(join(dir, `${k}.yaml`), TARGETS[k]());
  return dir;
}

function expectNoSecrets(r: CliResult) {
  for (const s of [PLANTED.accessKeyId, PLANTED.secret, PLANTED.token, KEY_PASSPHRASE, P12_PASSPHRASE]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
  for (const i of cap.sim.issued) for (const s of [i.accessKeyId, i.secretAccessKey, i.sessionToken]) expect(r.stdout + r.stderr).not.toContain(s);
}

const status = (args: string[], env: Record<string, string> = {}, now: Date = NOW) => runInProcess(['status', ...args], { env, now });

describe('cap-token-refresh status --manifests', () => {
  it.each<[string, (keyof typeof TARGETS)[], number]>([
    ['fresh targets', ['ok', 'unlabelled'], 0],
    ['fresh and due targets', ['ok', 'due', 'never'], 0],
    ['an expired target', ['ok', 'expired'], 1],
    ['a managed Secret without a role', ['ok', 'noRole'], 1],
    ['a Secret with an empty role', ['ok', 'emptyRole'], 1],
    ['an unparseable manifest', ['ok', 'broken'], 1],
  ])('%s: exit %i', async (_name, kinds, code) => {
    const r = await status(['--manifests', await manifests(kinds)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(code);
    expectNoSecrets(r);
    expect(r.stdout).toMatch(/^TARGET\s+ROLE\s+VERDICT\s+EXPIRATION\s+TIME LEFT\s+LAST REFRESH$/m);
    expect(r.stdout).toMatch(/^openshift-test\/fresh\s+role-ok\s+ok\s+\S+Z\s+(49|50)m\s+10m ago$/m);
    expect(r.stdout).not.toContain('openshift-test/plain');
  });

  it('shows each verdict with its reason', async () => {
    const r = await status(['--manifests', await manifests(['ok', 'due', 'never', 'expired', 'noRole', 'broken'])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^openshift-test\/due\s+role-due\s+due\s+\S+\s+(9|10)m\s+50m ago$/m);
    expect(r.stdout).toMatch(/^openshift-test\/never\s+role-never\s+due\s+-\s+-\s+-$/m);
    expect(r.stdout).toMatch(/^openshift-test\/expired\s+role-expired\s+expired\s+\S+\s+-(10|11)m\s+1h10m ago$/m);
    expect(r.stdout).toMatch(/^openshift-test\/no-role\s+-\s+unmanaged/m);
    expect(r.stdout).toMatch(/^due: openshift-test\/due: less than a third of its lifetime is left/m);
    expect(r.stdout).toMatch(/^expired: openshift-test\/expired: the credentials expired at/m);
    expect(r.stdout).toMatch(/^unmanaged: openshift-test\/no-role: .*no cap-token-refresh\/role annotation/m);
    expect(r.stdout).toMatch(/^unmanaged: .*broken\.yaml: .*not valid YAML/m);
  });

  it('shows seeded, re-roled and emptied Secrets as due with the reason, whatever their expiration says', async () => {
    const r = await status(['--manifests', await manifests(['ok', 'seeded', 'reroled', 'emptied'])]);
    expect(r.code).toBe(0);
    expectNoSecrets(r);
    for (const name of ['seeded', 'reroled', 'emptied']) expect(r.stdout).toMatch(new RegExp(`^openshift-test/${name}\\s+\\S+\\s+due\\s`, 'm'));
    expect(r.stdout).toMatch(/^due: openshift-test\/seeded: seeded: no cap-token-refresh\/issued-role annotation/m);
    expect(r.stdout).toMatch(/^due: openshift-test\/reroled: role changed: issued for "role-old"/m);
    expect(r.stdout).toMatch(
      /^due: openshift-test\/emptied: empty: its data cannot serve the operator \(aws_access_key_id, aws_secret_access_key, credentials are empty/m,
    );
  });

  it('--output json gives the docs/DESIGN.md object with verdict, time left, last refresh and the client certificate', async () => {
    const dir = await manifests(['ok', 'due', 'expired', 'noRole']);
    const r = await status(['--manifests', dir, '--output', 'json'], { CAP_CERT_FILE: cap.files.cert });
    expect(r.code).toBe(1);
    expectNoSecrets(r);
    const report = JSON.parse(r.stdout);
    const byName = Object.fromEntries(report.targets.map((t: { name: string }) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['due', 'expired', 'fresh', 'no-role']);
    expect(byName.fresh).toMatchObject({ namespace: 'openshift-test', role: 'role-ok', result: 'fresh', verdict: 'ok', file: join(dir, 'ok.yaml') });
    expect(byName.fresh.error).toBeUndefined();
    expect(byName.fresh.timeLeftSeconds).toBeGreaterThan(49 * 60);
    expect(byName.fresh.timeLeftSeconds).toBeLessThanOrEqual(50 * 60);
    expect(Date.parse(byName.fresh.refreshedAt)).toBeLessThan(Date.now());
    expect(byName.due).toMatchObject({ result: 'fresh', verdict: 'due' });
    expect(byName.expired).toMatchObject({ result: 'failed', verdict: 'expired', error: expect.stringContaining('expired at') });
    expect(byName.expired.timeLeftSeconds).toBeLessThan(0);
    expect(byName['no-role']).toMatchObject({ role: null, result: 'failed', verdict: 'unmanaged', expiration: null, timeLeftSeconds: null });
    expect(report.clientCertificate).toEqual({ file: cap.files.cert, subject: expect.stringContaining('CN='), notAfter: expect.stringMatching(/Z$/) });
    expect(Date.parse(report.clientCertificate.notAfter)).toBeGreaterThan(Date.now());
  });

  it('reads the certificate expiry from a PKCS#12 bundle without printing its passphrase', async () => {
    const r = await status(['--manifests', await manifests(['ok']), '--pkcs12', cap.files.p12, '--pkcs12-passphrase-file', cap.files.p12Passphrase]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CAP client certificate .*CN=.* \(.*client\.p12\) expires \S+Z \(in \d+d\d\dh\)$/m);
    expectNoSecrets(r);
  });

  /** A certs folder laid out as the certs Secret is mounted in the pod (/etc/cap-certs). */
  async function certsDir(layout: 'pem' | 'pkcs12'): Promise<string> {
    const dir = join(root, `certs${n++}`);
    await mkdir(dir);
    await copyFile(cap.files.ca, join(dir, 'ca.crt'));
    if (layout === 'pem') {
      await copyFile(cap.files.cert, join(dir, 'tls.crt'));
      await copyFile(cap.files.key, join(dir, 'tls.key'));
    } else {
      await copyFile(cap.files.p12, join(dir, 'client.p12'));
      await copyFile(cap.files.p12Passphrase, join(dir, 'passphrase'));
    }
    return dir;
  }
  const notAfter = () => new Date(new X509Certificate(cap.pki.client.certPem).validTo).toISOString().replace(/\.\d{3}Z$/, 'Z');

  it.each<[string, 'pem' | 'pkcs12', (dir: string) => [string[], Record<string, string>], string]>([
    ['--certs-dir with tls.crt', 'pem', (dir) => [['--certs-dir', dir], {}], 'tls.crt'],
    ['CAP_CERTS_DIR with tls.crt', 'pem', (dir) => [[], { CAP_CERTS_DIR: dir }], 'tls.crt'],
    ['--certs-dir with client.p12 and passphrase', 'pkcs12', (dir) => [['--certs-dir', dir], {}], 'client.p12'],
    ['CAP_CERTS_DIR with client.p12 and passphrase', 'pkcs12', (dir) => [[], { CAP_CERTS_DIR: dir }], 'client.p12'],
  ])("%s: shows that certificate's expiry, as refresh finds it in the pod", async (_what, layout, given, file) => {
    const dir = await certsDir(layout);
    const [flags, env] = given(dir);
    const r = await status(['--manifests', await manifests(['ok']), '-o', 'json', ...flags], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).clientCertificate).toEqual({ file: join(dir, file), subject: expect.stringContaining('CN='), notAfter: notAfter() });
    expectNoSecrets(r);
    const table = await status(['--manifests', await manifests(['ok']), ...flags], env);
    expect(table.stdout).toContain(`(${join(dir, file)}) expires ${notAfter()} (in `);
  });

  it('--certs-dir: flags name files over the folder, as for refresh', async () => {
    const dir = await certsDir('pkcs12');
    const r = await status(['--manifests', await manifests(['ok']), '-o', 'json', '--certs-dir', dir, '--cert', cap.files.cert]);
    expect(JSON.parse(r.stdout).clientCertificate.file).toBe(cap.files.cert);
  });

  it('a certificate of the certs folder that has expired by the clock is shown EXPIRED; status still exits 0', async () => {
    const dir = await certsDir('pem');
    const later = new Date(Date.parse(notAfter()) + 86_400_000);
    const r = await status(['--manifests', await manifests([]), '--certs-dir', dir], {}, later);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`(${join(dir, 'tls.crt')}) EXPIRED on ${notAfter()}; renew it, the next refresh will fail`);
  });

  it('a certs folder that does not exist is a warning naming it, not a failure', async () => {
    const r = await status(['--manifests', await manifests(['ok']), '--log-format', 'text'], { CAP_CERTS_DIR: join(root, 'no-certs') });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/could not read the CAP client certificate \(the certs folder .*no-certs \(--certs-dir, CAP_CERTS_DIR\) does not exist/);
    expect(r.stdout).not.toContain('CAP client certificate');
  });

  it('never fails because the certificate is missing or unreadable', async () => {
    const dir = await manifests(['ok']);
    const missing = await status(['--manifests', dir, '--log-format', 'text'], { CAP_CERT_FILE: join(root, 'nope.crt') });
    expect(missing.code).toBe(0);
    expect(missing.stderr).toMatch(/could not read the CAP client certificate .*nope\.crt \(ENOENT\)/);
    expect(missing.stdout).not.toContain('CAP client certificate');
    const wrongPass = await status(['--manifests', dir, '--pkcs12', cap.files.p12, '--pkcs12-passphrase-file', cap.files.keyPassphrase]);
    expect(wrongPass.code).toBe(0);
    expect(wrongPass.stderr).toMatch(/could not read the CAP client certificate/);
    expectNoSecrets(wrongPass);
    const none = await status(['--manifests', dir]);
    expect(none.code).toBe(0);
    expect(none.stderr).toBe('');
  });

  it('--renew-before counts a fresh target as due', async () => {
    const r = await status(['--manifests', await manifests(['ok']), '--renew-before', '1h', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).targets[0]).toMatchObject({ verdict: 'due', result: 'fresh' });
  });

  it('usage and configuration errors have their own exit codes', async () => {
    const noDir = await status(['--manifests', join(root, 'no-such-dir')]);
    expect(noDir.code).toBe(3);
    expect(noDir.stderr).toMatch(/does not exist/);
    const badDuration = await status(['--manifests', root, '--renew-before', 'soon']);
    expect(badDuration.code).toBe(2);
    // Without --manifests, status looks at a cluster; with no Kubernetes configuration at all, that is a configuration error.
    const cluster = await status([], { HOME: root, KUBECONFIG: '' });
    expect(cluster.code).toBe(3);
    expect(cluster.stderr).toMatch(/no Kubernetes configuration found/);
  });
});
