import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapCredentials } from '../core/credentials.js';
import type { WriteBatch } from '../core/target-store.js';
import { acquireFileLock } from './file-lock.js';
import { createManifestStore, loadManifestTargets } from './manifest-store.js';

// The manifest store against real temporary folders; a failing write is injected where the
// fault (a full disk, a read-only folder) cannot be made for real without root.

const CREDS: CapCredentials = {
  accessKeyId: 'ASIASTORETEST0000001',
  secretAccessKey: 'store/secret+key=',
  sessionToken: 'FwoGstoretoken==',
  expiration: new Date('2030-01-01T01:00:00Z'),
};
const OTHER: CapCredentials = {
  accessKeyId: 'ASIAOTHERRUN00000002',
  secretAccessKey: 'other/secret+key=',
  sessionToken: 'FwoGothertoken==',
  expiration: new Date('2030-01-01T01:00:05Z'),
};
const AT = new Date('2030-01-01T00:00:00Z');
/** Keeps a Secret whose expiration changed since it was loaded, as the engine does for one that is no longer due. */
const keepChanged: WriteBatch['keptExpiration'] = (t, now) => (now.expiration !== t.expiration ? now.expiration : undefined);
const batch = (creds: CapCredentials, keptExpiration = keepChanged): WriteBatch => ({ creds, refreshedAt: AT, issuedRole: 'r1', keptExpiration });
const WRITTEN = { kind: 'written', expiration: '2030-01-01T01:00:00Z', accessKey: '…0001' };

function manifest(name: string, role: string): string {
  return `# ${name}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: ns\n  annotations:\n    cap-token-refresh/role: ${role}\ntype: Opaque\ndata:\n  keep: a2VlcA==\n`;
}

const dirs: string[] = [];
async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ctr-store-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o600 });
  return dir;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function failingWrite(code: string, failFor: string) {
  return async (path: string, content: string) => {
    if (path.endsWith(failFor)) throw Object.assign(new Error(`${code}: injected`), { code });
    await writeFile(path, content);
  };
}

describe('a write that fails', () => {
  it.each([
    ['ENOSPC', /the disk is full while writing .*b\.yaml \(ENOSPC\); free space and run again, the file was left as it was/],
    ['EDQUOT', /the disk is full while writing .*b\.yaml \(EDQUOT\)/],
    ['EROFS', /cannot write .*b\.yaml or its folder \(EROFS\); check the permissions, the file was left as it was/],
    ['EACCES', /cannot write .*b\.yaml or its folder \(EACCES\); check the permissions/],
    ['EIO', /could not write .*b\.yaml \(EIO\); it was left as it was/],
  ])('%s fails that file alone, names it and the cure, and leaves it as it was', async (code, message) => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1'), 'b.yaml': manifest('b', 'r1') });
    const targets = await loadManifestTargets(dir);
    const outcomes = await createManifestStore({ writeFile: failingWrite(code, 'b.yaml') }).write(targets, batch(CREDS));
    expect(outcomes[0]).toEqual(WRITTEN);
    expect(outcomes[1]).toMatchObject({ kind: 'failed', error: expect.stringMatching(message) });
    expect(JSON.stringify(outcomes)).not.toContain(CREDS.secretAccessKey);
    expect(await readFile(join(dir, 'b.yaml'), 'utf8')).toBe(manifest('b', 'r1'));
    expect(parse(await readFile(join(dir, 'a.yaml'), 'utf8')).stringData.aws_access_key_id).toBe(CREDS.accessKeyId);
    // The lock files are gone again.
    expect((await readdir(dir)).sort()).toEqual(['a.yaml', 'b.yaml']);
  });
});

describe('another run in between', () => {
  it('keeps what another run wrote after this one loaded the targets, and writes nothing', async () => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1') });
    const mine = await loadManifestTargets(dir);
    const theirs = await loadManifestTargets(dir);
    expect(await createManifestStore().write(theirs, batch(OTHER))).toEqual([{ kind: 'written', expiration: '2030-01-01T01:00:05Z', accessKey: '…0002' }]);
    const afterTheirs = await readFile(join(dir, 'a.yaml'), 'utf8');
    // This run's credentials arrive later: the engine keeps what the file holds now, and nothing is written.
    const asked: string[] = [];
    const judge: WriteBatch['keptExpiration'] = (t, now) => {
      asked.push(`${t.expiration ?? 'none'} -> ${now.expiration}`);
      return keepChanged(t, now);
    };
    expect(await createManifestStore().write(mine, batch(CREDS, judge))).toEqual([{ kind: 'kept', expiration: '2030-01-01T01:00:05Z' }]);
    expect(asked).toEqual(['none -> 2030-01-01T01:00:05Z']);
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe(afterTheirs);
  });

  it('writes over what another run wrote when the engine says it is still due', async () => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1') });
    const mine = await loadManifestTargets(dir);
    await createManifestStore().write(await loadManifestTargets(dir), batch(OTHER));
    expect(
      await createManifestStore().write(
        mine,
        batch(CREDS, () => undefined),
      ),
    ).toEqual([WRITTEN]);
    expect(parse(await readFile(join(dir, 'a.yaml'), 'utf8')).stringData.aws_access_key_id).toBe(CREDS.accessKeyId);
  });

  it('edits the file as it is now, so two Secrets of one file written by two runs both stay', async () => {
    const dir = await folder({ 'two.yaml': `${manifest('a', 'r1')}---\n${manifest('b', 'r2')}` });
    const [a, b] = await loadManifestTargets(dir);
    await createManifestStore().write([a!], batch(CREDS));
    await createManifestStore().write([b!], batch(OTHER));
    const docs = (await readFile(join(dir, 'two.yaml'), 'utf8')).split(/^---\n/m).map((d) => parse(d));
    expect(docs.map((d) => d.stringData.aws_access_key_id)).toEqual([CREDS.accessKeyId, OTHER.accessKeyId]);
  });

  it('fails a Secret whose role annotation changed since it was loaded, as in a cluster, and leaves the file as it is', async () => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1') });
    const targets = await loadManifestTargets(dir);
    // Edited to another role meanwhile: r1's credentials must not go into a Secret that now names r2.
    await writeFile(join(dir, 'a.yaml'), manifest('a', 'r2'));
    expect(await createManifestStore().write(targets, batch(CREDS))).toEqual([
      {
        kind: 'failed',
        error:
          'the cap-token-refresh/role annotation of Secret ns/a changed while it was being refreshed (now "r2"); it was left as it is, the next run uses the new annotation',
      },
    ]);
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe(manifest('a', 'r2'));
  });

  it('fill (no issued role: one response for every Secret) still writes a Secret whose role annotation changed meanwhile', async () => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1') });
    const targets = await loadManifestTargets(dir);
    await writeFile(join(dir, 'a.yaml'), manifest('a', 'r2'));
    const { issuedRole: _, ...fill } = batch(CREDS, () => undefined);
    expect(await createManifestStore().write(targets, fill)).toEqual([WRITTEN]);
    const doc = parse(await readFile(join(dir, 'a.yaml'), 'utf8'));
    expect([doc.metadata.annotations['cap-token-refresh/role'], doc.stringData.aws_access_key_id]).toEqual(['r2', CREDS.accessKeyId]);
  });

  it('fails a Secret that left the file since it was loaded', async () => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1') });
    const targets = await loadManifestTargets(dir);
    await writeFile(join(dir, 'a.yaml'), manifest('renamed', 'r1'));
    expect(await createManifestStore().write(targets, batch(CREDS))).toEqual([
      { kind: 'failed', error: expect.stringMatching(/the Secret ns\/a is no longer in .*a\.yaml; the file was left as it was/) },
    ]);
  });
});

describe('the lock beside each file', () => {
  it('waits for a live holder, and names it when the wait runs out', async () => {
    const dir = await folder({ 'a.yaml': manifest('a', 'r1') });
    const targets = await loadManifestTargets(dir);
    const release = await acquireFileLock(join(dir, '.a.yaml.lock'));
    const outcomes = await createManifestStore({ lock: { timeoutMs: 200 } }).write(targets, batch(CREDS));
    expect(outcomes[0]).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(
        new RegExp(`another cap-token-refresh run \\(pid ${process.pid}\\) kept the lock .*\\.a\\.yaml\\.lock; wait for it to finish, or delete`),
      ),
    });
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe(manifest('a', 'r1'));
    // Released, the next write goes through.
    const write = createManifestStore().write(targets, batch(CREDS));
    await release();
    expect(await write).toEqual([WRITTEN]);
  });

  it('breaks a lock whose process is gone, and one that is empty and old', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const dir = await folder({ 'a.yaml': manifest('a', 'r1'), 'b.yaml': manifest('b', 'r1') });
    const { hostname } = await import('node:os');
    await writeFile(join(dir, '.a.yaml.lock'), JSON.stringify({ pid: deadPid, host: hostname(), at: Date.now(), token: 'x' }));
    await writeFile(join(dir, '.b.yaml.lock'), '');
    await utimes(join(dir, '.b.yaml.lock'), new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    const outcomes = await createManifestStore({ lock: { timeoutMs: 3000 } }).write(await loadManifestTargets(dir), batch(CREDS));
    expect(outcomes.map((o) => o.kind)).toEqual(['written', 'written']);
    expect((await readdir(dir)).sort()).toEqual(['a.yaml', 'b.yaml']);
  });
});

describe('leftovers of a killed run', () => {
  it('removes temporaries older than a minute before the first write, and keeps younger ones', async () => {
    const dir = await folder({
      'a.yaml': manifest('a', 'r1'),
      '.a.yaml.0123456789ab.tmp': 'half a fi',
      '.b.yaml.ba9876543210.tmp': 'young',
      '.notes.tmp': 'not ours',
    });
    const old = new Date(Date.now() - 120_000);
    await utimes(join(dir, '.a.yaml.0123456789ab.tmp'), old, old);
    await utimes(join(dir, '.notes.tmp'), old, old);
    await createManifestStore().write(await loadManifestTargets(dir), batch(CREDS));
    expect((await readdir(dir)).sort()).toEqual(['.b.yaml.ba9876543210.tmp', '.notes.tmp', 'a.yaml']);
  });
});
