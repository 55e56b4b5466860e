import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sideFilePath } from './side-file.js';

/**
 * Writes a file so that readers see the old content or the new, never a part: a temporary
 * file beside it (same filesystem), fsync, then rename over the target. Mode 0600, since
 * these files hold credentials or keys. The temporary is `.NAME.<hex>.tmp`, or a hashed name
 * when NAME is too long for that (sideFilePath).
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = sideFilePath(path, `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncFolder(dirname(path));
}

/** Makes the rename itself durable across a power loss. Best effort: some filesystems refuse it. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}
