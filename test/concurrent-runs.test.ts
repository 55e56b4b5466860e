import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { makeManifestDir, secretManifest, snapshotDir, type SecretManifestSpec } from './support/manifest-dir.js';
import { runCli, type CliResult } from './support/run-cli.js';

// Two refresh runs at once against one manifests folder, started together with a slow CAP
// (1.5 s, longer than a slow process start) so both find every target due: no lost update,
// and no Secret written twice for one due period. Writes are counted with inotify
// (fs.watch): every atomic write is one rename onto the manifest's name.
//
// The same two runs against one cluster, and both places report the Secret the other run
// refreshed first the same way: `fresh`, with the expiration that run wrote.

let cap: CapFixture;
type Report = { targets: { namespace: string; name: string; result: string; expiration: string | null }[] };

/**
 * Each Secret was written by one of the two runs: that run reports it `refreshed`, the other,
 * which found it refreshed first, `fresh`; both with the expiration the Secret now holds.
 */
function expectReportedAlike(runs: CliResult[], stored: Map<string, string>): void {
  const entries = runs.flatMap((r) => (JSON.parse(r.stdout) as Report).targets);
  expect(entries).toHaveLength(2 * stored.size);
  for (const [key, expiration] of stored) {
    const mine = entries.filter((t) => `${t.namespace}/${t.name}` === key);
    expect(mine.map((t) => t.result).sort(), key).toEqual(['fresh', 'refreshed']);
    expect(
      mine.map((t) => t.expiration),
      key,
    ).toEqual([expiration, expiration]);
  }
}

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
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

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
    // The run that came second to a Secret kept the first's credentials and says so: fresh, with the expiration on disk.
    expectReportedAlike(runs, onDisk);

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

describe('two refresh runs at once against one cluster', () => {
  let fixture: ClusterFixture | undefined;
  afterAll(async () => {
    await fixture?.stop();
  });

  it('write each Secret once, and report the one the other run refreshed first as fresh, as on disk', async () => {
    fixture = await startClusterFixture('ctr-concurrent-cluster-');
    const { cap, kube, kubeconfig } = fixture;
    // One Secret per role: a run asks CAP for a role only after reading its Secret.
    const secrets = Array.from({ length: 4 }, (_, i) => ({ namespace: `ns-${i}`, name: 'aws-creds', role: `role-${i}` }));
    for (const s of secrets) {
      kube.putSecret({ metadata: { namespace: s.namespace, name: s.name, annotations: { 'cap-token-refresh/role': s.role } }, type: 'Opaque', data: {} });
    }
    // No Secret is written before both runs asked CAP for every role, so both read every Secret before either writes it.
    let asked = 0;
    let everyoneAsked!: () => void;
    const bothAsked = new Promise<void>((resolve) => (everyoneAsked = resolve));
    cap.sim.onRequest = () => {
      if (++asked === 2 * secrets.length) everyoneAsked();
    };
    kube.onBeforeWrite(async (req) => {
      if (req.resource === 'secrets') await bothAsked;
    });
    const targets = secrets.flatMap((s) => ['--target', `${s.namespace}/${s.name}`]);
    const runs = await Promise.all([0, 1].map(() => runCli(['refresh', '--kubeconfig', kubeconfig, ...targets, '--output', 'json'], { env: cap.env })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

    // Each Secret: one update went through; the other run's met a 409, read the Secret again and left it.
    const updates = kube.requests.filter((r) => r.resource === 'secrets' && r.verb === 'update');
    for (const s of secrets) {
      expect(
        updates
          .filter((u) => u.namespace === s.namespace)
          .map((u) => u.status)
          .sort(),
        s.namespace,
      ).toEqual([200, 409]);
    }
    const stored = new Map<string, string>();
    for (const s of secrets) {
      const secret = kube.getSecret(s.namespace, s.name)!;
      const keyId = Buffer.from((secret.data as Record<string, string>).aws_access_key_id ?? '', 'base64').toString();
      const issued = cap.sim.issued.find((c) => c.accessKeyId === keyId);
      expect(issued, s.namespace).toBeDefined();
      expect(secret.metadata.annotations?.['cap-token-refresh/expiration']).toBe(issued!.expiration);
      stored.set(`${s.namespace}/${s.name}`, issued!.expiration);
    }
    expectReportedAlike(runs, stored);
    // Only the run that wrote a Secret records its CredentialsRefreshed Event.
    const refreshedEvents = kube.listEvents().filter((e) => e.reason === 'CredentialsRefreshed');
    expect(refreshedEvents.map((e) => (e.involvedObject as { namespace: string }).namespace).sort()).toEqual(secrets.map((s) => s.namespace));

    const leaked = cap.sim.issued.flatMap((c) => [c.secretAccessKey, c.sessionToken, c.accessKeyId]);
    for (const r of runs) for (const value of leaked) expect(r.stdout + r.stderr).not.toContain(value);
  });
});
