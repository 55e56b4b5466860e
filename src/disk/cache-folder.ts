import { lstat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Why a cache folder is not used. Each is a folder another user could have planted or can write into. */
export type CacheFolderRefusal = 'symlink' | 'not-a-folder' | 'foreign-owner' | 'writable-by-others';

export type CacheFolderCheck = { usable: true; exists: boolean } | { usable: false; why: CacheFolderRefusal };

/** The effective user id, or undefined where there is none (Windows). */
export function effectiveUid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}

/**
 * Whether `dir` may hold this user's cached credentials. Never follows a link: a
 * `cap-token-refresh` link planted in a shared XDG_CACHE_HOME is refused, not adopted.
 * A folder owned by another user, or writable by group or others, is refused too, and
 * never chmod-ed: whoever can write into it can swap the files we read.
 */
export async function checkCacheFolder(dir: string, uid = effectiveUid()): Promise<CacheFolderCheck> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { usable: true, exists: false };
    throw err;
  }
  if (st.isSymbolicLink()) return { usable: false, why: 'symlink' };
  if (!st.isDirectory()) return { usable: false, why: 'not-a-folder' };
  if (uid !== undefined && st.uid !== uid) return { usable: false, why: 'foreign-owner' };
  if ((Number(st.mode) & 0o022) !== 0) return { usable: false, why: 'writable-by-others' };
  return { usable: true, exists: true };
}

/**
 * Creates the cache folder (0700) if it is missing, then checks it again: the last
 * component is made with a plain mkdir, which fails rather than follow a link put there
 * in between. Parents (~/.cache) are created as needed with the default mode.
 */
export async function ensureCacheFolder(dir: string, uid = effectiveUid()): Promise<CacheFolderCheck> {
  const before = await checkCacheFolder(dir, uid);
  if (!before.usable || before.exists) return before;
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return checkCacheFolder(dir, uid);
}

/** The one warning for a refused cache folder; it names the folder and the reason, nothing else. */
export function describeCacheRefusal(dir: string, why: CacheFolderRefusal): string {
  const reason = {
    symlink: 'is a symbolic link',
    'not-a-folder': 'is not a folder',
    'foreign-owner': 'is owned by another user',
    'writable-by-others': 'is writable by other users',
  }[why];
  return `the cache folder ${dir} ${reason}, so it is not used and credentials are not cached; every call asks CAP (remove it, or point XDG_CACHE_HOME at a folder of your own)`;
}
