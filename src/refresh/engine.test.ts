import { describe, expect, it } from 'vitest';
import type { CapCredentials } from '../core/credentials.js';
import { silentLogger } from '../log/logger.js';
import type { CapQuery } from '../core/cap-query.js';
import type { RefreshTarget, TargetStore, WriteBatch, WriteOutcome } from '../core/target-store.js';
import { runRefresh } from './engine.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const creds = (role: string): CapCredentials => ({
  accessKeyId: `ASIA${role}`,
  secretAccessKey: 's',
  sessionToken: 't',
  expiration: new Date('2026-11-28T13:00:00Z'),
});
const target = (name: string, role: string, extra: Partial<RefreshTarget> = {}): RefreshTarget => ({ namespace: 'ns', name, role, ...extra });

function recorder(opts: { writesInCapSlot?: boolean; outcome?: (t: RefreshTarget, batch: WriteBatch) => Promise<WriteOutcome> } = {}) {
  const events: string[] = [];
  const writes: { names: string[]; key: string }[] = [];
  const store: TargetStore = {
    writesInCapSlot: opts.writesInCapSlot ?? true,
    async write(targets, batch) {
      events.push(`write ${targets.map((t) => t.name).join('+')}`);
      writes.push({ names: targets.map((t) => t.name), key: batch.creds.accessKeyId });
      const outcomes = await Promise.all(
        targets.map(
          (t) => opts.outcome?.(t, batch) ?? Promise.resolve<WriteOutcome>({ kind: 'written', expiration: '2026-11-28T13:00:00Z', accessKey: '…r1' }),
        ),
      );
      events.push(`wrote ${targets.map((t) => t.name).join('+')}`);
      return outcomes;
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

/** Waits for `p`, but not forever: a test whose awaited step never comes then fails on its assertions rather than its timeout. */
async function bounded(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
  clearTimeout(timer);
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
    expect(r.events).toEqual(['fetch r1', 'write a', 'wrote a', 'fetch r2', 'write b', 'wrote b']);
  });

  it('when the store bounds its own writes (a cluster), the next CAP request does not wait for a role’s writes', async () => {
    // Role r1's write finishes only once r2's CAP request has started: were the writes inside the
    // CAP slot (--concurrency 1), r2 could never start; the bound ends the wait so the test fails instead.
    let r2Started!: () => void;
    const r2 = new Promise<void>((resolve) => (r2Started = resolve));
    const r = recorder({
      writesInCapSlot: false,
      outcome: async (t) => {
        if (t.name === 'a') await bounded(r2);
        return { kind: 'written', expiration: '2026-11-28T13:00:00Z', accessKey: '…r1' };
      },
    });
    const fetch = r.deps.fetchCredentials;
    const deps = {
      ...r.deps,
      fetchCredentials: (q: CapQuery) => {
        if (q.role === 'r2') r2Started();
        return fetch(q);
      },
    };
    const report = await runRefresh([target('a', 'r1'), target('b', 'r2')], r.store, { ...settings, concurrency: 1 }, deps);
    expect(r.events.indexOf('fetch r2')).toBeGreaterThan(-1);
    expect(r.events.indexOf('fetch r2')).toBeLessThan(r.events.indexOf('wrote a'));
    expect(report.targets.map((t) => t.result)).toEqual(['refreshed', 'refreshed']);
  });

  it('turns each write outcome into a result: written is refreshed, kept is fresh with the other writer’s expiration, failed is failed', async () => {
    const outcomes: Record<string, WriteOutcome> = {
      mine: { kind: 'written', expiration: '2026-11-28T13:00:00Z', accessKey: '…r1', uid: 'u-1', resourceVersion: '7' },
      theirs: { kind: 'kept', expiration: '2026-11-28T12:59:00Z' },
      broken: { kind: 'failed', error: 'the disk is full' },
    };
    const r = recorder({ outcome: async (t) => outcomes[t.name]! });
    const seen: [string, string, WriteOutcome | undefined][] = [];
    const report = await runRefresh(
      [
        target('mine', 'r1'),
        target('theirs', 'r1'),
        target('broken', 'r1'),
        target('fresh', 'r1', { expiration: '2026-11-28T12:50:00Z', refreshedAt: '2026-11-28T11:50:00Z', issuedRole: 'r1' }),
      ],
      r.store,
      settings,
      r.deps,
      (t, res, outcome) => seen.push([t.name, res.result, outcome]),
    );
    expect(report.targets).toEqual([
      { namespace: 'ns', name: 'mine', role: 'r1', result: 'refreshed', expiration: '2026-11-28T13:00:00Z' },
      { namespace: 'ns', name: 'theirs', role: 'r1', result: 'fresh', expiration: '2026-11-28T12:59:00Z' },
      { namespace: 'ns', name: 'broken', role: 'r1', result: 'failed', expiration: null, error: 'the disk is full' },
      { namespace: 'ns', name: 'fresh', role: 'r1', result: 'fresh', expiration: '2026-11-28T12:50:00Z' },
    ]);
    // The listener gets the store's outcome (what an Event needs), and none for a target not written.
    expect(seen.sort()).toEqual([
      ['broken', 'failed', outcomes.broken],
      ['fresh', 'fresh', undefined],
      ['mine', 'refreshed', outcomes.mine],
      ['theirs', 'fresh', outcomes.theirs],
    ]);
  });

  it('keeps a target another writer changed only when it is no longer due; --force does not make it due again', async () => {
    let judge!: WriteBatch['keptExpiration'];
    const r = recorder({
      outcome: async (_t, batch) => {
        judge = batch.keptExpiration;
        return { kind: 'written', expiration: '2026-11-28T13:00:00Z', accessKey: '…r1' };
      },
    });
    const read = target('a', 'r1', { expiration: '2026-11-28T12:10:00Z', refreshedAt: '2026-11-28T11:10:00Z', issuedRole: 'r1' });
    await runRefresh([read], r.store, { ...settings, policy: { renewBeforeMs: 0, force: true } }, r.deps);
    const refreshedByOther = { role: 'r1', issuedRole: 'r1', expiration: '2026-11-28T13:00:05Z', refreshedAt: '2026-11-28T12:00:05Z' };
    expect(judge(read, refreshedByOther)).toBe('2026-11-28T13:00:05Z');
    // Unchanged since it was read (only other keys differ): this write goes ahead.
    expect(judge(read, { ...read })).toBeUndefined();
    // Changed, but still due (its data cannot serve, or it was written for another role): written again.
    expect(judge(read, { ...refreshedByOther, dataProblem: 'aws_access_key_id is empty' })).toBeUndefined();
    expect(judge(read, { ...refreshedByOther, issuedRole: 'r0' })).toBeUndefined();
    expect(judge(read, { ...refreshedByOther, expiration: 'soon' })).toBeUndefined();
  });

  it.each([
    ['on disk (writes in the CAP slot)', true],
    ['in a cluster (writes after it)', false],
  ])(
    'a target whose read throws %s fails the run only once the writes it started are done, leaving no rejection unhandled',
    async (_where, writesInCapSlot) => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const r = recorder({ writesInCapSlot });
        let fetched!: Promise<CapCredentials>;
        const deps = { ...r.deps, fetchCredentials: (q: CapQuery) => (fetched = r.deps.fetchCredentials(q)) };
        const run = runRefresh([target('a', 'r1'), Promise.reject(new Error('the reader threw'))], r.store, settings, deps);
        await expect(run).rejects.toThrow('the reader threw');
        // Nothing of the run goes on after it ended: role r1's write, started before, is done.
        expect(r.events).toEqual(['fetch r1', 'write a', 'wrote a']);
        // A rejection nobody handles is reported once the tick it happened in is over.
        await fetched;
        await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    },
  );

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

  it('fails a due target that names no role (a store that forgot to give it a problem), without asking CAP', async () => {
    const r = recorder();
    const report = await runRefresh([{ namespace: 'ns', name: 'a' }, target('b', 'r1')], r.store, settings, r.deps);
    expect(report.targets.map((t) => [t.name, t.result])).toEqual([
      ['a', 'failed'],
      ['b', 'refreshed'],
    ]);
    expect(report.targets[0]?.error).toMatch(/^no cap-token-refresh\/role annotation/);
    expect(r.events.filter((e) => e.startsWith('fetch'))).toEqual(['fetch r1']);
  });
});
