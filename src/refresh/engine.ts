import type { CapCredentials } from '../core/credentials.js';
import { errorMessage } from '../core/errors.js';
import { decideRefresh, formatRfc3339, type RefreshPolicy } from '../core/policy.js';
import type { Report, TargetReport } from '../core/report.js';
import type { CapQuery } from '../cap/url.js';
import type { Logger } from '../log/logger.js';
import { mapWithConcurrency } from './concurrency.js';

/** A Secret to keep alive, wherever it lives (a manifest file or a cluster). */
export interface RefreshTarget {
  namespace: string;
  name: string;
  role?: string;
  agency?: string;
  mission?: string;
  expiration?: string;
  refreshedAt?: string;
  file?: string;
  /** Set when the target could not be read; it is reported as failed with this message. */
  problem?: string;
}

/** Where targets come from and where credentials go. A failed write throws with a message that names the cure. */
export interface TargetStore<T extends RefreshTarget = RefreshTarget> {
  write(targets: T[], creds: CapCredentials, refreshedAt: Date): Promise<WriteOutcome[]>;
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
}

/**
 * Decides which targets are due, asks CAP once per distinct (agency, mission, role) with
 * bounded concurrency, and writes each due target as soon as its credentials arrive.
 * One failure never blocks another target.
 */
export async function runRefresh<T extends RefreshTarget>(
  targets: T[],
  store: TargetStore<T>,
  settings: RefreshSettings,
  deps: RefreshDeps,
): Promise<Report> {
  const now = deps.now();
  const results = new Map<T, TargetReport>();
  const groups = new Map<string, { query: CapQuery; targets: T[] }>();

  for (const t of targets) {
    const base = baseReport(t);
    if (t.problem) {
      results.set(t, { ...base, result: 'failed', error: t.problem });
      continue;
    }
    const decision = decideRefresh(
      { ...(t.expiration ? { expiration: t.expiration } : {}), ...(t.refreshedAt ? { refreshedAt: t.refreshedAt } : {}) },
      now,
      settings.policy,
    );
    if (!decision.due) {
      results.set(t, { ...base, result: 'fresh', expiration: decision.expiration ? formatRfc3339(decision.expiration) : null });
      continue;
    }
    const agency = t.agency ?? settings.agency;
    const mission = t.mission ?? settings.mission;
    if (!agency || !mission) {
      const missing = [!agency && 'agency (AGENCY, --agency or annotation cap-token-refresh/agency)', !mission && 'mission (MISSION, --mission or annotation cap-token-refresh/mission)'].filter(Boolean);
      results.set(t, { ...base, result: 'failed', error: `no ${missing.join(' and no ')} for this target` });
      continue;
    }
    const query = { agency, mission, role: t.role! };
    const key = JSON.stringify([agency, mission, query.role]);
    const group = groups.get(key) ?? { query, targets: [] };
    group.targets.push(t);
    groups.set(key, group);
    deps.logger.debug('target due', { target: `${t.namespace}/${t.name}`, reason: decision.reason });
  }

  const writeAll = async (due: T[], creds: CapCredentials, refreshedAt: Date): Promise<void> => {
    let outcomes: WriteOutcome[];
    try {
      outcomes = await store.write(due, creds, refreshedAt);
    } catch (err) {
      outcomes = due.map(() => ({ ok: false as const, error: errorMessage(err) }));
    }
    due.forEach((t, i) => {
      const o = outcomes[i] ?? { ok: false as const, error: 'not written' };
      results.set(t, o.ok ? { ...baseReport(t), result: 'refreshed', expiration: o.expiration } : { ...baseReport(t), result: 'failed', error: o.error });
      if (o.ok) deps.logger.info('refreshed', { target: `${t.namespace}/${t.name}`, role: t.role, expiration: o.expiration });
      else deps.logger.error('write failed', { target: `${t.namespace}/${t.name}`, error: o.error });
    });
  };
  const detached: Promise<void>[] = [];

  await mapWithConcurrency([...groups.values()], settings.concurrency, async ({ query, targets: due }) => {
    let creds: CapCredentials;
    try {
      creds = await deps.fetchCredentials(query);
    } catch (err) {
      const error = errorMessage(err);
      deps.logger.error('CAP request failed', { role: query.role, targets: due.length, error });
      for (const t of due) results.set(t, { ...baseReport(t), result: 'failed', error });
      return;
    }
    const refreshedAt = deps.now();
    if (!store.boundsOwnWrites) return writeAll(due, creds, refreshedAt);
    // Start the writes on the next turn of the event loop, after this slot's next CAP request is sent.
    detached.push(new Promise<void>((resolve) => setImmediate(resolve)).then(() => writeAll(due, creds, refreshedAt)));
  });
  await Promise.all(detached);

  return { targets: targets.map((t) => results.get(t)!) };
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
