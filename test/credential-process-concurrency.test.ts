// `aws` commands started together each run credential-process: with an empty cache they must
// wait for one CAP call and share it (a lock in the cache folder), and a lock left by a killed
// process must not hold the next one up.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFileName, type CacheKey } from '../src/aws/process-credentials.js';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { BIN, REPO_ROOT, runCli, tmpdirEnv, type CliResult } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';

let cap: CapFixture;
let root: string;

beforeAll(async () => {
  cap = await startCapFixture();
  root = await makeTempDir('ctr-cpc-');
});
afterAll(async () => {
  await cap?.stop();
});

const env = (xdg: string) => ({ ...cap.env, HOME: root, XDG_CACHE_HOME: xdg });
const keyFor = (role: string): CacheKey => ({ capUrl: `${cap.sim.url}/api/v1/credentials`, agency: cap.env.AGENCY!, mission: cap.env.MISSION!, role });
const callsFor = (role: string) => cap.sim.calls.filter((c) => c.role === role).length;

describe('credential-process under load', () => {
  it('eight processes started at once with an empty cache make one CAP call and print the same credentials', async () => {
    const xdg = join(root, 'eight');
    const role = 'role-eight';
    // CAP is slow, as it is under load: every process starts while the first call is in flight.
    cap.sim.setDelay(1500);
    let results: CliResult[];
    try {
      results = await Promise.all(Array.from({ length: 8 }, () => runCli(['credential-process', '--role', role], { env: env(xdg) })));
    } finally {
      cap.sim.setDelay(0);
    }
    expect(callsFor(role)).toBe(1);
    const issued = cap.sim.issued.at(-1)!;
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        Version: 1,
        AccessKeyId: issued.accessKeyId,
        SecretAccessKey: issued.secretAccessKey,
        SessionToken: issued.sessionToken,
        Expiration: new Date(issued.expiration).toISOString(),
      });
    }
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    // The lock is gone; the cache entry stays.
    expect(await readdir(join(xdg, 'cap-token-refresh'))).toEqual([cacheFileName(keyFor(role))]);
  });

  it('different roles do not wait for each other: one call each', async () => {
    const xdg = join(root, 'roles');
    const roles = ['role-x', 'role-y', 'role-z'];
    const results = await Promise.all([...roles, ...roles].map((role) => runCli(['credential-process', '--role', role], { env: env(xdg) })));
    for (const r of results) expect(r.code).toBe(0);
    for (const role of roles) expect(callsFor(role)).toBe(1);
  });

  it('a lock left by a process killed during its CAP call does not block the next call', async () => {
    const xdg = join(root, 'killed');
    const role = 'role-killed';
    cap.sim.setBehaviour(role, { kind: 'stall' });
    const arrived = new Promise<void>((resolve) => {
      cap.sim.onRequest = (call) => call.role === role && resolve();
    });
    const child = spawn(process.execPath, [BIN, 'credential-process', '--role', role], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...tmpdirEnv(), ...env(xdg) },
      stdio: 'ignore',
    });
    const exited = once(child, 'exit');
    await arrived;
    delete cap.sim.onRequest;
    const lock = join(xdg, 'cap-token-refresh', `${cacheFileName(keyFor(role))}.lock`);
    await access(lock); // held while the call is in flight
    child.kill('SIGKILL');
    await exited;
    await access(lock); // left behind by the killed process

    cap.sim.setBehaviour(role, { kind: 'ok' });
    const r = await runCli(['credential-process', '--role', role], { env: env(xdg) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).AccessKeyId).toBe(cap.sim.issued.at(-1)!.accessKeyId);
    expect(callsFor(role)).toBe(2);
    expect(await readdir(join(xdg, 'cap-token-refresh'))).toEqual([cacheFileName(keyFor(role))]);
  });
});
