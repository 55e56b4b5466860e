import { chmod, lstat, mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { CapCredentials } from '../core/credentials.js';
import { writeFileAtomic } from '../disk/atomic-write.js';
import { cacheFileName, judgeCacheEntry, serializeCacheEntry, type CacheKey, type CacheVerdict } from './process-credentials.js';

/**
 * The user's cache folder for credential_process: $XDG_CACHE_HOME (when absolute, as the
 * XDG spec says) or ~/.cache, then `cap-token-refresh`. Undefined when neither is known.
 */
export function resolveCacheDir(env: Record<string, string | undefined>): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'cap-token-refresh');
  if (env.HOME) return join(env.HOME, '.cache', 'cap-token-refresh');
  return undefined;
}

export type CacheLookup = CacheVerdict | { usable: false; why: 'missing' | 'unsafe-mode' | 'unreadable' };

/**
 * The cached credentials for `key`, or why there are none. A file that others could read
 * or write (not a regular 0600-style file) is not trusted; it is replaced on the next write.
 */
export async function readCachedCredentials(dir: string, key: CacheKey, now: Date, minRemainingMs: number): Promise<CacheLookup> {
  const file = join(dir, cacheFileName(key));
  try {
    const st = await lstat(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && st.uid !== process.getuid())) {
      return { usable: false, why: 'unsafe-mode' };
    }
    return judgeCacheEntry(await readFile(file, 'utf8'), key, now, minRemainingMs);
  } catch (err) {
    return { usable: false, why: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
}

/** Stores credentials for `key`: folder 0700, file 0600, written atomically. */
export async function writeCachedCredentials(dir: string, key: CacheKey, creds: CapCredentials): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The folder is ours alone even if something else created it first.
  await chmod(dir, 0o700);
  await writeFileAtomic(join(dir, cacheFileName(key)), serializeCacheEntry(key, creds), 0o600);
}
