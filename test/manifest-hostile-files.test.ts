import { execFileSync } from 'node:child_process';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { makeManifestDir, secretManifest } from './support/manifest-dir.js';
import { runInProcess } from './support/run-in-process.js';

// A FIFO, a device or an oversized file in the manifests folder fails alone, named, and
// neither hangs the run nor holds up the other targets.

let cap: CapFixture;
let dir: string;

beforeAll(async () => {
  cap = await startCapFixture();
  dir = await makeManifestDir([{ file: 'good.yaml', namespace: 'ns', name: 'good', role: 'role-good' }]);
  execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
  await symlink('/dev/zero', join(dir, 'zero.yaml'));
  // A valid Secret manifest just over 1 MiB: refused before parsing.
  const big = `${secretManifest({ file: 'big.yaml', namespace: 'ns', name: 'big', role: 'role-big' })}  padding: ${'A'.repeat(1024 * 1024)}\n`;
  await writeFile(join(dir, 'big.yaml'), big, { mode: 0o600 });
});
afterAll(async () => {
  await cap?.stop();
  await rm(dir, { recursive: true, force: true });
});

type Report = { targets: { name: string; result?: string; error?: string; problem?: string }[] };

describe('non-regular and oversized manifest files', () => {
  it('refresh reads only regular files of at most 1 MiB; the rest fail alone with their names', async () => {
    const r = await runInProcess(['refresh', '--manifests', dir, '--output', 'json'], { env: cap.env });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    const good = report.targets.find((t) => t.name === 'good');
    expect(good?.result).toBe('refreshed');
    const errors = report.targets.filter((t) => t.name !== 'good').map((t) => t.error ?? '');
    expect(errors.find((e) => e.includes('pipe.yaml'))).toMatch(/is a FIFO, not a regular file/);
    expect(errors.find((e) => e.includes('zero.yaml'))).toMatch(/leads to a character device/);
    expect(errors.find((e) => e.includes('big.yaml'))).toMatch(/larger than a Kubernetes Secret can be \(1 MiB\)/);
    expect(cap.sim.calls.map((c) => c.role)).not.toContain('role-big');
  });

  it('status does not hang either, and names each file', async () => {
    const r = await runInProcess(['status', '--manifests', dir, '--output', 'json'], { env: cap.env });
    expect(r.stdout + r.stderr).toMatch(/pipe\.yaml is a FIFO/);
    expect(r.stdout + r.stderr).toMatch(/zero\.yaml leads to a character device/);
    expect(r.stdout + r.stderr).toMatch(/big\.yaml is over 1 MiB|big\.yaml is 1\.\d MiB/);
  });
});
