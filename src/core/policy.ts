import { parseIsoTime } from './cap-response.js';

export interface RefreshPolicy {
  /** Refresh when less than this is left, in ms (`--renew-before`); 0 leaves only the third-of-lifetime rule. */
  renewBeforeMs: number;
  force: boolean;
}

export type RefreshReason = 'forced' | 'no-expiration' | 'invalid-expiration' | 'expired' | 'lifetime-third' | 'renew-before' | 'fresh';

export interface RefreshDecision {
  due: boolean;
  reason: RefreshReason;
  expiration?: Date;
}

/**
 * DESIGN.md's refresh policy: due when there is no (valid) expiration annotation, when less
 * than a third of the lifetime (expiration - refreshed-at) is left, when less than
 * renewBefore is left, or when forced; fresh otherwise.
 */
export function decideRefresh(annotations: { expiration?: string; refreshedAt?: string }, now: Date, policy: RefreshPolicy): RefreshDecision {
  const expiration = annotations.expiration ? parseIsoTime(annotations.expiration) : undefined;
  const withExpiry = <T extends object>(d: T) => (expiration ? { ...d, expiration } : d);
  if (policy.force) return withExpiry({ due: true, reason: 'forced' as const });
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
