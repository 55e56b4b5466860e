// `fill` with input it must not trust (issue 13, should fix): a credentials file that is not
// an INI file (binary, NUL bytes, a passwd-like file) is refused with exit 3 and left byte
// for byte and mtime as it was; standard input larger than a CAP response may be is refused
// with a clear error, nothing written, read by a real spawned process.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT, runCli, tmpdirEnv, type CliResult } from './support/run-cli.js';
import { makeManifestDir, snapshotDir } from './support/manifest-dir.js';
import { makeTestTempDir } from './support/temp-dir.js';

function capBody(): { body: string; secrets: string[] } {
  const c = {
    AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    SecretAccessKey: randomBytes(30).toString('base64'),
    SessionToken: `FwoGZXIvYXdzE${randomBytes(60).toString('base64')}`,
    Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return { body: JSON.stringify({ Credentials: c }), secrets: [c.AccessKeyId, c.SecretAccessKey, c.SessionToken] };
}

function expectNoSecret(r: CliResult, secrets: string[]): void {
  for (const s of secrets) expect(`${r.stdout}${r.stderr}`).not.toContain(s);
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'svc-secret-holder:x:999:999::/home/svc:/bin/sh',
  '',
].join('\n');

describe('fill --profile on a credentials file that is not an INI file', () => {
  it.each([
    ['binary with NUL bytes', Buffer.concat([Buffer.from('[default]\naws_access_key_id = AKIAEXAMPLE\n'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 10])])],
    ['random bytes', randomBytes(4096)],
    ['a passwd file', Buffer.from(PASSWD)],
    ['an ELF header', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)])],
    ['a key line outside any section', Buffer.from('aws_access_key_id = AKIAEXAMPLE\n[default]\nregion = us-iso-east-1\n')],
  ])('%s: exit 3, the file untouched (bytes and mtime), no manifest written', async (_what, content) => {
    const home = await makeTestTempDir('ctr-fill-ini-');
    const file = join(home, 'not-credentials');
    await writeFile(file, content, { mode: 0o600 });
    const old = new Date(Date.now() - 86_400_000);
    await utimes(file, old, old);
    const before = await stat(file);
    const manifests = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'creds', role: 'role-a' }]);
    const manifestsBefore = await snapshotDir(manifests);
    const { body, secrets } = capBody();

    const r = await runCli(['fill', '--manifests', manifests, '--profile', 'cap'], { input: body, env: { HOME: home, AWS_SHARED_CREDENTIALS_FILE: file } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/the AWS credentials file .*not-credentials is not an INI file \(.*\), so no profile was added to it/);
    expect(r.stderr).toContain('nothing was changed');
    expect(r.stderr).not.toContain('svc-secret-holder');
    expectNoSecret(r, secrets);
    expect(Buffer.compare(await readFile(file), content)).toBe(0);
    const after = await stat(file);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.size).toBe(before.size);
    expect(await snapshotDir(manifests)).toEqual(manifestsBefore);
  });

  it('a real credentials file with comments, sub-sections and CRLF is still updated', async () => {
    const home = await makeTestTempDir('ctr-fill-ini-ok-');
    const file = join(home, 'credentials');
    const text =
      '# mine\r\n[default]\r\naws_access_key_id = AKIAOLD\r\ns3 =\r\n  max_concurrent_requests = 20\r\n\r\n; cap\r\n[cap]\r\nregion = us-iso-east-1\r\n';
    await writeFile(file, text, { mode: 0o600 });
    const manifests = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'creds', role: 'role-a' }]);
    const r = await runCli(['fill', '--manifests', manifests, '--profile', 'cap'], {
      input: capBody().body,
      env: { HOME: home, AWS_SHARED_CREDENTIALS_FILE: file },
    });
    expect(r.code, r.stderr).toBe(0);
    const after = await readFile(file, 'utf8');
    expect(after.startsWith(text.slice(0, text.indexOf('[cap]')))).toBe(true);
    expect(after).toMatch(/\[cap\]\r\nregion = us-iso-east-1\r\naws_access_key_id = ASIA/);
  });

  it('a FIFO as the credentials file is refused (exit 3) instead of blocking', async (ctx) => {
    const home = await makeTestTempDir('ctr-fill-fifo-');
    const fifo = join(home, 'credentials');
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return ctx.skip('mkfifo is not available');
    const manifests = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'creds', role: 'role-a' }]);
    const manifestsBefore = await snapshotDir(manifests);
    const r = await runCli(['fill', '--manifests', manifests, '--profile', 'cap'], {
      input: capBody().body,
      env: { HOME: home, AWS_SHARED_CREDENTIALS_FILE: fifo },
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('is not a regular file');
    expect(await snapshotDir(manifests)).toEqual(manifestsBefore);
  });
});

/** Runs fill in a real child process, writing INPUT to its stdin however early it stops reading. */
function runFill(args: string[], input: Buffer, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...tmpdirEnv(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The command stops reading at its cap: the rest of the write fails with EPIPE, as a pipe's writer sees it.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

describe('fill: standard input is capped as a CAP response is', () => {
  it('a valid answer followed by 8 MiB of blanks (valid JSON, far too large) is refused: exit 3, nothing written', async () => {
    const home = await makeTestTempDir('ctr-fill-stdin-');
    await mkdir(join(home, '.aws'), { mode: 0o700 });
    const manifests = await makeManifestDir([
      { file: 'a.yaml', namespace: 'ns', name: 'creds-a', role: 'role-a' },
      { file: 'b.yaml', namespace: 'ns', name: 'creds-b', role: 'role-b' },
    ]);
    const before = await snapshotDir(manifests);
    const { body, secrets } = capBody();
    const input = Buffer.concat([Buffer.from(body), Buffer.alloc(8 * 1024 * 1024, ' ')]);
    const r = await runFill(['fill', '--manifests', manifests, '--profile', 'cap'], input, { HOME: home });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('error: standard input is larger than 64 KiB, the most a CAP response may be');
    expect(r.stderr).toContain('nothing was changed');
    expectNoSecret(r, secrets);
    expect(await snapshotDir(manifests)).toEqual(before);
    await expect(stat(join(home, '.aws', 'credentials'))).rejects.toThrow();
  });

  it('an answer just under the cap (padded to 60 KiB) is still taken', async () => {
    const home = await makeTestTempDir('ctr-fill-stdin-ok-');
    const manifests = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'creds-a', role: 'role-a' }]);
    const { body } = capBody();
    const input = Buffer.concat([Buffer.from(body), Buffer.alloc(60 * 1024 - body.length, ' ')]);
    const r = await runFill(['fill', '--manifests', manifests], input, { HOME: home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Wrote 1 Secret manifest(s)');
  });
});
