// The files a write keeps beside a manifest (issue 13, should fix): its lock and temporary.
// A manifest whose name is 250 characters long is refreshed like any other (today's
// `.NAME.lock` would be 256 bytes: ENAMETOOLONG on every run), a dead run's lock of it is
// still cleaned up; and a write that fails on a full disk removes its lock on the way out.

import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { fillFilesystem, mountSmallFilesystem } from './support/disk-faults.js';
import { makeManifestDir, secretManifest } from './support/manifest-dir.js';
import { runCli } from './support/run-cli.js';

let cap: CapFixture;

beforeAll(async () => {
  cap = await startCapFixture();
});

afterAll(async () => {
  await cap?.stop();
});

type Report = { targets: { name: string; result: string; error?: string }[] };

const LONG = `${'m'.repeat(245)}.yaml`;

it('a manifest with a 250-character file name is refreshed, leaves nothing beside it, and is fresh the next time', async () => {
  expect(LONG).toHaveLength(250);
  const dir = await makeManifestDir([
    { file: LONG, namespace: 'ns-long', name: 'creds-long', role: 'role-long' },
    { file: 'short.yaml', namespace: 'ns-short', name: 'creds-short', role: 'role-short' },
  ]);
  const r = await runCli(['refresh', '--manifests', dir, '--output', 'json'], { env: cap.env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect((JSON.parse(r.stdout) as Report).targets.map((t) => [t.name, t.result])).toEqual([
    ['creds-long', 'refreshed'],
    ['creds-short', 'refreshed'],
  ]);
  const written = parse(await readFile(join(dir, LONG), 'utf8'));
  expect(cap.sim.issued.some((c) => c.accessKeyId === written.stringData.aws_access_key_id)).toBe(true);
  expect((await readdir(dir)).sort()).toEqual([LONG, 'short.yaml'].sort());

  const again = await runCli(['refresh', '--manifests', dir, '--output', 'json'], { env: cap.env });
  expect(again.code).toBe(0);
  expect((JSON.parse(again.stdout) as Report).targets.map((t) => t.result)).toEqual(['fresh', 'fresh']);
});

it("a dead run's lock of a 250-character manifest is removed by the next run", async () => {
  const dir = await makeManifestDir([{ file: LONG, namespace: 'ns-long', name: 'creds-long', role: 'role-long' }]);
  // The lock a killed run left: the hashed name (the readable one does not fit), a pid that is gone.
  const lock = join(dir, `.h-${createHash('sha256').update(LONG).digest('hex').slice(0, 32)}.lock`);
  await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 7, host: (await import('node:os')).hostname(), at: Date.now() - 3_600_000, token: 'dead' }));
  const r = await runCli(['refresh', '--manifests', dir, '--output', 'json'], { env: cap.env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect((JSON.parse(r.stdout) as Report).targets.map((t) => t.result)).toEqual(['refreshed']);
  expect(await readdir(dir)).toEqual([LONG]);
});

it('a write that fails on a full disk removes its lock file too', async (ctx) => {
  const fs = await mountSmallFilesystem(256);
  if (!fs) return ctx.skip('mount -t tmpfs is not allowed here');
  try {
    await writeFile(join(fs.dir, 'full.yaml'), secretManifest({ file: 'full.yaml', namespace: 'ns', name: 'creds-full', role: 'role-full' }), { mode: 0o600 });
    // Not a byte left: the lock file can be created (an inode) but not written.
    const fillers = await fillFilesystem(fs.dir);
    const before = await readFile(join(fs.dir, 'full.yaml'), 'utf8');
    const r = await runCli(['refresh', '--manifests', fs.dir, '--output', 'json'], { env: cap.env });
    expect(r.code).toBe(1);
    const [t] = (JSON.parse(r.stdout) as Report).targets;
    expect(t!.result).toBe('failed');
    expect(t!.error).toMatch(/the disk is full while writing .*full\.yaml \(ENOSPC\)/);
    expect(await readFile(join(fs.dir, 'full.yaml'), 'utf8')).toBe(before);
    const left = (await readdir(fs.dir)).filter((n) => !n.startsWith('.filler-'));
    expect(left).toEqual(['full.yaml']);
    expect(fillers.length).toBeGreaterThan(0);
  } finally {
    await fs.unmount();
  }
});
