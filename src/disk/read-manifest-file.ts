import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';

/** A Secret is at most 1 MiB in Kubernetes, so a larger manifest file cannot be one: it is refused before parsing. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** A manifest file that is not read: not a regular file, or larger than MAX_MANIFEST_BYTES. The message names the file. */
export class ManifestFileError extends Error {
  override name = 'ManifestFileError';
}

function kindOf(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Reads a manifest file as UTF-8, only if it is a regular file of at most 1 MiB. A link is
 * followed, but what it leads to is checked on the open descriptor (opened non-blocking, so
 * a FIFO cannot hang the run), and at most 1 MiB + 1 byte is ever read: a FIFO, a device
 * (`/dev/zero`) or an oversized file fails alone with a message naming it.
 */
export async function readManifestFile(file: string): Promise<string> {
  // Not even opened when the name itself is something else (opening some devices has effects).
  const named = await lstat(file);
  if (!named.isSymbolicLink() && !named.isFile()) throw new ManifestFileError(`${file} is ${kindOf(named)}, not a regular file, so it was not read`);
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ManifestFileError(`${file} leads to ${kindOf(st)}, not a regular file, so it was not read`);
    if (st.size > MAX_MANIFEST_BYTES) throw tooLarge(file, st.size);
    let buf = Buffer.alloc(st.size + 1);
    let length = 0;
    // The file may grow while it is read: read to its end, never past the cap.
    for (;;) {
      if (length === buf.length) {
        if (buf.length > MAX_MANIFEST_BYTES) throw tooLarge(file, length);
        const bigger = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_MANIFEST_BYTES) throw tooLarge(file, length);
    return buf.subarray(0, length).toString('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function tooLarge(file: string, size: number): ManifestFileError {
  return new ManifestFileError(
    `${file} is ${size > MAX_MANIFEST_BYTES * 1.05 ? mib(size) : 'over 1 MiB'}, larger than a Kubernetes Secret can be (1 MiB), so it was not read`,
  );
}
