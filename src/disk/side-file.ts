import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The longest file name Linux filesystems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/**
 * The name of a file kept beside PATH while it is written (`.lock`, `.<hex>.tmp`): `.NAME` +
 * SUFFIX, readable, when that fits in a file name; for a name too long for it (a 250-character
 * manifest) `.h-<first 32 hex of sha256(NAME)>` + SUFFIX, so any valid file name works. Both
 * start with a dot and end in SUFFIX, so the sweep of leftovers finds either; every run
 * derives the same name for the same file, so two runs still meet on one lock.
 */
export function sideFilePath(path: string, suffix: string): string {
  const name = basename(path);
  const readable = `.${name}${suffix}`;
  if (Buffer.byteLength(readable) <= NAME_MAX) return join(dirname(path), readable);
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 32);
  return join(dirname(path), `.h-${hash}${suffix}`);
}
