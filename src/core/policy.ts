import { parseIsoTime } from './cap-response.js';

export interface RefreshPolicy {
  /** Refresh when less than this is left, in ms (`--renew-before`); 0 leaves only the third-of-lifetime rule. */
  renewBeforeMs: number;
  force: boolean;
}

export type RefreshReason =
  | 'forced'
  | 'unusable-data'
  | 'seeded'
  | 'role-changed'
  | 'no-expiration'
  | 'invalid-expiration'
  | 'expired'
  | 'lifetime-third'
  | 'renew-before'
  | 'fresh';

/** What the policy reads of a target: its annotations, and what is wrong with its data (see findSecretDataProblem). */
export interface RefreshState {
  expiration?: string;
  refreshedAt?: string;
  /** `cap-token-refresh/role`; when absent the role rules do not apply. */
  role?: string;
  /** `cap-token-refresh/issued-role`: the role CAP was asked for at the last refresh. */
  issuedRole?: string;
  /** Why the data cannot serve the operator; undefined when it can. */
  dataProblem?: string;
}

/** What a managed Secret's annotations and data say, wherever it lives (a manifest or a cluster): the policy's state and the CAP settings it overrides. */
export interface SecretState extends RefreshState {
  /** `cap-token-refresh/agency`, `/mission`, `/account`: overrides of the CAP settings for this Secret. */
  agency?: string;
  mission?: string;
  account?: string;
  /** `cap-token-refresh/clock-offset-seconds`: CAP's clock minus the refreshing node's at the last refresh, when over 60 s. */
  clockOffsetSeconds?: number;
}

export interface RefreshDecision {
  due: boolean;
  reason: RefreshReason;
  expiration?: Date;
}

/**
 * docs/DESIGN.md's refresh policy: due, whatever the annotations say, when the data cannot serve
 * (empty, missing, or a `credentials` INI that is not the plain one); due when the issued-role
 * annotation is missing (seeded by `fill`) or differs from the role; due when there is no
 * (valid) expiration annotation, when less than a third of the lifetime (expiration -
 * refreshed-at) is left, when less than renewBefore is left, or when forced; fresh otherwise.
 */
export function decideRefresh(annotations: RefreshState, now: Date, policy: RefreshPolicy): RefreshDecision {
  const expiration = annotations.expiration ? parseIsoTime(annotations.expiration) : undefined;
  const withExpiry = <T extends object>(d: T) => (expiration ? { ...d, expiration } : d);
  if (policy.force) return withExpiry({ due: true, reason: 'forced' as const });
  // Expired first: status fails on it whatever else is wrong.
  if (expiration && expiration.getTime() <= now.getTime()) return { due: true, reason: 'expired', expiration };
  if (annotations.dataProblem !== undefined) return withExpiry({ due: true, reason: 'unusable-data' as const });
  if (annotations.role !== undefined) {
    if (annotations.issuedRole === undefined) return withExpiry({ due: true, reason: 'seeded' as const });
    if (annotations.issuedRole !== annotations.role) return withExpiry({ due: true, reason: 'role-changed' as const });
  }
  if (!annotations.expiration) return { due: true, reason: 'no-expiration' };
  if (!expiration) return { due: true, reason: 'invalid-expiration' };
  const left = expiration.getTime() - now.getTime();
  if (left <= 0) return { due: true, reason: 'expired', expiration };
  if (left < policy.renewBeforeMs) return { due: true, reason: 'renew-before', expiration };
  const refreshedAt = annotations.refreshedAt ? parseIsoTime(annotations.refreshedAt) : undefined;
  if (refreshedAt) {
    const lifetime = expiration.getTime() - refreshedAt.getTime();
    if (lifetime > 0 && left * 3 < lifetime) return { due: true, reason: 'lifetime-third', expiration };
  }
  return { due: false, reason: 'fresh', expiration };
}

/** RFC 3339 in UTC without milliseconds, the form the annotations use. */
export function formatRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
