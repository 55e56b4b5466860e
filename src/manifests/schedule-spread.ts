import { createHash } from 'node:crypto';
import { DEFAULT_SCHEDULE } from './kubernetes-objects.js';

/** The default schedule's period in minutes (DEFAULT_SCHEDULE). A spread schedule keeps it, so the gap between runs (and the alerts) stay the same. */
export const DEFAULT_PERIOD_MINUTES = 5;

/**
 * The minute offset of a cluster within the default period: the SHA-256 of the cluster name
 * (UTF-8), read as one big-endian number, modulo the period. Stable across runs, machines and
 * versions; anyone can check it: `printf %s NAME | sha256sum`, then that hex number mod 5.
 */
export function scheduleOffset(clusterName: string, periodMinutes = DEFAULT_PERIOD_MINUTES): number {
  const hex = createHash('sha256').update(clusterName, 'utf8').digest('hex');
  return Number(BigInt(`0x${hex}`) % BigInt(periodMinutes));
}

/**
 * The CronJob schedule `generate` writes. An explicit `--schedule` is kept as given. Without
 * one, the default every-5-minutes schedule is moved by the cluster's offset: `M-59/5 * * * *`
 * (minutes M, M+5, ..., M+55 of every hour), so that clusters do not all call CAP in the same
 * minute. The gap between runs stays 5 minutes, hour boundary included (M+55 to 60+M).
 * Without a cluster name the plain default stays, so output without --cluster-name is the
 * same everywhere (the committed manifests/ among it).
 *
 * `M-59/5` is a range with a step, which the CronJob controller's parser (robfig/cron v3,
 * standard five fields) accepts; M = 0 gives DEFAULT_SCHEDULE itself.
 */
export function cronJobSchedule(given: { schedule?: string | undefined; clusterName?: string | undefined }): string {
  if (given.schedule !== undefined) return given.schedule;
  if (given.clusterName === undefined || given.clusterName.trim() === '') return DEFAULT_SCHEDULE;
  const offset = scheduleOffset(given.clusterName.trim());
  return offset === 0 ? DEFAULT_SCHEDULE : `${offset}-59/${DEFAULT_PERIOD_MINUTES} * * * *`;
}
