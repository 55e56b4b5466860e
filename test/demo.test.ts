import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';

describe('cap-token-refresh demo', () => {
  it('refreshes the sample manifests over mTLS, then finds them fresh, and prints no secret', async () => {
    const r = await runCli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/ refreshed {2}/g)).toHaveLength(6);
    expect(r.stdout.match(/ fresh {2}/g)).toHaveLength(6);
    expect(r.stdout).toContain('CAP calls: 6 on the first run (one per role), 0 on the second.');

    const dir = /^Demo folder: (.+)$/m.exec(r.stdout)![1]!;
    const manifests = join(dir, 'manifests');
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
    const keyPem = await readFile(join(dir, 'pki', 'client.key'), 'utf8');
    expect(r.stdout + r.stderr).not.toContain(keyPem.split('\n')[1]!);
    await rm(dir, { recursive: true });
  });
});
