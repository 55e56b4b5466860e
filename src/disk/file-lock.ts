import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { open, readFile, stat, unlink } from 'node:fs/promises';

/**
 * A lock file beside the file it guards, so that two processes (two refresh runs at once)
 * never edit one manifest together. Created with O_EXCL; it holds the owner's pid, host,
 * time and a random token, and is removed when the work is done.
 *
 * A lock is stale, and is removed by the next process that meets it, when its process is
 * gone (same host, pid not alive), when it is older than `staleAfterMs` (a write holds it for
 * milliseconds), or when it is empty and older than a second (its owner died while creating
 * it). Two processes breaking the same stale lock at the same instant is the one race left:
 * each re-reads the lock just before removing it and only removes the stale one it saw.
 */
export interface FileLockOptions {
  /** Give up waiting after this long; default 30 s. */
  timeoutMs?: number;
  /** A lock older than this is stale whoever holds it; default 20 s. */
  staleAfterMs?: number;
  pid?: number;
  hostname?: string;
  now?: () => number;
}

interface LockContent {
  pid: number;
  host: string;
  at: number;
  token: string;
}

export class LockBusyError extends Error {
  override name = 'LockBusyError';
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `another cap-token-refresh run${holderPid ? ` (pid ${holderPid})` : ''} kept the lock ${lockPath}; ` +
        `wait for it to finish, or delete ${lockPath} if no run is active`,
    );
  }
}

export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const release = await acquireFileLock(lockPath, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}

export async function acquireFileLock(lockPath: string, opts: FileLockOptions = {}): Promise<() => Promise<void>> {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const mine: LockContent = { pid: opts.pid ?? process.pid, host: opts.hostname ?? osHostname(), at: now(), token: randomBytes(8).toString('hex') };
  const deadline = now() + timeoutMs;
  let holder: LockContent | undefined;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ ...mine, at: now() }));
        await handle.close();
      } catch (err) {
        // A full disk creates the (empty) file and then refuses its content: the lock is
        // ours and was never taken, so it goes now rather than waiting for the next run.
        await handle.close().catch(() => undefined);
        await unlink(lockPath).catch(() => undefined);
        throw err;
      }
      return async () => {
        // Only our own lock is removed (it may have been broken as stale and taken by another).
        const current = await readLock(lockPath);
        if (current.content?.token === mine.token) await unlink(lockPath).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await readLock(lockPath);
    holder = seen.content;
    if (seen.exists && isStale(seen, mine.host, opts.staleAfterMs ?? 20_000, now())) {
      await breakLock(lockPath, seen.raw);
      continue;
    }
    if (now() >= deadline) throw new LockBusyError(lockPath, holder?.pid);
    await sleep(Math.min(5 + attempt * 5, 50) + Math.random() * 10);
  }
}

/** Removes a lock file left by a process that is gone; true when one was removed. */
export async function removeStaleLock(lockPath: string, opts: Pick<FileLockOptions, 'staleAfterMs' | 'hostname' | 'now'> = {}): Promise<boolean> {
  const seen = await readLock(lockPath);
  if (!seen.exists || !isStale(seen, opts.hostname ?? osHostname(), opts.staleAfterMs ?? 20_000, (opts.now ?? Date.now)())) return false;
  return breakLock(lockPath, seen.raw);
}

interface SeenLock {
  exists: boolean;
  raw: string;
  content?: LockContent;
  mtimeMs: number;
}

async function readLock(lockPath: string): Promise<SeenLock> {
  try {
    const [raw, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    let content: LockContent | undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<LockContent>;
      if (typeof parsed.pid === 'number' && typeof parsed.at === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string')
        content = parsed as LockContent;
    } catch {
      // Empty or torn: its owner died while creating it.
    }
    return { exists: true, raw, mtimeMs: st.mtimeMs, ...(content ? { content } : {}) };
  } catch {
    return { exists: false, raw: '', mtimeMs: 0 };
  }
}

function isStale(seen: SeenLock, host: string, staleAfterMs: number, now: number): boolean {
  if (!seen.content) return now - seen.mtimeMs > 1000;
  if (now - seen.content.at > staleAfterMs) return true;
  return seen.content.host === host && !isAlive(seen.content.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function breakLock(lockPath: string, raw: string): Promise<boolean> {
  const again = await readLock(lockPath);
  if (!again.exists || again.raw !== raw) return false;
  await unlink(lockPath).catch(() => undefined);
  return true;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
