import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { CapCredentials } from '../core/credentials.js';
import { writeFileAtomic } from './atomic-write.js';
import { effectiveUid, ensureCacheFolder, type CacheFolderCheck } from './cache-folder.js';
import { cacheFileName, judgeCacheEntry, serializeCacheEntry, type CacheKey, type CacheVerdict } from '../aws/process-credentials.js';

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

/** A cache entry is a few hundred bytes; anything much larger is not ours. */
const MAX_CACHE_ENTRY_BYTES = 64 * 1024;

/**
 * The cached credentials for `key`, or why there are none. The file is opened without
 * following a link and without blocking, and the open descriptor is checked (a regular
 * file with one link, owned by the effective user, no group or other access) before a
 * byte is read: what is checked is what is read, so a file swapped in between is never
 * trusted. Anything else is a miss; it is replaced on the next write.
 */
export async function readCachedCredentials(dir: string, key: CacheKey, now: Date, minRemainingMs: number): Promise<CacheLookup> {
  const file = join(dir, cacheFileName(key));
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { usable: false, why: code === 'ENOENT' ? 'missing' : code === 'ELOOP' ? 'unsafe-mode' : 'unreadable' };
  }
  try {
    const st = await handle.stat();
    const uid = effectiveUid();
    if (!st.isFile() || st.nlink !== 1 || (st.mode & 0o077) !== 0 || (uid !== undefined && st.uid !== uid) || st.size > MAX_CACHE_ENTRY_BYTES) {
      return { usable: false, why: 'unsafe-mode' };
    }
    const buf = Buffer.alloc(MAX_CACHE_ENTRY_BYTES + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_CACHE_ENTRY_BYTES) return { usable: false, why: 'unsafe-mode' };
    return judgeCacheEntry(buf.subarray(0, bytesRead).toString('utf8'), key, now, minRemainingMs);
  } catch {
    return { usable: false, why: 'unreadable' };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Stores credentials for `key`, file 0600 written atomically, into a folder that
 * ensureCacheFolder accepts (created 0700 if missing). Returns the refusal when the folder
 * is not ours, writing nothing.
 */
export async function writeCachedCredentials(dir: string, key: CacheKey, creds: CapCredentials): Promise<CacheFolderCheck> {
  const folder = await ensureCacheFolder(dir);
  if (!folder.usable) return folder;
  await writeFileAtomic(join(dir, cacheFileName(key)), serializeCacheEntry(key, creds), 0o600);
  return folder;
}
