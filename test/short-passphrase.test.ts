import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs12, encryptKeyPem } from '../src/sim/pki.js';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { makeManifestDir } from './support/manifest-dir.js';
import { runCli, type CliResult } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';

// A 3-character passphrase is a secret like any other: the redactor guards stdout and
// stderr whatever the length of a registered value (it used to skip values under 6
// characters). Each passphrase below is also planted in the path of a file the command
// names in its messages, so a leak would show in the output, not only in theory.

const KEY_PASS = 'q%7';
const WRONG_KEY_PASS = 'w%8';
const P12_PASS = 'p%3';
const WRONG_P12_PASS = 'x%5';
const PLANTED = [KEY_PASS, WRONG_KEY_PASS, P12_PASS, WRONG_P12_PASS];

let cap: CapFixture;
let work: string;
const outputs: CliResult[] = [];
const ROLES = [{ file: 'a.yaml', namespace: 'ns-a', name: 'creds-a', role: 'role-one' }];

async function run(args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env: { ...cap.env, CAP_CERT_FILE: '', CAP_KEY_FILE: '' } });
  outputs.push(r);
  return r;
}

/** Writes `content` to `name` inside a folder named after `secret`. */
async function plant(secret: string, name: string, content: string | Buffer): Promise<string> {
  const dir = join(work, `in-${secret}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  cap = await startCapFixture();
  work = await makeTempDir('ctr-short-pass-');
});
afterAll(async () => {
  await cap.stop();
  await rm(work, { recursive: true, force: true });
});

describe('a 3-character passphrase', () => {
  it('decrypts an encrypted PEM key, and the refresh prints it nowhere', async () => {
    const key = await plant(KEY_PASS, 'client.key', encryptKeyPem(cap.pki.client.keyPem, KEY_PASS));
    const pass = await plant(KEY_PASS, 'passphrase', `${KEY_PASS}\n`);
    const dir = await makeManifestDir(ROLES);
    try {
      const r = await run(['refresh', '--manifests', dir, '--cert', cap.files.cert, '--key', key, '--key-passphrase-file', pass, '--log-level', 'debug']);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('refreshed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('that is wrong for the key is named by its file, whose path is redacted where it holds the passphrase', async () => {
    const key = await plant(WRONG_KEY_PASS, 'client.key', encryptKeyPem(cap.pki.client.keyPem, KEY_PASS));
    const pass = await plant(WRONG_KEY_PASS, 'passphrase', `${WRONG_KEY_PASS}\n`);
    const dir = await makeManifestDir(ROLES);
    try {
      const r = await run(['refresh', '--manifests', dir, '--cert', cap.files.cert, '--key', key, '--key-passphrase-file', pass]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('does not decrypt the key');
      // The message names the passphrase file; the folder named after the passphrase is redacted.
      expect(r.stderr).toContain('in-[REDACTED]/passphrase does not decrypt the key');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens a PKCS#12 bundle, and a wrong one is reported without it', async () => {
    const p12 = await plant(P12_PASS, 'client.p12', createPkcs12(cap.pki.client, P12_PASS));
    const pass = await plant(P12_PASS, 'passphrase', `${P12_PASS}\n`);
    const dir = await makeManifestDir(ROLES);
    try {
      const ok = await run(['refresh', '--manifests', dir, '--pkcs12', p12, '--pkcs12-passphrase-file', pass, '--force']);
      expect(ok.stderr).not.toMatch(/error/i);
      expect(ok.code).toBe(0);
      const wrong = await plant(WRONG_P12_PASS, 'passphrase', `${WRONG_P12_PASS}\n`);
      const wrongP12 = await plant(WRONG_P12_PASS, 'client.p12', createPkcs12(cap.pki.client, P12_PASS));
      const bad = await run(['refresh', '--manifests', dir, '--pkcs12', wrongP12, '--pkcs12-passphrase-file', wrong]);
      expect(bad.code).toBe(3);
      expect(bad.stderr).toContain('wrong passphrase');
      expect(bad.stderr).toContain('in-[REDACTED]/client.p12');
      const shown = await run(['status', '--manifests', dir, '--pkcs12', p12, '--pkcs12-passphrase-file', pass]);
      expect(shown.stderr).not.toMatch(/error/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('appears in no output of this file', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(5);
    const text = JSON.stringify(outputs);
    for (const p of PLANTED) expect(text).not.toContain(p);
  });
});
