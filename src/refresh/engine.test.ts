import { describe, expect, it } from 'vitest';
import type { CapCredentials } from '../core/credentials.js';
import { silentLogger } from '../log/logger.js';
import type { CapQuery } from '../cap/url.js';
import { runRefresh, type RefreshTarget, type TargetStore } from './engine.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const creds = (role: string): CapCredentials => ({
  accessKeyId: `ASIA${role}`,
  secretAccessKey: 's',
  sessionToken: 't',
  expiration: new Date('2026-11-28T13:00:00Z'),
});
const target = (name: string, role: string, extra: Partial<RefreshTarget> = {}): RefreshTarget => ({ namespace: 'ns', name, role, ...extra });

function recorder(opts: { boundsOwnWrites?: boolean } = {}) {
  const events: string[] = [];
  const writes: { names: string[]; key: string }[] = [];
  const store: TargetStore = {
    ...(opts.boundsOwnWrites ? { boundsOwnWrites: true } : {}),
    async write(targets, c) {
      events.push(`write ${targets.map((t) => t.name).join('+')}`);
      writes.push({ names: targets.map((t) => t.name), key: c.accessKeyId });
      return targets.map(() => ({ ok: true as const, expiration: '2026-11-28T13:00:00Z' }));
    },
  };
  const fetchCredentials = async (q: CapQuery) => {
    events.push(`fetch ${q.role}`);
    await new Promise((r) => setTimeout(r, 5));
    if (q.role === 'broken') throw new Error('CAP said no');
    return creds(q.role);
  };
  return { events, writes, store, deps: { fetchCredentials, now: () => NOW, logger: silentLogger } };
}

const settings = { policy: { renewBeforeMs: 0, force: false }, concurrency: 2, agency: 'A', mission: 'M' };

describe('runRefresh', () => {
  it('asks CAP once per role and writes all of a role’s targets together, in report order', async () => {
    const r = recorder();
    const report = await runRefresh([target('a', 'r1'), target('b', 'r2'), target('c', 'r1')], r.store, settings, r.deps);
    expect(r.events.filter((e) => e.startsWith('fetch')).sort()).toEqual(['fetch r1', 'fetch r2']);
    expect(r.writes).toContainEqual({ names: ['a', 'c'], key: 'ASIAr1' });
    expect(report.targets.map((t) => [t.name, t.result])).toEqual([
      ['a', 'refreshed'],
      ['b', 'refreshed'],
      ['c', 'refreshed'],
    ]);
  });

  it('starts a role’s CAP request while later targets are still being read, and still writes them with it', async () => {
    const r = recorder();
    let release!: () => void;
    const late = new Promise<RefreshTarget>((resolve) => (release = () => resolve(target('late', 'r1'))));
    const run = runRefresh([target('early', 'r1'), late], r.store, settings, r.deps);
    await new Promise((res) => setTimeout(res, 1));
    expect(r.events).toEqual(['fetch r1']);
    release();
    const report = await run;
    expect(r.writes).toEqual([{ names: ['early', 'late'], key: 'ASIAr1' }]);
    expect(report.targets.map((t) => t.result)).toEqual(['refreshed', 'refreshed']);
  });

  it('keeps fresh targets, fails problems and CAP failures alone, and tells the listener of each result', async () => {
    const r = recorder();
    const seen: string[] = [];
    const report = await runRefresh(
      [
        target('fresh', 'r1', { expiration: '2026-11-28T12:50:00Z', refreshedAt: '2026-11-28T11:50:00Z', issuedRole: 'r1' }),
        target('unreadable', 'r1', { problem: 'cannot read it' }),
        target('denied', 'broken'),
        target('ok', 'r2'),
      ],
      r.store,
      settings,
      r.deps,
      (t, res) => seen.push(`${t.name}:${res.result}`),
    );
    expect(report.targets.map((t) => [t.name, t.result, t.error ?? null])).toEqual([
      ['fresh', 'fresh', null],
      ['unreadable', 'failed', 'cannot read it'],
      ['denied', 'failed', 'CAP said no'],
      ['ok', 'refreshed', null],
    ]);
    expect(r.events).not.toContain('fetch r1');
    expect(seen.sort()).toEqual(['denied:failed', 'fresh:fresh', 'ok:refreshed', 'unreadable:failed']);
  });

  it('with --concurrency 1 on disk, a role’s write finishes before the next role’s CAP request', async () => {
    const r = recorder();
    await runRefresh([target('a', 'r1'), target('b', 'r2')], r.store, { ...settings, concurrency: 1 }, r.deps);
    expect(r.events).toEqual(['fetch r1', 'write a', 'fetch r2', 'write b']);
  });

  it('fails a due target without agency or mission, naming what to set', async () => {
    const r = recorder();
    const report = await runRefresh(
      [target('a', 'r1')],
      r.store,
      { policy: settings.policy, concurrency: settings.concurrency, mission: settings.mission },
      r.deps,
    );
    expect(report.targets[0]).toMatchObject({ result: 'failed', error: expect.stringMatching(/no agency \(AGENCY, --agency/) });
    expect(r.events).toEqual([]);
  });
});
