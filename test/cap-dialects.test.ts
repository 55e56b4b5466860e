import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SC2S_PATH } from '../src/sim/cap-simulator.js';
import { KEY_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { makeManifestDir, snapshotDir } from './support/manifest-dir.js';
import { FIXTURES } from './support/fixtures.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

// CAP_URL templates end to end: the command (run in process) against the simulator's SC2S-shaped path.

let cap: CapFixture;
let root: string;
const outputs: CliResult[] = [];
const template = () => `${cap.sim.url}${SC2S_PATH}?agency={agency}&accountName={account}&roleName={role}`;

async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await runInProcess(args, { env: { ...cap.env, HOME: root, XDG_CACHE_HOME: join(root, 'cache'), ...env } });
  outputs.push(r);
  return r;
}
type Report = { targets: { name: string; result: string; error?: string }[] };

beforeAll(async () => {
  cap = await startCapFixture();
  root = await makeTempDir('ctr-dialects-');
});
afterAll(async () => {
  // No credential or passphrase in any output of this file (stdout of credential-process is the credentials by design).
  for (const r of outputs) {
    for (const i of cap.sim.issued) for (const s of [i.secretAccessKey, i.sessionToken]) expect(r.stderr).not.toContain(s);
    expect(r.stderr + r.stdout).not.toContain(KEY_PASSPHRASE);
  }
  await cap?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('refresh with an SC2S-shaped CAP_URL template', () => {
  it('asks the templated URL once per distinct filled-in URL, the account from CAP_ACCOUNT or the annotation', async () => {
    const dir = await makeManifestDir([
      { file: 'a.yaml', namespace: 'ns', name: 'a', role: 'role one' },
      { file: 'b.yaml', namespace: 'ns', name: 'b', role: 'role one' },
      // Same role, another account: another URL, another call.
      { file: 'c.yaml', namespace: 'ns', name: 'c', role: 'role one', annotations: ['    cap-token-refresh/account: other acct'] },
      // Another mission only: the template does not use it, so it shares a's call.
      { file: 'd.yaml', namespace: 'ns', name: 'd', role: 'role one', annotations: ['    cap-token-refresh/mission: ELSEWHERE'] },
    ]);
    const before = cap.sim.calls.length;
    const r = await run(['refresh', '--manifests', dir, '--output', 'json'], { CAP_URL: template(), CAP_ACCOUNT: 'acct/1' });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).targets.map((t) => t.result)).toEqual(['refreshed', 'refreshed', 'refreshed', 'refreshed']);
    const calls = cap.sim.calls.slice(before);
    expect(calls.map((c) => [c.path, c.agency, c.account, c.role, c.mission]).sort()).toEqual([
      [SC2S_PATH, 'TEST-AGENCY', 'acct/1', 'role one', null],
      [SC2S_PATH, 'TEST-AGENCY', 'other acct', 'role one', null],
    ]);
    const keyOf = async (f: string) => parse(await readFile(join(dir, f), 'utf8')).stringData.aws_access_key_id as string;
    expect(await keyOf('a.yaml')).toBe(await keyOf('b.yaml'));
    expect(await keyOf('a.yaml')).toBe(await keyOf('d.yaml'));
    expect(await keyOf('c.yaml')).not.toBe(await keyOf('a.yaml'));
    await rm(dir, { recursive: true, force: true });
  });

  it('a target without the account the template names fails, naming the settings; the others are refreshed', async () => {
    const dir = await makeManifestDir([
      { file: 'a.yaml', namespace: 'ns', name: 'a', role: 'r1' },
      { file: 'b.yaml', namespace: 'ns', name: 'b', role: 'r1', annotations: ['    cap-token-refresh/account: acct'] },
    ]);
    const before = await snapshotDir(dir);
    const r = await run(['refresh', '--manifests', dir, '--output', 'json'], { CAP_URL: template() });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.targets[0]?.result).toBe('failed');
    expect(report.targets[0]?.error).toMatch(/no account \(CAP_ACCOUNT, --account or annotation cap-token-refresh\/account\)/);
    expect(report.targets[1]?.result).toBe('refreshed');
    expect((await snapshotDir(dir))['a.yaml']).toBe(before['a.yaml']);
    await rm(dir, { recursive: true, force: true });
  });

  it('the plain C2S CAP_URL is unchanged: /api/v1/credentials with agency, mission and role', async () => {
    const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'a', role: 'plain' }]);
    const before = cap.sim.calls.length;
    const r = await run(['refresh', '--manifests', dir], { CAP_ACCOUNT: 'unused' });
    expect(r.code).toBe(0);
    expect(cap.sim.calls.slice(before).map((c) => [c.path, c.agency, c.mission, c.role, c.account])).toEqual([
      ['/api/v1/credentials', 'TEST-AGENCY', 'TEST-MISSION', 'plain', null],
    ]);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('credential-process with a template', () => {
  it('a missing placeholder value is a configuration error (exit 3) naming the setting, before any call', async () => {
    const before = cap.sim.calls.length;
    const r = await run(['credential-process', '--role', 'r'], { CAP_URL: template() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/needs an account \(CAP_ACCOUNT, --account\)/);
    expect(cap.sim.calls.length).toBe(before);
  });

  it('an unknown placeholder is a configuration error', async () => {
    const r = await run(['credential-process', '--role', 'r'], { CAP_URL: `${cap.sim.url}/x?a={acount}` });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\{acount\} that is not known/);
  });

  it('fills --account; another account is another cache entry', async () => {
    const before = cap.sim.calls.length;
    const a = await run(['credential-process', '--role', 'cp-role', '--account', 'A1'], { CAP_URL: template() });
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).Version).toBe(1);
    expect((await run(['credential-process', '--role', 'cp-role', '--account', 'A1'], { CAP_URL: template() })).code).toBe(0);
    expect((await run(['credential-process', '--role', 'cp-role', '--account', 'B2'], { CAP_URL: template() })).code).toBe(0);
    expect(cap.sim.calls.slice(before).map((c) => [c.path, c.account, c.role])).toEqual([
      [SC2S_PATH, 'A1', 'cp-role'],
      [SC2S_PATH, 'B2', 'cp-role'],
    ]);
  });
});

describe('generate carries the template and --account into the CronJob', () => {
  it('CAP_URL is the template as given, CAP_ACCOUNT the account', async () => {
    const out = join(root, 'gen');
    const url = 'https://scap.example/cap/gxCAP/getTemporaryCredentials?agency={agency}&accountName={account}&roleName={role}';
    const r = await run(['generate', '--credentials-requests', join(FIXTURES, 'oc-extract-aws'), '--out', out, '--cap-url', url, '--account', 'ACCT-9']);
    if (r.code !== 0) throw new Error(`generate failed: ${r.stderr}`);
    const cron = parse(await readFile(join(out, 'cap-cronjob.yaml'), 'utf8'));
    const env = cron.spec.jobTemplate.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    expect(env.find((e) => e.name === 'CAP_URL')?.value).toBe(url);
    expect(env.find((e) => e.name === 'CAP_ACCOUNT')?.value).toBe('ACCT-9');
  });

  it('refuses an unknown placeholder in --cap-url', async () => {
    const r = await run(['generate', '--credentials-requests', join(root, 'none'), '--out', join(root, 'gen2'), '--cap-url', 'https://cap.example/x?r={rol}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\{rol\} that is not known/);
  });
});

describe('a CAP that sends no Expiration', () => {
  it('is refused without --assume-lifetime, and with it the expiration is taken from CAP’s Date and the report says assumed', async () => {
    cap.sim.setBehaviour('no-exp', { kind: 'ok', withoutExpiration: true });
    const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'a', role: 'no-exp' }]);
    const before = await snapshotDir(dir);
    const refused = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stdout) as Report).targets[0]?.error).toMatch(/no Expiration; give --assume-lifetime/);
    expect(await snapshotDir(dir)).toEqual(before);

    const started = Date.now();
    const r = await run(['refresh', '--manifests', dir, '--output', 'json', '--assume-lifetime', '50m']);
    expect(r.code).toBe(0);
    const t = (JSON.parse(r.stdout) as { targets: { result: string; expiration: string; expirationAssumed?: boolean }[] }).targets[0]!;
    expect(t).toMatchObject({ result: 'refreshed', expirationAssumed: true });
    // CAP's Date header has whole seconds: within a few seconds of 50 minutes from the run.
    expect(Math.abs(Date.parse(t.expiration) - started - 50 * 60_000)).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/CAP sent no Expiration; assumed from --assume-lifetime/);
    const doc = parse(await readFile(join(dir, 'a.yaml'), 'utf8'));
    expect(doc.metadata.annotations['cap-token-refresh/expiration']).toBe(t.expiration);
    const table = await run(['refresh', '--manifests', dir, '--force', '--assume-lifetime', '50m']);
    expect(table.stdout).toMatch(/\(assumed\)/);
    await rm(dir, { recursive: true, force: true });
  });

  it('--assume-lifetime must be a duration up to 36h (usage error)', async () => {
    const r = await run(['refresh', '--manifests', root, '--assume-lifetime', '40h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--assume-lifetime 40h is not a duration up to 36h/);
  });
});

describe('a CAP whose Date differs from this node’s clock', () => {
  afterAll(() => cap.sim.setDateOffset(0));
  const logsOf = (r: CliResult) =>
    r.stderr
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it.each([
    ['90s behind CAP', 90_000, /this node's clock is behind CAP's by (89|9[01])s; fix its time source/, false],
    ['10 minutes ahead of CAP', -600_000, /this node's clock is ahead of CAP's by (599|60[01])s; AWS will refuse requests signed on this node/, true],
  ])('%s: warns naming the offset and the way, and writes the annotations on CAP’s clock', async (_, offsetMs, warning, refuses) => {
    cap.sim.setDateOffset(offsetMs);
    const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'a', role: `skew-${offsetMs}` }]);
    const started = Date.now();
    const r = await run(['refresh', '--manifests', dir, '--log-format', 'json']);
    expect(r.code).toBe(0);
    const warns = logsOf(r).filter((l) => l.level === 'warn');
    expect(warns.map((l) => String(l.msg ?? l.message))).toEqual([expect.stringMatching(warning)]);
    expect(String(warns[0]?.msg ?? warns[0]?.message).includes('AWS will refuse')).toBe(refuses);
    const a = parse(await readFile(join(dir, 'a.yaml'), 'utf8')).metadata.annotations as Record<string, string>;
    // refreshed-at is CAP's time (whole seconds off at most), not this node's.
    expect(Math.abs(Date.parse(a['cap-token-refresh/refreshed-at']!) - (started + offsetMs))).toBeLessThan(5_000);
    // The offset is recorded on the Secret (CAP minus this node, whole seconds), and status shows it.
    expect(Math.abs(Number(a['cap-token-refresh/clock-offset-seconds']) - offsetMs / 1000)).toBeLessThanOrEqual(1);
    const shown = await run(['status', '--manifests', dir]);
    expect(shown.stdout).toMatch(/^clock skew: ns\/a: at its last refresh the refreshing node's clock was (behind|ahead of) CAP's by \d+s; /m);
    expect(shown.stdout.includes('AWS will refuse requests signed on that node')).toBe(refuses);
    await rm(dir, { recursive: true, force: true });
  });

  it('a node two hours fast still takes CAP’s one-hour credentials (judged on CAP’s clock)', async () => {
    cap.sim.setDateOffset(-2 * 3600_000);
    const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'a', role: 'skew-fast-node' }]);
    const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect((JSON.parse(r.stdout) as Report).targets[0]?.result).toBe('refreshed');
    expect(r.stderr).toMatch(/ahead of CAP's by 7\d{3}s; AWS will refuse/);
    await rm(dir, { recursive: true, force: true });
  });

  it('no warning within 60 seconds', async () => {
    cap.sim.setDateOffset(20_000);
    const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'ns', name: 'a', role: 'skew-small' }]);
    const r = await run(['refresh', '--manifests', dir, '--log-format', 'json']);
    expect(r.code).toBe(0);
    expect(logsOf(r).filter((l) => l.level === 'warn')).toEqual([]);
    const a = parse(await readFile(join(dir, 'a.yaml'), 'utf8')).metadata.annotations as Record<string, string>;
    expect(a['cap-token-refresh/clock-offset-seconds']).toBeUndefined();
    expect((await run(['status', '--manifests', dir])).stdout).not.toContain('clock skew');
    await rm(dir, { recursive: true, force: true });
  });
});
