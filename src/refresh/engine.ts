import type { CapQuery, Placeholder } from '../core/cap-query.js';
import { PLACEHOLDER_SETTINGS } from '../core/cap-query.js';
import type { CapCredentials } from '../core/credentials.js';
import { errorMessage } from '../core/errors.js';
import { ANNOTATION_ROLE } from '../core/names.js';
import { createLimiter } from '../core/limiter.js';
import { decideRefresh, formatRfc3339, type RefreshPolicy, type RefreshState } from '../core/policy.js';
import type { Report, TargetReport } from '../core/report.js';
import type { RefreshTarget, TargetStore, WriteBatch, WriteOutcome } from '../core/target-store.js';
import type { Logger } from '../log/logger.js';

export interface RefreshDeps {
  fetchCredentials: (q: CapQuery) => Promise<CapCredentials>;
  now: () => Date;
  logger: Logger;
}

export interface RefreshSettings {
  policy: RefreshPolicy;
  concurrency: number;
  /** Defaults for targets without agency/mission annotations. */
  agency?: string;
  mission?: string;
  account?: string;
  /** The settings a CAP request needs besides the role (CAP_URL's placeholders); default agency and mission. */
  requires?: readonly Exclude<Placeholder, 'role'>[];
}

/**
 * Called as soon as a target's result is known, before the whole run ends (Events, progress), with
 * the store's outcome when a write was tried (written, kept or failed); without one for a target
 * that was fresh, could not be read, or whose CAP request failed.
 */
export type ResultListener<T> = (target: T, result: TargetReport, outcome?: WriteOutcome) => void;

/**
 * Decides which targets are due, asks CAP once per distinct filled-in URL (the settings CAP_URL needs, and the role) with
 * bounded concurrency, writes each role's due targets once its credentials arrive, and turns
 * each store outcome into the target's result (the only place that does).
 *
 * Targets may still be loading (promises, in report order): a role's CAP request starts as soon as
 * its first due target is read, while the others are still being read; its write waits until every
 * target is read, so it covers them all. A role's writes run inside its CAP slot or after it, as
 * the store says (TargetStore.writesInCapSlot). One failure never blocks another target.
 *
 * A target promise never rejects (a Secret that cannot be read sets `problem`); one that does is a
 * reader's bug: the run throws it, once every role it started is done.
 */
export async function runRefresh<T extends RefreshTarget>(
  targets: readonly (T | Promise<T>)[],
  store: TargetStore<T>,
  settings: RefreshSettings,
  deps: RefreshDeps,
  onResult: ResultListener<T> = () => undefined,
): Promise<Report> {
  const now = deps.now();
  const results: TargetReport[] = [];
  const groups = new Map<string, Group<T>>();
  const capSlot = createLimiter(settings.concurrency);
  const settle = (t: T, index: number, report: TargetReport, outcome?: WriteOutcome) => {
    results[index] = report;
    onResult(t, report, outcome);
  };

  // A target that changed since it was read is kept when another writer refreshed it and it is no
  // longer due (the policy without --force); the store asks, the policy stays here.
  const keptExpiration = (t: T, current: RefreshState): string | undefined => {
    if (current.expiration === t.expiration && current.refreshedAt === t.refreshedAt) return undefined;
    const decision = decideRefresh(current, deps.now(), { ...settings.policy, force: false });
    return !decision.due && decision.expiration ? formatRfc3339(decision.expiration) : undefined;
  };

  const resultOf = (t: T, outcome: WriteOutcome, creds: CapCredentials): TargetReport => {
    const target = `${t.namespace}/${t.name}`;
    switch (outcome.kind) {
      case 'written':
        deps.logger.info('refreshed', { target, role: t.role, expiration: outcome.expiration });
        return { ...baseReport(t), result: 'refreshed', expiration: outcome.expiration, ...(creds.expirationAssumed ? { expirationAssumed: true } : {}) };
      case 'kept':
        deps.logger.info('another writer refreshed the Secret meanwhile; not writing it again', { target, expiration: outcome.expiration });
        return { ...baseReport(t), result: 'fresh', expiration: outcome.expiration };
      case 'failed':
        deps.logger.error('write failed', { target, error: outcome.error });
        return { ...baseReport(t), result: 'failed', error: outcome.error };
    }
  };

  const writeGroup = async (group: Group<T>, { creds, refreshedAt }: Fetched): Promise<void> => {
    await everyTargetRead; // the late targets of this role too
    const due = group.members.map((m) => m.target);
    let outcomes: WriteOutcome[];
    try {
      outcomes = await store.write(due, { creds, refreshedAt, issuedRole: group.query.role, keptExpiration } satisfies WriteBatch<T>);
    } catch (err) {
      const error = errorMessage(err);
      outcomes = due.map(() => ({ kind: 'failed', error }));
    }
    group.members.forEach(({ target, index }, i) => {
      const outcome = outcomes[i] ?? { kind: 'failed', error: 'not written' };
      settle(target, index, resultOf(target, outcome, creds), outcome);
    });
  };

  const refreshGroup = async (group: Group<T>): Promise<void> => {
    const fetched = await capSlot(async (): Promise<Fetched | { error: string }> => {
      let creds: CapCredentials;
      try {
        creds = await deps.fetchCredentials(group.query);
      } catch (err) {
        return { error: errorMessage(err) };
      }
      // On CAP's clock when it is known, so a wrong local clock cannot make the recorded lifetime wrong.
      const got = { creds, refreshedAt: new Date(deps.now().getTime() + (creds.capClockOffsetMs ?? 0)) };
      if (store.writesInCapSlot) await writeGroup(group, got);
      return got;
    });
    if ('error' in fetched) {
      await everyTargetRead;
      deps.logger.error('CAP request failed', { role: group.query.role, targets: group.members.length, error: fetched.error });
      for (const { target, index } of group.members) settle(target, index, { ...baseReport(target), result: 'failed', error: fetched.error });
    } else if (!store.writesInCapSlot) {
      await writeGroup(group, fetched);
    }
  };

  const classify = (t: T, index: number): void => {
    const base = baseReport(t);
    if (t.problem) {
      settle(t, index, { ...base, result: 'failed', error: t.problem });
      return;
    }
    const decision = decideRefresh(t, now, settings.policy);
    if (!decision.due) {
      settle(t, index, { ...base, result: 'fresh', expiration: decision.expiration ? formatRfc3339(decision.expiration) : null });
      return;
    }
    const { role } = t;
    if (role === undefined) {
      // The stores give every target without a role a problem; this only keeps a new store honest.
      settle(t, index, { ...base, result: 'failed', error: `no ${ANNOTATION_ROLE} annotation: cap-token-refresh does not know which IAM role to ask CAP for` });
      return;
    }
    const requires = settings.requires ?? ['agency', 'mission'];
    const values = { agency: t.agency ?? settings.agency, mission: t.mission ?? settings.mission, account: t.account ?? settings.account };
    const missing = requires.filter((p) => !values[p]);
    if (missing.length > 0) {
      const named = missing.map((p) => `${p} (${PLACEHOLDER_SETTINGS[p]})`);
      settle(t, index, { ...base, result: 'failed', error: `no ${named.join(' and no ')} for this target` });
      return;
    }
    // Only what the CAP URL uses tells requests apart: one CAP call per distinct filled-in URL.
    const query: CapQuery = {
      agency: requires.includes('agency') ? (values.agency ?? '') : '',
      mission: requires.includes('mission') ? (values.mission ?? '') : '',
      ...(requires.includes('account') ? { account: values.account ?? '' } : {}),
      role,
    };
    const key = JSON.stringify([query.agency, query.mission, query.account ?? null, query.role]);
    let group = groups.get(key);
    if (!group) {
      group = { query, members: [], done: Promise.resolve() };
      groups.set(key, group);
      // Started now, while later targets are still being read.
      group.done = refreshGroup(group);
    }
    group.members.push({ target: t, index });
    deps.logger.debug('target due', { target: `${t.namespace}/${t.name}`, reason: decision.reason, ...(t.dataProblem ? { data: t.dataProblem } : {}) });
  };

  // Each target is classified as soon as it is read; a role's members are all known once every target is.
  // Settled, never rejected: a read that throws (a reader's bug: a Secret that cannot be read sets
  // `problem`) must not leave the roles waiting on it with rejections nobody handles. The run
  // throws it, but only once every role it started is done, so no write goes on after it ended.
  const everyTargetRead = Promise.allSettled(targets.map(async (t, index) => classify(await t, index)));
  const settled = [...(await everyTargetRead), ...(await Promise.allSettled([...groups.values()].map((g) => g.done)))];
  const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (thrown) throw thrown.reason;
  return { targets: results };
}

interface Fetched {
  creds: CapCredentials;
  refreshedAt: Date;
}

interface Group<T> {
  query: CapQuery;
  members: { target: T; index: number }[];
  done: Promise<void>;
}

function baseReport(t: RefreshTarget): TargetReport {
  return {
    namespace: t.namespace,
    name: t.name,
    role: t.role ?? null,
    result: 'failed',
    expiration: t.expiration ?? null,
    ...(t.file ? { file: t.file } : {}),
  };
}
