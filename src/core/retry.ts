export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 5000, deadlineMs: 60_000 };

/** The longest --retry-for: a run that long outlives any credentials it waits for. */
export const MAX_RETRY_FOR_MS = 3600_000;
/** Between two attempts of a long retry (--retry-for beyond the default): CAP is asked about once a minute. */
const LONG_RETRY_MAX_DELAY_MS = 60_000;

/**
 * The retry policy of `--retry-for`: the default's few quick attempts within a minute (and
 * at least two request timeouts); beyond that, attempts keep coming, at most a minute apart, until
 * the time is up, so that a run outlasts a CAP outage instead of waiting for the next run.
 */
export function retryPolicyFor(retryForMs: number, timeoutMs: number): RetryPolicy {
  if (retryForMs <= DEFAULT_RETRY.deadlineMs) return { ...DEFAULT_RETRY, deadlineMs: Math.max(retryForMs, timeoutMs * 2) };
  return { ...DEFAULT_RETRY, maxAttempts: Number.POSITIVE_INFINITY, maxDelayMs: LONG_RETRY_MAX_DELAY_MS, deadlineMs: retryForMs };
}

/**
 * Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^(n-1))).
 * A server's Retry-After wins when it is longer.
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = random() * ceiling;
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
