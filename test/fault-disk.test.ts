import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { chmod, copyFile, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { fillFilesystem, makeFileImmutable, makeFolderReadOnly, mountSmallFilesystem, type Fault } from './support/disk-faults.js';
import { makeManifestDir, secretManifest, snapshotDir, type SecretManifestSpec } from './support/manifest-dir.js';
import { BIN, runCli, type CliResult } from './support/run-cli.js';

// The disk rows of the fault matrix, end to end through the built command. For every fault
// three checks: the right targets end refreshed and the others byte-identical; the message
// names the target and the cure; no secret appears in any output.

let cap: CapFixture;
const outputs: CliResult[] = [];
type Report = { targets: { namespace: string; name: string; role: string; result: string; expiration: string | null; error?: string; file?: string }[] };

async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { env: { ...cap.env, ...env } });
  outputs.push(result);
  return result;
}
const report = (r: CliResult) => JSON.parse(r.stdout) as Report;

function secrets(): string[] {
  return [
    ...cap.sim.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
    KEY_PASSPHRASE,
    P12_PASSPHRASE,
    ...cap.pki.client.keyPem.split('\n').filter((l) => l.length > 20),
  ];
}
function expectNoSecret(r: CliResult): void {
  for (const s of secrets()) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/** The file holds one complete set CAP issued: both keys, the INI with the token, the matching expiration. */
async function expectRefreshed(path: string): Promise<void> {
  const obj = parse(await readFile(path, 'utf8'));
  const issued = cap.sim.issued.find((c) => c.accessKeyId === obj.stringData?.aws_access_key_id);
  expect(issued, path).toBeDefined();
  expect(obj.stringData.aws_secret_access_key).toBe(issued!.secretAccessKey);
  expect(obj.stringData.credentials).toBe(
    `[default]\naws_access_key_id = ${issued!.accessKeyId}\naws_secret_access_key = ${issued!.secretAccessKey}\naws_session_token = ${issued!.sessionToken}\n`,
  );
  expect(obj.metadata.annotations['cap-token-refresh/expiration']).toBe(issued!.expiration);
  expect(obj.metadata.labels['cap-token-refresh/managed']).toBe('true');
  expect(obj.data).toEqual({ 'keep-me': 'a2VlcA==' });
}

const spec = (file: string, role: string): SecretManifestSpec => ({ file, namespace: `ns-${file.split('.')[0]}`, name: `creds-${file.split('.')[0]}`, role });

beforeAll(async () => {
  cap = await startCapFixture();
});
afterAll(async () => {
  await cap.stop();
});

describe('disk faults', () => {
  it('a manifest that does not parse, or whose stringData is not a map, fails alone and stays byte for byte', async () => {
    const dir = await makeManifestDir([spec('a.yaml', 'role-a'), spec('b.yaml', 'role-b')]);
    const broken = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: broken\n  annotations:\n    cap-token-refresh/role: r\n   bad: indent\n';
    const wrongShape = secretManifest(spec('w.yaml', 'role-w')).replace('type: Opaque\n', 'type: Opaque\nstringData: "not a map"\n');
    await writeFile(join(dir, 'broken.yaml'), broken);
    await writeFile(join(dir, 'w.yaml'), wrongShape);
    const before = await snapshotDir(dir);

    const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(r.code).toBe(1);
    const t = report(r).targets;
    expect(t.map((x) => [x.name.replace(/^.*\//, ''), x.result])).toEqual([
      ['creds-a', 'refreshed'],
      ['creds-b', 'refreshed'],
      ['broken.yaml', 'failed'],
      ['w.yaml', 'failed'],
    ]);
    expect(t[2]!.error).toMatch(/broken\.yaml was left untouched: it is not valid YAML \(line \d\): \w+; fix the file and run again/);
    expect(t[3]!.error).toMatch(/w\.yaml was left untouched: stringData of the Secret ns-w\/creds-w is not a map; fix the file and run again/);
    await expectRefreshed(join(dir, 'a.yaml'));
    await expectRefreshed(join(dir, 'b.yaml'));
    const after = await snapshotDir(dir);
    expect(after['broken.yaml']).toBe(before['broken.yaml']);
    expect(after['w.yaml']).toBe(before['w.yaml']);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expectNoSecret(r);
  });

  it('a read-only folder fails every target in it with the folder named and the cure, and changes nothing', async (ctx) => {
    const specs = [spec('a.yaml', 'role-a'), spec('b.yaml', 'role-b')];
    let dir = await makeManifestDir(specs);
    let fault: Fault | undefined = await makeFolderReadOnly(dir);
    let fs: Awaited<ReturnType<typeof mountSmallFilesystem>>;
    if (!fault) {
      // chattr does not work on this filesystem: a read-only tmpfs, if mount is allowed.
      fs = await mountSmallFilesystem(256);
      if (!fs)
        return ctx.skip('neither chmod (as root), chattr +i nor mount can make a folder read-only here; src/disk/manifest-store.test.ts injects EROFS instead');
      dir = fs.dir;
      for (const s of specs) await writeFile(join(dir, s.file), secretManifest(s), { mode: 0o600 });
      if (!fs.remountReadOnly()) {
        await fs.unmount();
        return ctx.skip('cannot remount read-only here');
      }
      fault = { how: 'read-only tmpfs', undo: () => fs!.unmount() };
    }
    const before = await snapshotDir(dir);
    try {
      const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
      expect(r.code, fault.how).toBe(1);
      for (const [i, t] of report(r).targets.entries()) {
        expect(t).toMatchObject({ name: `creds-${'ab'[i]}`, result: 'failed' });
        expect(t.error).toMatch(
          new RegExp(`cannot write .*/${'ab'[i]}\\.yaml or its folder \\((EACCES|EPERM|EROFS)\\); check the permissions, the file was left as it was`),
        );
      }
      expect(await snapshotDir(dir)).toEqual(before);
      expectNoSecret(r);
    } finally {
      await fault.undo();
    }
  });

  it('a file that cannot be replaced fails alone; the others in the folder are refreshed', async (ctx) => {
    const dir = await makeManifestDir([spec('a.yaml', 'role-a'), spec('b.yaml', 'role-b'), spec('c.yaml', 'role-a')]);
    const before = await snapshotDir(dir);
    const fault = await makeFileImmutable(join(dir, 'b.yaml'));
    if (!fault) return ctx.skip('chattr +i does not work here; src/disk/manifest-store.test.ts injects the failure instead');
    try {
      const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
      expect(r.code).toBe(1);
      const t = report(r).targets;
      expect(t.map((x) => x.result)).toEqual(['refreshed', 'failed', 'refreshed']);
      expect(t[1]!.error).toMatch(/cannot write .*\/b\.yaml or its folder \(EPERM\); check the permissions, the file was left as it was/);
      await expectRefreshed(join(dir, 'a.yaml'));
      await expectRefreshed(join(dir, 'c.yaml'));
      expect(await readFile(join(dir, 'b.yaml'), 'utf8')).toBe(before['b.yaml']);
      expect((await readdir(dir)).sort()).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
      expectNoSecret(r);
    } finally {
      await fault.undo();
    }
  });

  it('a disk that fills up during the write leaves the old file whole and no temporary behind', async (ctx) => {
    const fs = await mountSmallFilesystem(512);
    if (!fs) return ctx.skip('mount -t tmpfs is not allowed here; src/disk/manifest-store.test.ts injects ENOSPC instead');
    try {
      // a-big.yaml needs far more room than is left; b and c fit. --concurrency 1 writes them in file order.
      const big = secretManifest(spec('a-big.yaml', 'role-big')).replace(
        '  keep-me: a2VlcA==\n',
        `  keep-me: a2VlcA==\n  bulk: ${Buffer.alloc(48 * 1024, 7).toString('base64')}\n`,
      );
      await writeFile(join(fs.dir, 'a-big.yaml'), big, { mode: 0o600 });
      for (const s of [spec('b.yaml', 'role-b'), spec('c.yaml', 'role-c')]) await writeFile(join(fs.dir, s.file), secretManifest(s), { mode: 0o600 });
      const fillers = await fillFilesystem(fs.dir);
      // 16 KiB free: room for a small file's lock and temporary, not for the big one.
      const { rm } = await import('node:fs/promises');
      for (const f of fillers.slice(0, 4)) await rm(f);
      const before = await snapshotDir(fs.dir);

      const r = await run(['refresh', '--manifests', fs.dir, '--output', 'json', '--concurrency', '1']);
      expect(r.code).toBe(1);
      const t = report(r).targets;
      expect(t.map((x) => [x.name, x.result])).toEqual([
        ['creds-a-big', 'failed'],
        ['creds-b', 'refreshed'],
        ['creds-c', 'refreshed'],
      ]);
      expect(t[0]!.error).toMatch(/the disk is full while writing .*\/a-big\.yaml \(ENOSPC\); free space and run again, the file was left as it was/);
      expect(await readFile(join(fs.dir, 'a-big.yaml'), 'utf8')).toBe(before['a-big.yaml']);
      await expectRefreshed(join(fs.dir, 'b.yaml'));
      await expectRefreshed(join(fs.dir, 'c.yaml'));
      const leftovers = (await readdir(fs.dir)).filter((n) => !n.startsWith('.filler-')).sort();
      expect(leftovers).toEqual(['a-big.yaml', 'b.yaml', 'c.yaml']);
      expectNoSecret(r);
    } finally {
      await fs.unmount();
    }
  });

  it('a run killed between writes leaves every file whole, old or new; the next run finishes the rest and cleans up', async () => {
    const specs = Array.from({ length: 30 }, (_, i) => spec(`m${String(i).padStart(2, '0')}.yaml`, `role-${i}`));
    const dir = await makeManifestDir(specs);
    const original = await snapshotDir(dir);
    cap.sim.setDelay(150);
    let killedPid = 0;
    try {
      // Watch before the run starts, so no write is missed.
      let renames = 0;
      let onFourth: () => void = () => undefined;
      const fourWritten = new Promise<void>((resolve) => (onFourth = resolve));
      const watcher = watch(dir, (event, name) => {
        if (event === 'rename' && name && !name.startsWith('.') && ++renames === 4) onFourth();
      });
      const child = spawn(process.execPath, [BIN, 'refresh', '--manifests', dir, '--concurrency', '2'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...cap.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
      killedPid = child.pid!;
      // Kill it once a few files are written (four renames onto manifests seen), long before all 30 are.
      const ended = await Promise.race([fourWritten.then(() => false), exited.then(() => true)]);
      watcher.close();
      if (ended) throw new Error(`the run ended before four files were written, so it could not be killed in the middle: ${out}`);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      outputs.push({ code: 137, stdout: out, stderr: '' });

      const afterKill = await snapshotDir(dir);
      // No temporary shows as a manifest: the only visible names are the manifests.
      expect(Object.keys(afterKill).filter((n) => !n.startsWith('.'))).toEqual(Object.keys(original));
      let written = 0;
      for (const f of Object.keys(original)) {
        expect(
          parseAllDocuments(afterKill[f]!).every((d) => d.errors.length === 0),
          f,
        ).toBe(true);
        if (afterKill[f] === original[f]) continue;
        written += 1;
        await expectRefreshed(join(dir, f));
      }
      expect(written).toBeGreaterThanOrEqual(4);
      expect(written).toBeLessThan(30);

      // What a kill at the worst moment leaves: a temporary an hour old, and the lock of the dead process.
      const stale = join(dir, '.m29.yaml.0123456789ab.tmp');
      await writeFile(stale, afterKill['m29.yaml']!.slice(0, 40));
      await utimes(stale, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      await writeFile(join(dir, '.m29.yaml.lock'), JSON.stringify({ pid: killedPid, host: hostname(), at: Date.now(), token: 'dead' }));
      cap.sim.setDelay(0);

      const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
      expect(r.code).toBe(0);
      const t = report(r).targets;
      expect(t.filter((x) => x.result === 'fresh').length).toBe(written);
      expect(t.filter((x) => x.result === 'refreshed').length).toBe(30 - written);
      const final = await snapshotDir(dir);
      // The old temporary and the dead run's lock are gone. (A temporary the kill itself left
      // is younger than a minute and stays until a later run: it might be a live writer's.)
      expect(Object.keys(final).filter((n) => !/^\.m\d\d\.yaml\.[0-9a-f]{12}\.tmp$/.test(n) || n === '.m29.yaml.0123456789ab.tmp')).toEqual(
        Object.keys(original),
      );
      for (const f of Object.keys(original)) {
        // Written before the kill: fresh now and not written again.
        if (afterKill[f] !== original[f]) expect(final[f]).toBe(afterKill[f]);
        await expectRefreshed(join(dir, f));
        expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600);
      }
      expectNoSecret(r);
    } finally {
      cap.sim.setDelay(0);
    }
  });

  it('a CAP client key file readable by others gives a warning that says so, names the file and the cure, and the run goes on', async () => {
    const cases: [string, string[], number, RegExp | undefined][] = [
      [
        'a PEM key 0644',
        ['--key', 'loose.key'],
        0o644,
        /the private key file \S*loose\.key \(--key\) is readable by every user on this machine; run chmod 600 \S*loose\.key/,
      ],
      [
        'an encrypted PEM key 0604',
        ['--key', 'loose-enc.key', '--key-passphrase-file', cap.files.keyPassphrase],
        0o604,
        /the private key file \S*loose-enc\.key \(--key\) is readable by every user on this machine; run chmod 600/,
      ],
      [
        'a PKCS#12 bundle 0644',
        ['--pkcs12', 'loose.p12', '--pkcs12-passphrase-file', cap.files.p12Passphrase],
        0o644,
        /the private key file \S*loose\.p12 \(--pkcs12\) is readable by every user on this machine; run chmod 600/,
      ],
      ['a PEM key 0600', ['--key', 'tight.key'], 0o600, undefined],
    ];
    await copyFile(cap.files.key, join(cap.dir, 'loose.key'));
    await copyFile(cap.files.encryptedKey, join(cap.dir, 'loose-enc.key'));
    await copyFile(cap.files.p12, join(cap.dir, 'loose.p12'));
    await copyFile(cap.files.key, join(cap.dir, 'tight.key'));
    for (const [name, args, mode, warning] of cases) {
      const file = join(cap.dir, args[1]!);
      await chmod(file, mode);
      const dir = await makeManifestDir([spec('a.yaml', 'role-a')]);
      const fullArgs = args.map((a, i) => (i === 1 ? file : a));
      const env: Record<string, string> = args[0] === '--pkcs12' ? { CAP_CERT_FILE: '', CAP_KEY_FILE: '' } : {};
      const r = await run(['refresh', '--manifests', dir, ...fullArgs, '--output', 'json'], env);
      expect(r.code, name).toBe(0);
      expect(report(r).targets[0]!.result, name).toBe('refreshed');
      await expectRefreshed(join(dir, 'a.yaml'));
      if (warning) expect(r.stderr, name).toMatch(warning);
      else expect(r.stderr, name).not.toMatch(/readable by/);
      expectNoSecret(r);
    }
  });
});

describe('redaction across the disk faults', () => {
  it('no output above holds a credential, a passphrase or a key line', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(8);
    expect(cap.sim.issued.length).toBeGreaterThan(30);
    for (const r of outputs) expectNoSecret(r);
  });
});
