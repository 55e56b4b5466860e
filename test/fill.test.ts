import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setProfileCredentials } from '../src/aws/credentials-file.js';
import { applyCredentialsToManifest } from '../src/disk/secret-manifest.js';
import { renderSampleSecretManifest, SAMPLE_OPERATOR_SECRETS } from '../src/sim/sample-manifests.js';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { REPO_ROOT, type CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

const SCRIPT = join(REPO_ROOT, 'hack', 'fill-credentials.sh');

function capBody(overrides: Partial<Record<'AccessKeyId' | 'SecretAccessKey' | 'SessionToken' | 'Expiration', string>> = {}) {
  const c = {
    AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    SessionToken: `FwoGZXIvYXdzE${randomBytes(60).toString('base64')}`,
    Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...overrides,
  };
  return { creds: c, body: JSON.stringify({ Credentials: c }) };
}

const UNMANAGED = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: not-a-secret', 'data:', '  a: "1"', ''].join('\n');
const EXISTING_CREDENTIALS = [
  '# my workstation keys',
  '[default]',
  'aws_access_key_id = AKIADEFAULTDEFAULT',
  'aws_secret_access_key = defaultsecret',
  '',
  '; the CAP role',
  '[cap]',
  'region = us-iso-east-1',
  'aws_access_key_id = ASIAOLDOLDOLDOLD',
  'aws_secret_access_key = oldsecret',
  'aws_session_token = oldtoken',
  'output = json',
  '',
].join('\n');

async function makeManifests(root: string): Promise<string> {
  const dir = join(root, 'manifests');
  await mkdir(dir, { recursive: true });
  for (const s of SAMPLE_OPERATOR_SECRETS) await writeFile(join(dir, `cap-${s.component}-secret.yaml`), renderSampleSecretManifest(s, `role-${s.component}`));
  await writeFile(join(dir, 'other-configmap.yaml'), UNMANAGED);
  return dir;
}

/** Names, modes and contents of every file under dir: equal snapshots mean nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(entry.parentPath, entry.name);
    const st = await stat(p);
    out[p] = entry.isFile() ? `${(st.mode & 0o777).toString(8)} ${await readFile(p, 'utf8')}` : `dir ${(st.mode & 0o777).toString(8)}`;
  }
  return out;
}

function expectNoSecrets(r: CliResult, secrets: string[]) {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

function secretsOf(c: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }) {
  return [c.AccessKeyId, c.SecretAccessKey, c.SessionToken];
}

function runScript(args: string[], opts: { env: Record<string, string>; input: string; script?: string }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      'bash',
      [opts.script ?? SCRIPT, ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolvePromise({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(opts.input);
  });
}

let root: string;
beforeAll(async () => {
  root = await makeTempDir('ctr-fill-');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshCase(name: string) {
  const dir = join(root, name);
  await mkdir(dir);
  const home = join(dir, 'home');
  await mkdir(home);
  return { dir, home, manifests: await makeManifests(dir) };
}

describe('cap-token-refresh fill', () => {
  it('writes every managed Secret manifest exactly as the refresh does, and leaves other files alone', async () => {
    const { home, manifests } = await freshCase('manifests-only');
    const before = await snapshot(manifests);
    const { creds, body } = capBody();
    const r = await runInProcess(['fill', '--manifests', manifests], { stdin: body, env: { HOME: home } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote ${SAMPLE_OPERATOR_SECRETS.length} Secret manifest(s)`);
    expect(r.stdout).toContain(`…${creds.AccessKeyId.slice(-4)}`);
    expect(r.stdout).toContain(creds.Expiration);
    expectNoSecrets(r, secretsOf(creds));

    for (const s of SAMPLE_OPERATOR_SECRETS) {
      const file = join(manifests, `cap-${s.component}-secret.yaml`);
      const text = await readFile(file, 'utf8');
      const doc = parse(text);
      expect(doc.stringData).toEqual({
        aws_access_key_id: creds.AccessKeyId,
        aws_secret_access_key: creds.SecretAccessKey,
        credentials: `[default]\naws_access_key_id = ${creds.AccessKeyId}\naws_secret_access_key = ${creds.SecretAccessKey}\naws_session_token = ${creds.SessionToken}\n`,
      });
      expect(doc.metadata.annotations['cap-token-refresh/expiration']).toBe(creds.Expiration);
      const refreshedAt = doc.metadata.annotations['cap-token-refresh/refreshed-at'];
      expect(Math.abs(Date.parse(refreshedAt) - Date.now())).toBeLessThan(60_000);
      // Byte for byte what the refresh's manifest store writes.
      const original = before[file]!.replace(/^\d+ /, '');
      const expected = applyCredentialsToManifest(
        original,
        [0],
        { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken, expiration: new Date(creds.Expiration) },
        new Date(refreshedAt),
      );
      expect(text).toBe(expected);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
    expect(await readFile(join(manifests, 'other-configmap.yaml'), 'utf8')).toBe(UNMANAGED);
    await expect(stat(join(home, '.aws'))).rejects.toThrow();
  });

  it('with --profile updates only the three keys of that profile in an existing credentials file', async () => {
    const { dir, home, manifests } = await freshCase('existing-profile');
    const credFile = join(dir, 'aws-credentials');
    await writeFile(credFile, EXISTING_CREDENTIALS, { mode: 0o600 });
    const { creds, body } = capBody();
    const r = await runInProcess(['fill', '--manifests', manifests, '--profile', 'cap'], {
      stdin: body,
      env: { HOME: home, AWS_SHARED_CREDENTIALS_FILE: credFile },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Updated profile cap in ${credFile}`);
    expectNoSecrets(r, [...secretsOf(creds), 'defaultsecret', 'oldsecret', 'oldtoken']);
    const after = await readFile(credFile, 'utf8');
    expect(after).toBe(
      EXISTING_CREDENTIALS.replace('ASIAOLDOLDOLDOLD', creds.AccessKeyId)
        .replace('= oldsecret', `= ${creds.SecretAccessKey}`)
        .replace('oldtoken', creds.SessionToken),
    );
    expect(after).toBe(
      setProfileCredentials(EXISTING_CREDENTIALS, 'cap', {
        accessKeyId: creds.AccessKeyId,
        secretAccessKey: creds.SecretAccessKey,
        sessionToken: creds.SessionToken,
      }),
    );
    expect((await stat(credFile)).mode & 0o777).toBe(0o600);
  });

  it('creates ~/.aws/credentials (0600) and ~/.aws (0700) when missing', async () => {
    const { home, manifests } = await freshCase('new-profile');
    const { creds, body } = capBody();
    const r = await runInProcess(['fill', '--manifests', manifests, '--profile', 'dev'], { stdin: body, env: { HOME: home } });
    expect(r.code).toBe(0);
    const credFile = join(home, '.aws', 'credentials');
    expect(r.stdout).toContain(`Created profile dev in ${credFile}`);
    expectNoSecrets(r, secretsOf(creds));
    expect(await readFile(credFile, 'utf8')).toBe(
      `[dev]\naws_access_key_id = ${creds.AccessKeyId}\naws_secret_access_key = ${creds.SecretAccessKey}\naws_session_token = ${creds.SessionToken}\n`,
    );
    expect((await stat(credFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, '.aws'))).mode & 0o777).toBe(0o700);
  });

  const expired = capBody({ Expiration: new Date(Date.now() - 60_000).toISOString() });
  const truncated = capBody();
  const badInputs: [string, string | Buffer, RegExp, string[]][] = [
    ['empty input', '', /empty/, []],
    ['whitespace only', '  \n', /empty/, []],
    ['truncated JSON', truncated.body.slice(0, 80), /not valid JSON/, secretsOf(truncated.creds)],
    ['an HTML login page', '<!DOCTYPE html><html><body>Sign in</body></html>', /HTML/, []],
    ['nginx 400 page', '<html>\r\n<head><title>400 No required SSL certificate was sent</title></head></html>', /HTML/, []],
    ['expired credentials', expired.body, /expired/, secretsOf(expired.creds)],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8/, []],
    ['a JSON array', '[1,2]', /not an object/, []],
    [
      'a missing field',
      JSON.stringify({ Credentials: { AccessKeyId: 'ASIAXXXXXXXXXXXX', SecretAccessKey: 'secretsecret', Expiration: '2999-01-01T00:00:00Z' } }),
      /SessionToken/,
      ['secretsecret'],
    ],
  ];

  it.each(badInputs)('%s changes nothing and says why (exit 3)', async (_name, input, why, secrets) => {
    const { dir, home, manifests } = await freshCase(`bad-${randomBytes(4).toString('hex')}`);
    const credFile = join(dir, 'aws-credentials');
    await writeFile(credFile, EXISTING_CREDENTIALS, { mode: 0o600 });
    const before = await snapshot(dir);
    const r = await runInProcess(['fill', '--manifests', manifests, '--profile', 'cap'], {
      stdin: input,
      env: { HOME: home, AWS_SHARED_CREDENTIALS_FILE: credFile },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stdout).toBe('');
    expectNoSecrets(r, secrets);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('refuses a bad profile name or a folder without managed Secrets before reading input', async () => {
    const { dir, home, manifests } = await freshCase('usage');
    const before = await snapshot(dir);
    const { body } = capBody();
    const bad = await runInProcess(['fill', '--manifests', manifests, '--profile', 'has space'], { stdin: body, env: { HOME: home } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--profile: .*no spaces/);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const none = await runInProcess(['fill', '--manifests', empty], { stdin: body, env: { HOME: home } });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no Secret manifest .* carries the annotation cap-token-refresh\/role/);
    const missing = await runInProcess(['fill', '--manifests', join(dir, 'nope')], { stdin: body, env: { HOME: home } });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/does not exist/);
    delete before[empty];
    const after = await snapshot(dir);
    delete after[empty];
    expect(after).toEqual(before);
  });

  it('writes the good manifests and reports a broken one, exit 1', async () => {
    const { home, manifests } = await freshCase('broken-file');
    const broken = join(manifests, 'cap-broken-secret.yaml');
    await writeFile(broken, 'kind: Secret\nmetadata: [unclosed\n');
    const { creds, body } = capBody();
    const r = await runInProcess(['fill', '--manifests', manifests], { stdin: body, env: { HOME: home } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Wrote ${SAMPLE_OPERATOR_SECRETS.length} Secret manifest(s)`);
    expect(r.stderr).toMatch(/cap-broken-secret\.yaml was left untouched/);
    expect(await readFile(broken, 'utf8')).toBe('kind: Secret\nmetadata: [unclosed\n');
    expectNoSecrets(r, secretsOf(creds));
  });
});

describe('hack/fill-credentials.sh', () => {
  let cap: CapFixture;
  beforeAll(async () => {
    cap = await startCapFixture();
  });
  afterAll(async () => {
    await cap?.stop();
  });

  async function curlFromCap(role: string): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      execFile(
        'curl',
        [
          '-sS',
          '--fail',
          '--cert',
          cap.files.cert,
          '--key',
          cap.files.key,
          '--cacert',
          cap.files.ca,
          `${cap.sim.url}/api/v1/credentials?agency=A&mission=M&role=${role}`,
        ],
        { encoding: 'utf8' },
        (err, stdout) => (err ? reject(err) : resolvePromise(stdout)),
      );
    });
  }

  it('curl $CAP_URL | profile=NAME hack/fill-credentials.sh seeds the manifests and the profile', async () => {
    const { dir, home, manifests } = await freshCase('script-env');
    const credFile = join(dir, 'aws-credentials');
    await writeFile(credFile, EXISTING_CREDENTIALS, { mode: 0o600 });
    const r = await new Promise<CliResult>((resolvePromise) => {
      execFile(
        'bash',
        [
          '-c',
          `set -o pipefail; curl -sS --fail --cert "$CERT" --key "$KEY" --cacert "$CA" "$CAP_URL/api/v1/credentials?agency=A&mission=M&role=R" | profile=cap "$SCRIPT"`,
        ],
        {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            CERT: cap.files.cert,
            KEY: cap.files.key,
            CA: cap.files.ca,
            CAP_URL: cap.sim.url,
            SCRIPT,
            MANIFESTS_DIR: manifests,
            AWS_SHARED_CREDENTIALS_FILE: credFile,
          },
        },
        (err, stdout, stderr) => resolvePromise({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const issued = cap.sim.issued.at(-1)!;
    expect(r.stdout).toContain(`Wrote ${SAMPLE_OPERATOR_SECRETS.length} Secret manifest(s) in ${manifests}`);
    expect(r.stdout).toContain('Updated profile cap');
    for (const i of cap.sim.issued) expectNoSecrets(r, [i.accessKeyId, i.secretAccessKey, i.sessionToken]);
    const doc = parse(await readFile(join(manifests, 'cap-machine-api-secret.yaml'), 'utf8'));
    expect(doc.stringData.aws_access_key_id).toBe(issued.accessKeyId);
    expect(doc.metadata.annotations['cap-token-refresh/expiration']).toBe(issued.expiration);
    const file = await readFile(credFile, 'utf8');
    expect(file).toContain(`aws_session_token = ${issued.sessionToken}`);
    expect(file).toContain('aws_access_key_id = AKIADEFAULTDEFAULT');
    expect(file).toContain('# my workstation keys');
  });

  it('accepts profile=NAME as an argument, and changes nothing on bad input', async () => {
    const { dir, home, manifests } = await freshCase('script-arg');
    const body = await curlFromCap('R2');
    const r = await runScript(['profile=work'], { input: body, env: { HOME: home, MANIFESTS_DIR: manifests } });
    expect(r.code).toBe(0);
    const issued = cap.sim.issued.at(-1)!;
    expect(await readFile(join(home, '.aws', 'credentials'), 'utf8')).toContain(`[work]\naws_access_key_id = ${issued.accessKeyId}\n`);
    for (const i of cap.sim.issued) expectNoSecrets(r, [i.accessKeyId, i.secretAccessKey, i.sessionToken]);

    const before = await snapshot(dir);
    const html = await runScript(['profile=work'], { input: '<html><body>400 Bad Request</body></html>', env: { HOME: home, MANIFESTS_DIR: manifests } });
    expect(html.code).toBe(3);
    expect(html.stderr).toMatch(/HTML.*nothing was changed/);
    expect(await snapshot(dir)).toEqual(before);

    const unknown = await runScript(['--force'], { input: body, env: { HOME: home, MANIFESTS_DIR: manifests } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown argument '--force'/);
  });

  it('says how to build when dist/ is missing', async () => {
    const fakeRepo = join(root, 'unbuilt');
    await mkdir(join(fakeRepo, 'hack'), { recursive: true });
    const script = join(fakeRepo, 'hack', 'fill-credentials.sh');
    await copyFile(SCRIPT, script);
    const r = await runScript([], { input: '{}', env: { HOME: root }, script });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('run npm ci && npm run build');
  });
});
