import { chmod, chown, lstat, mkdir, readdir, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

// Hostile neighbours: a cache folder another user planted, or can write into, is never
// adopted (no chmod) nor written into; the call still succeeds, without the cache.

let cap: CapFixture;
let root: string;
const OTHER_UID = 65534;
const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;

beforeAll(async () => {
  cap = await startCapFixture();
  root = await makeTempDir('ctr-cps-');
});
afterAll(async () => {
  await cap?.stop();
  await rm(root, { recursive: true, force: true });
});

async function freshXdg(name: string): Promise<string> {
  const xdg = join(root, name);
  await mkdir(xdg, { mode: 0o755 });
  return xdg;
}

function run(xdg: string, role: string): Promise<CliResult> {
  return runInProcess(['credential-process', '--role', role], { env: { ...cap.env, HOME: root, XDG_CACHE_HOME: xdg } });
}

function expectServedWithoutCache(r: CliResult, calls: number, why: RegExp) {
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).AccessKeyId).toBe(cap.sim.issued.at(-1)!.accessKeyId);
  expect(cap.sim.calls.length).toBe(calls + 1);
  expect(r.stderr.match(/not cached/g)).toHaveLength(1);
  expect(r.stderr).toMatch(why);
}

describe('credential-process refuses a cache folder that is not its own', () => {
  it.runIf(isRoot)('a folder owned by another user is neither chmod-ed nor written into', async () => {
    const xdg = await freshXdg('foreign');
    const dir = join(xdg, 'cap-token-refresh');
    await mkdir(dir, { mode: 0o755 });
    await chown(dir, OTHER_UID, OTHER_UID);
    const calls = cap.sim.calls.length;
    const r = await run(xdg, 'role-foreign');
    expectServedWithoutCache(r, calls, /owned by another user/);
    expect(await readdir(dir)).toEqual([]);
    const st = await stat(dir);
    expect([st.uid, st.mode & 0o777]).toEqual([OTHER_UID, 0o755]);
  });

  it('a folder writable by others is neither chmod-ed nor written into', async () => {
    const xdg = await freshXdg('shared');
    const dir = join(xdg, 'cap-token-refresh');
    await mkdir(dir);
    await chmod(dir, 0o777);
    const calls = cap.sim.calls.length;
    const r = await run(xdg, 'role-shared');
    expectServedWithoutCache(r, calls, /writable by other users/);
    expect(await readdir(dir)).toEqual([]);
    expect((await stat(dir)).mode & 0o777).toBe(0o777);
  });

  it('a cap-token-refresh link planted in XDG_CACHE_HOME is not followed: its target is untouched', async () => {
    const xdg = await freshXdg('linked');
    const target = join(root, 'attacker-target');
    await mkdir(target, { mode: 0o755 });
    if (isRoot) await chown(target, OTHER_UID, OTHER_UID);
    await symlink(target, join(xdg, 'cap-token-refresh'));
    const calls = cap.sim.calls.length;
    const r = await run(xdg, 'role-linked');
    expectServedWithoutCache(r, calls, /symbolic link/);
    expect(await readdir(target)).toEqual([]);
    expect((await stat(target)).mode & 0o777).toBe(0o755);
    expect((await lstat(join(xdg, 'cap-token-refresh'))).isSymbolicLink()).toBe(true);
  });

  it('a missing folder is created 0700 and used', async () => {
    const xdg = await freshXdg('fresh');
    const r = await run(xdg, 'role-fresh');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/not cached/);
    const dir = join(xdg, 'cap-token-refresh');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readdir(dir)).toHaveLength(1);
  });
});
