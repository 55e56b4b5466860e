// The AWS `credential_process` output and the cache entry behind it. Pure: no fs, no clock.
import { createHash } from 'node:crypto';
import { parseCapResponse } from '../core/cap-response.js';
import type { CapCredentials } from '../core/credentials.js';

/** What one cache entry is for: the same CAP, agency, mission and role give the same credentials. */
export interface CacheKey {
  /** The credentials endpoint without a query, as describeUrl(buildCredentialsUrl(...)) gives it. */
  capUrl: string;
  agency: string;
  mission: string;
  role: string;
}

/** sha256 of the key tuple: a file name that says nothing about the role or the CAP. */
export function cacheFileName(key: CacheKey): string {
  return `${createHash('sha256')
    .update(JSON.stringify([key.capUrl, key.agency, key.mission, key.role]))
    .digest('hex')}.json`;
}

/** The JSON the AWS CLI and SDKs expect from a credential_process, on one line. */
export function renderProcessCredentials(creds: CapCredentials): string {
  return `${JSON.stringify({
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: creds.expiration.toISOString(),
  })}\n`;
}

export function serializeCacheEntry(key: CacheKey, creds: CapCredentials): string {
  return `${JSON.stringify({
    Key: key,
    Credentials: {
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: creds.sessionToken,
      Expiration: creds.expiration.toISOString(),
    },
  })}\n`;
}

export type CacheVerdict = { usable: true; creds: CapCredentials } | { usable: false; why: 'corrupt' | 'other-key' | 'expired' | 'expiring' };

/**
 * Reads a cache entry: usable when it parses, belongs to `key`, and has at least
 * `minRemainingMs` left at `now`. Anything else is a miss, never an error.
 */
export function judgeCacheEntry(text: string, key: CacheKey, now: Date, minRemainingMs: number): CacheVerdict {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { usable: false, why: 'corrupt' };
  }
  const stored = (json as { Key?: Partial<CacheKey> } | null)?.Key;
  if (!stored || stored.capUrl !== key.capUrl || stored.agency !== key.agency || stored.mission !== key.mission || stored.role !== key.role) {
    return { usable: false, why: typeof json === 'object' && json !== null && 'Key' in json ? 'other-key' : 'corrupt' };
  }
  let creds: CapCredentials;
  try {
    creds = parseCapResponse(JSON.stringify({ Credentials: (json as { Credentials?: unknown }).Credentials }), now);
  } catch (err) {
    return { usable: false, why: (err as { kind?: string }).kind === 'expired-credentials' ? 'expired' : 'corrupt' };
  }
  if (creds.expiration.getTime() - now.getTime() < minRemainingMs) return { usable: false, why: 'expiring' };
  return { usable: true, creds };
}
