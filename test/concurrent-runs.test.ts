import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { makeManifestDir, secretManifest, snapshotDir, type SecretManifestSpec } from './support/manifest-dir.js';
import { runCli, type CliResult } from './support/run-cli.js';

// Two refresh runs at once against one manifests folder, started together with a slow CAP
// (1.5 s, longer than a slow process start) so both find every target due: no lost update,
// and no Secret written twice for one due period. Writes are counted with inotify
// (fs.watch): every atomic write is one rename onto the manifest's name.

let cap: CapFixture;
type Report = { targets: { namespace: string; name: string; result: string; expiration: string | null }[] };

beforeAll(async () => {
  cap = await startCapFixture();
});
afterAll(async () => {
  await cap.stop();
});

const SINGLE: SecretManifestSpec[] = Array.from({ length: 10 }, (_, i) => ({
  file: `s${i}.yaml`,
  namespace: `ns-${i}`,
  name: `creds-${i}`,
  role: `role-${i % 5}`,
}));
/** One file, two Secrets of two roles: the case where one run's write could drop the other's. */
const PAIR = [
  { file: 'pair.yaml', namespace: 'ns-pair', name: 'first', role: 'role-x' },
  { file: 'pair.yaml', namespace: 'ns-pair', name: 'second', role: 'role-y' },
];

/**
 * Counts the renames onto each manifest (each one is a completed write). barrier() resolves
 * once every event before it has been delivered: inotify keeps events in order, so when the
 * creation of a marker file is seen, every earlier rename has been counted. The marker is
 * then removed again.
 */
function countRenames(dir: string): { counts: Map<string, number>; watcher: FSWatcher; barrier(): Promise<void> } {
  const counts = new Map<string, number>();
  const marker = '.events-barrier';
  let markerSeen: (() => void) | undefined;
  const watcher = watch(dir, (event, name) => {
    if (name === marker) markerSeen?.();
    else if (event === 'rename' && name && !name.startsWith('.')) counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  const barrier = async () => {
    const seen = new Promise<void>((resolve) => (markerSeen = resolve));
    await writeFile(join(dir, marker), '');
    await seen;
    markerSeen = undefined;
    await rm(join(dir, marker));
  };
  return { counts, watcher, barrier };
}

describe('two refresh runs at once against one manifests folder', () => {
  it('end with every Secret holding one complete set, each written once', async () => {
    const dir = await makeManifestDir(SINGLE);
    await writeFile(join(dir, 'pair.yaml'), PAIR.map((p) => secretManifest(p)).join('---\n'), { mode: 0o600 });
    const original = await snapshotDir(dir);
    const callsBefore = cap.sim.calls.length;
    cap.sim.setDelay(1500);
    const { counts, watcher, barrier } = countRenames(dir);
    let runs: CliResult[];
    try {
      runs = await Promise.all([0, 1].map(() => runCli(['refresh', '--manifests', dir, '--output', 'json'], { env: cap.env })));
      await barrier(); // every inotify event of the runs has arrived
    } finally {
      watcher.close();
      cap.sim.setDelay(0);
    }

    // Both runs found all 7 roles due and asked CAP: they really overlapped.
    expect(cap.sim.calls.length - callsBefore).toBe(14);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as Report).targets.map((t) => t.result)).toEqual(Array(12).fill('refreshed'));
    }

    // No lost update: every Secret (both in pair.yaml too) holds one complete issued set.
    const final = await snapshotDir(dir);
    expect(Object.keys(final)).toEqual(Object.keys(original)); // no lock or temporary left
    const onDisk = new Map<string, string>();
    for (const file of Object.keys(original)) {
      for (const doc of parseAllDocuments(final[file]!).map((d) => (d as unknown as { toJS(): any }).toJS())) {
        const issued = cap.sim.issued.find((c) => c.accessKeyId === doc.stringData?.aws_access_key_id);
        expect(issued, `${file} ${doc.metadata.name}`).toBeDefined();
        expect(doc.stringData.aws_secret_access_key).toBe(issued!.secretAccessKey);
        expect(doc.stringData.credentials).toContain(`aws_session_token = ${issued!.sessionToken}\n`);
        expect(doc.metadata.annotations['cap-token-refresh/expiration']).toBe(issued!.expiration);
        expect(doc.data).toEqual({ 'keep-me': 'a2VlcA==' });
        onDisk.set(`${doc.metadata.namespace}/${doc.metadata.name}`, issued!.expiration);
      }
    }
    expect(onDisk.size).toBe(12);
    // Both reports give the expiration that is on disk: the run that came second kept the first's.
    for (const r of runs) {
      for (const t of (JSON.parse(r.stdout) as Report).targets) expect(t.expiration).toBe(onDisk.get(`${t.namespace}/${t.name}`));
    }

    // Written once per Secret: one rename per single file, two for pair.yaml (one per role).
    expect(Object.fromEntries(counts)).toEqual({ ...Object.fromEntries(SINGLE.map((s) => [s.file, 1])), 'pair.yaml': 2 });

    // A third run finds everything fresh and writes nothing.
    const third = await runCli(['refresh', '--manifests', dir, '--output', 'json'], { env: cap.env });
    expect((JSON.parse(third.stdout) as Report).targets.every((t) => t.result === 'fresh')).toBe(true);
    expect(await snapshotDir(dir)).toEqual(final);

    const secrets = [...cap.sim.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]), KEY_PASSPHRASE, P12_PASSPHRASE];
    for (const r of [...runs, third]) for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
    expect(await readFile(join(dir, 'pair.yaml'), 'utf8')).toMatch(/^# first: managed by cap-token-refresh\n/);
  });
});
