import { access, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';
import { makeTestTempDir, removeAtEnd } from './support/temp-dir.js';

describe('cap-token-refresh demo', () => {
  it('refreshes the sample manifests over mTLS, then finds them fresh, prints no secret, and removes its PKI', async () => {
    const r = await runCli(['demo']);
    const dir = /^Demo folder: (.+)$/m.exec(r.stdout)?.[1];
    if (dir) removeAtEnd(dir);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/ refreshed {2}/g)).toHaveLength(6);
    expect(r.stdout.match(/ fresh {2}/g)).toHaveLength(6);
    expect(r.stdout).toContain('CAP calls: 6 on the first run (one per role), 0 on the second.');

    // The PKI is gone; the last lines say where the manifests it keeps are.
    const manifests = join(dir!, 'manifests');
    await expect(access(join(dir!, 'pki'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(r.stdout).toContain(`The throwaway PKI (${join(dir!, 'pki')}) is removed. The manifests stay in ${manifests} `);
    expect(r.stdout.trimEnd().endsWith(`remove them with: rm -r ${dir}`)).toBe(true);

    const files = (await readdir(manifests)).sort();
    expect(files).toContain('cap-machine-api-secret.yaml');
    expect(files).toHaveLength(6);
    for (const f of files) {
      const path = join(manifests, f);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const secret = parse(await readFile(path, 'utf8'));
      const { aws_access_key_id: id, aws_secret_access_key: key, credentials } = secret.stringData;
      expect(id).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(credentials).toMatch(/aws_session_token = \S+/);
      const token = /aws_session_token = (\S+)/.exec(credentials)![1]!;
      for (const s of [id, key, token]) {
        expect(r.stdout).not.toContain(s);
        expect(r.stderr).not.toContain(s);
      }
    }
    // No private key of the throwaway PKI in any output.
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY|MII[A-Za-z0-9+/]{20}/);
  });

  it('exits 3 and names TMPDIR when the temporary directory cannot be written', async () => {
    const missing = join(await makeTestTempDir('demo-tmpdir-'), 'no-such-folder');
    const r = await runCli(['demo'], { env: { TMPDIR: missing } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`the demo cannot make its folder in the temporary directory ${missing} (ENOENT); set TMPDIR to a folder you can write to`);
    expect(r.stdout).toBe('');
  });
});
