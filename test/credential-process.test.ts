import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromProcess } from '@aws-sdk/credential-provider-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFileName, serializeCacheEntry, type CacheKey } from '../src/aws/process-credentials.js';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { BIN, runCli, type CliResult } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';

let cap: CapFixture;
let root: string;
let cache: string;

beforeAll(async () => {
  cap = await startCapFixture();
  root = await makeTempDir('ctr-cp-');
  cache = join(root, 'xdg-cache');
});
afterAll(async () => {
  await cap?.stop();
  await rm(root, { recursive: true, force: true });
});

const cacheFolder = () => join(cache, 'cap-token-refresh');
const keyFor = (role: string): CacheKey => ({ capUrl: `${cap.sim.url}/api/v1/credentials`, agency: cap.env.AGENCY!, mission: cap.env.MISSION!, role });

function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['credential-process', ...args], { env: { ...cap.env, HOME: root, XDG_CACHE_HOME: cache, ...env } });
}

/** Every CAP secret handed out so far, and the passphrases: none may show on stderr (stdout is the credentials by design). */
function expectCleanStderr(r: CliResult) {
  for (const i of cap.sim.issued) for (const s of [i.accessKeyId, i.secretAccessKey, i.sessionToken]) expect(r.stderr).not.toContain(s);
  expect(r.stderr).not.toContain(KEY_PASSPHRASE);
  expect(r.stderr).not.toContain(P12_PASSPHRASE);
  expect(r.stderr).not.toContain('PRIVATE KEY');
}

function expectNoSecretsAnywhere(r: CliResult) {
  expectCleanStderr(r);
  for (const i of cap.sim.issued) for (const s of [i.accessKeyId, i.secretAccessKey, i.sessionToken]) expect(r.stdout).not.toContain(s);
}

describe('cap-token-refresh credential-process', () => {
  it('prints the credential_process JSON for the role; a second call is served from the cache', async () => {
    const calls = cap.sim.calls.length;
    const first = await run(['--role', 'role-a']);
    expect(first.code).toBe(0);
    expectCleanStderr(first);
    const out = JSON.parse(first.stdout);
    const issued = cap.sim.issued.at(-1)!;
    expect(out).toEqual({
      Version: 1,
      AccessKeyId: issued.accessKeyId,
      SecretAccessKey: issued.secretAccessKey,
      SessionToken: issued.sessionToken,
      Expiration: new Date(issued.expiration).toISOString(),
    });
    expect(cap.sim.calls.length).toBe(calls + 1);
    expect(cap.sim.calls.at(-1)).toMatchObject({ agency: 'TEST-AGENCY', mission: 'TEST-MISSION', role: 'role-a' });

    const second = await run(['--role', 'role-a']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(cap.sim.calls.length).toBe(calls + 1);
    expectCleanStderr(second);

    // The cache: folder 0700, file 0600 named by the sha256 of the key, no role or URL in names.
    expect((await stat(cacheFolder())).mode & 0o777).toBe(0o700);
    const file = join(cacheFolder(), cacheFileName(keyFor('role-a')));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(cacheFolder())).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a cache hit needs neither the network nor the key file; a different role or agency is another entry', async () => {
    await run(['--role', 'role-b']);
    const calls = cap.sim.calls.length;
    const hit = await run(['--role', 'role-b'], { CAP_KEY_FILE: join(root, 'no-such-key') });
    expect(hit.code).toBe(0);
    expect(cap.sim.calls.length).toBe(calls);
    const other = await run(['--role', 'role-b', '--agency', 'OTHER-AGENCY']);
    expect(other.code).toBe(0);
    expect(cap.sim.calls.length).toBe(calls + 1);
    expect(cap.sim.calls.at(-1)!.agency).toBe('OTHER-AGENCY');
    expect(JSON.parse(other.stdout).AccessKeyId).not.toBe(JSON.parse(hit.stdout).AccessKeyId);
  });

  it('credentials within --min-remaining of expiry (default 5m) are fetched again', async () => {
    cap.sim.setBehaviour('short', { kind: 'ok', lifetimeSeconds: 240 });
    const calls = cap.sim.calls.length;
    const a = await run(['--role', 'short']);
    const b = await run(['--role', 'short']);
    expect(a.code + b.code).toBe(0);
    expect(cap.sim.calls.length).toBe(calls + 2);
    expect(JSON.parse(b.stdout).AccessKeyId).toBe(cap.sim.issued.at(-1)!.accessKeyId);
    const c = await run(['--role', 'short', '--min-remaining', '1m']);
    expect(cap.sim.calls.length).toBe(calls + 2);
    expect(c.stdout).toBe(b.stdout);
  });

  it('an expired cache entry is refreshed and replaced', async () => {
    const key = keyFor('role-exp');
    await mkdir(cacheFolder(), { recursive: true, mode: 0o700 });
    const file = join(cacheFolder(), cacheFileName(key));
    const stale = {
      accessKeyId: 'ASIASTALESTALESTALE',
      secretAccessKey: 'stale-secret-value',
      sessionToken: 'stale-session-token',
      expiration: new Date(Date.now() - 60_000),
    };
    await writeFile(file, serializeCacheEntry(key, stale), { mode: 0o600 });
    const calls = cap.sim.calls.length;
    const r = await run(['--role', 'role-exp']);
    expect(r.code).toBe(0);
    expect(cap.sim.calls.length).toBe(calls + 1);
    const out = JSON.parse(r.stdout);
    expect(out.AccessKeyId).toBe(cap.sim.issued.at(-1)!.accessKeyId);
    expect(await readFile(file, 'utf8')).toContain(out.SessionToken);
    expect(r.stderr).not.toContain('stale-secret-value');
  });

  it.each([
    ['garbage', 'not json at all', 0o600],
    ['truncated', '{"Key":{"capUrl":', 0o600],
    ['readable by others', 'PLACEHOLDER', 0o644],
  ])('a %s cache file is ignored and replaced', async (name, content, mode) => {
    const role = `role-${name.replace(/\W/g, '')}`;
    const key = keyFor(role);
    await mkdir(cacheFolder(), { recursive: true, mode: 0o700 });
    const file = join(cacheFolder(), cacheFileName(key));
    const planted = {
      accessKeyId: 'ASIAPLANTEDPLANTED',
      secretAccessKey: 'planted-secret',
      sessionToken: 'planted-token',
      expiration: new Date(Date.now() + 3600_000),
    };
    await writeFile(file, content === 'PLACEHOLDER' ? serializeCacheEntry(key, planted) : content, { mode });
    const calls = cap.sim.calls.length;
    const r = await run(['--role', role]);
    expect(r.code).toBe(0);
    expect(cap.sim.calls.length).toBe(calls + 1);
    expect(JSON.parse(r.stdout).AccessKeyId).toBe(cap.sim.issued.at(-1)!.accessKeyId);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).Credentials.AccessKeyId).toBe(cap.sim.issued.at(-1)!.accessKeyId);
  });

  it('works with an encrypted key or a PKCS#12 bundle, and never prints the passphrases', async () => {
    const enc = await run(['--role', 'role-enc', '--no-cache'], { CAP_KEY_FILE: cap.files.encryptedKey, CAP_KEY_PASSPHRASE_FILE: cap.files.keyPassphrase });
    expect(enc.code).toBe(0);
    expectCleanStderr(enc);
    const p12 = await run(['--role', 'role-p12', '--no-cache', '--pkcs12', cap.files.p12, '--pkcs12-passphrase-file', cap.files.p12Passphrase], {
      CAP_CERT_FILE: '',
      CAP_KEY_FILE: '',
    });
    expect(p12.code).toBe(0);
    expectCleanStderr(p12);
    for (const n of await readdir(cacheFolder())) expect(n).not.toBe(cacheFileName(keyFor('role-enc')));
  });

  it('a CAP refusal goes to stderr without secrets, with exit 1 and nothing on stdout', async () => {
    cap.sim.setBehaviour('denied', { kind: 'status', status: 403, body: '{"message":"role denied"}' });
    const r = await run(['--role', 'denied']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*403|forbidden|denied/im);
    // One last error line, written by the CLI (the command no longer prints its own).
    expect(r.stderr.match(/^error: /gm)).toHaveLength(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error: .*HTTP 403/);
    expectNoSecretsAnywhere(r);
    await expect(stat(join(cacheFolder(), cacheFileName(keyFor('denied'))))).rejects.toThrow();
  });

  it.each([
    ['no CAP URL', ['--role', 'role-a'], { CAP_URL: '' }, /no CAP URL/],
    ['an http CAP URL', ['--role', 'role-a', '--cap-url', 'http://127.0.0.1:1'], {}, /https/],
    ['no agency', ['--role', 'role-a'], { AGENCY: '' }, /needs an agency/],
    ['no client certificate', ['--role', 'role-a'], { CAP_CERT_FILE: '', CAP_KEY_FILE: '' }, /no client certificate/],
  ])('%s is a configuration error (exit 3), even with a cached entry', async (_name, args, env, why) => {
    const calls = cap.sim.calls.length;
    const r = await run(args, env);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(why);
    expect(cap.sim.calls.length).toBe(calls);
    expectNoSecretsAnywhere(r);
  });

  it('usage errors exit 2', async () => {
    expect((await run([])).code).toBe(2);
    const bad = await run(['--role', 'r', '--min-remaining', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--min-remaining soon is not a duration/);
  });

  it('is accepted by the AWS SDK credential_process provider (fromProcess)', async () => {
    const configFile = join(root, 'aws-config');
    const credentialsFile = join(root, 'aws-credentials');
    const q = (s: string) => `"${s}"`;
    const command = [
      q(process.execPath),
      q(BIN),
      'credential-process --role sdk-role',
      `--cap-url ${q(cap.sim.url)} --agency TEST-AGENCY --mission TEST-MISSION`,
      `--cert ${q(cap.files.cert)} --key ${q(cap.files.key)} --ca ${q(cap.files.ca)}`,
    ].join(' ');
    await writeFile(configFile, `[profile cap]\ncredential_process = ${command}\nregion = us-iso-east-1\n`);
    await writeFile(credentialsFile, '');
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, XDG_CACHE_HOME: cache });
    try {
      const calls = cap.sim.calls.length;
      const creds = await fromProcess({ profile: 'cap', ignoreCache: true })();
      const issued = cap.sim.issued.at(-1)!;
      expect(cap.sim.calls.length).toBe(calls + 1);
      expect(creds.accessKeyId).toBe(issued.accessKeyId);
      expect(creds.secretAccessKey).toBe(issued.secretAccessKey);
      expect(creds.sessionToken).toBe(issued.sessionToken);
      expect(creds.expiration?.getTime()).toBe(Date.parse(issued.expiration));
      const again = await fromProcess({ profile: 'cap', ignoreCache: true })();
      expect(again.sessionToken).toBe(issued.sessionToken);
      expect(cap.sim.calls.length).toBe(calls + 1);
    } finally {
      process.env = saved;
    }
  });
});
