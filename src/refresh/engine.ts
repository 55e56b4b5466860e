import type { CapCredentials } from '../core/credentials.js';
import { errorMessage } from '../core/errors.js';
import { decideRefresh, formatRfc3339, type RefreshPolicy } from '../core/policy.js';
import type { Report, TargetReport } from '../core/report.js';
import { PLACEHOLDER_SETTINGS, type CapQuery, type Placeholder } from '../cap/url.js';
import type { Logger } from '../log/logger.js';
import { createLimiter } from './limiter.js';

/** A Secret to keep alive, wherever it lives (a manifest file or a cluster). */
export interface RefreshTarget {
  namespace: string;
  name: string;
  role?: string;
  agency?: string;
  mission?: string;
  account?: string;
  expiration?: string;
  refreshedAt?: string;
  /** `cap-token-refresh/issued-role`: the role CAP was asked for at the last refresh. */
  issuedRole?: string;
  /** CAP's clock minus the refreshing node's at the last refresh (`cap-token-refresh/clock-offset-seconds`), when over 60 s. */
  clockOffsetSeconds?: number;
  /** Why the Secret's data cannot serve (findSecretDataProblem); the target is then due whatever its annotations say. */
  dataProblem?: string;
  file?: string;
  /** Set when the target could not be read; it is reported as failed with this message. */
  problem?: string;
}

/** Where targets come from and where credentials go. A failed write throws with a message that names the cure. */
export interface TargetStore<T extends RefreshTarget = RefreshTarget> {
  /**
   * `issuedRole` is the role CAP was asked for, recorded in `cap-token-refresh/issued-role`;
   * without it (`fill`, one response for every Secret) the annotation is removed, so the next
   * refresh asks for each Secret's own role.
   */
  write(targets: T[], creds: CapCredentials, refreshedAt: Date, issuedRole?: string): Promise<WriteOutcome[]>;
  /**
   * The store bounds its own writes (the cluster store's API limiter): a role's writes then
   * run after its CAP slot is released, so the next CAP request never waits for them.
   * Otherwise (disk) a role's writes finish inside its slot, as --concurrency 1 promises.
   */
  readonly boundsOwnWrites?: boolean;
}

export type WriteOutcome = { ok: true; expiration: string } | { ok: false; error: string };

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

/** Called as soon as a target's result is known, before the whole run ends (Events, progress). */
export type ResultListener<T> = (target: T, result: TargetReport) => void;

/**
 * Decides which targets are due, asks CAP once per distinct filled-in URL (the settings CAP_URL needs, and the role) with
 * bounded concurrency, and writes each due target as soon as its credentials arrive.
 * Targets may still be loading (promises, in report order): a role's CAP request starts as
 * soon as its first due target is read, while the others are still being read. One failure
 * never blocks another target.
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
  const detached: Promise<void>[] = [];
  const settle = (t: T, index: number, report: TargetReport) => {
    results[index] = report;
    onResult(t, report);
  };
  // Resolves once every target is read, so that a role's write covers all of its targets.
  let allRead!: () => void;
  const everyTargetRead = new Promise<void>((resolve) => (allRead = resolve));

  const writeAll = async (group: Group<T>, creds: CapCredentials, refreshedAt: Date): Promise<void> => {
    const due = group.members.map((m) => m.target);
    let outcomes: WriteOutcome[];
    try {
      outcomes = await store.write(due, creds, refreshedAt, group.query.role);
    } catch (err) {
      outcomes = due.map(() => ({ ok: false as const, error: errorMessage(err) }));
    }
    group.members.forEach(({ target: t, index }, i) => {
      const o = outcomes[i] ?? { ok: false as const, error: 'not written' };
      const assumed = creds.expirationAssumed ? { expirationAssumed: true as const } : {};
      settle(
        t,
        index,
        o.ok ? { ...baseReport(t), result: 'refreshed', expiration: o.expiration, ...assumed } : { ...baseReport(t), result: 'failed', error: o.error },
      );
      if (o.ok) deps.logger.info('refreshed', { target: `${t.namespace}/${t.name}`, role: t.role, expiration: o.expiration });
      else deps.logger.error('write failed', { target: `${t.namespace}/${t.name}`, error: o.error });
    });
  };

  const startGroup = (query: CapQuery): Group<T> => {
    const group: Group<T> = { query, members: [], done: Promise.resolve() };
    group.done = capSlot(async () => {
      let creds: CapCredentials;
      try {
        creds = await deps.fetchCredentials(query);
      } catch (err) {
        const error = errorMessage(err);
        await everyTargetRead;
        deps.logger.error('CAP request failed', { role: query.role, targets: group.members.length, error });
        for (const { target, index } of group.members) settle(target, index, { ...baseReport(target), result: 'failed', error });
        return;
      }
      // On CAP's clock when it is known, so a wrong local clock cannot make the recorded lifetime wrong.
      const refreshedAt = new Date(deps.now().getTime() + (creds.capClockOffsetMs ?? 0));
      await everyTargetRead;
      // Disk: a role's writes finish inside its CAP slot, as --concurrency 1 promises.
      if (!store.boundsOwnWrites) return writeAll(group, creds, refreshedAt);
      // Cluster: the store bounds its own writes; they start once this slot is free for the next CAP request.
      detached.push(new Promise<void>((resolve) => setImmediate(resolve)).then(() => writeAll(group, creds, refreshedAt)));
    });
    return group;
  };

  const classify = (t: T, index: number): void => {
    const base = baseReport(t);
    if (t.problem) return settle(t, index, { ...base, result: 'failed', error: t.problem });
    const decision = decideRefresh(t, now, settings.policy);
    if (!decision.due) {
      return settle(t, index, { ...base, result: 'fresh', expiration: decision.expiration ? formatRfc3339(decision.expiration) : null });
    }
    const requires = settings.requires ?? ['agency', 'mission'];
    const values = { agency: t.agency ?? settings.agency, mission: t.mission ?? settings.mission, account: t.account ?? settings.account };
    const missing = requires.filter((p) => !values[p]);
    if (missing.length > 0) {
      const named = missing.map((p) => `${p} (${PLACEHOLDER_SETTINGS[p]})`);
      return settle(t, index, { ...base, result: 'failed', error: `no ${named.join(' and no ')} for this target` });
    }
    // Only what the CAP URL uses tells requests apart: one CAP call per distinct filled-in URL.
    const query: CapQuery = {
      agency: requires.includes('agency') ? (values.agency ?? '') : '',
      mission: requires.includes('mission') ? (values.mission ?? '') : '',
      ...(requires.includes('account') ? { account: values.account ?? '' } : {}),
      role: t.role!,
    };
    const key = JSON.stringify([query.agency, query.mission, query.account ?? null, query.role]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = startGroup(query)));
    group.members.push({ target: t, index });
    deps.logger.debug('target due', { target: `${t.namespace}/${t.name}`, reason: decision.reason, ...(t.dataProblem ? { data: t.dataProblem } : {}) });
  };

  await Promise.all(targets.map(async (t, index) => classify(await t, index)));
  allRead();
  await Promise.all([...groups.values()].map((g) => g.done));
  await Promise.all(detached);
  return { targets: results };
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
