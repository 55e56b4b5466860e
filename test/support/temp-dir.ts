// Temporary folders that remove themselves: every folder made here is removed when the test
// file ends (its last afterAll), whether its tests passed or failed. A folder made inside a
// test can be removed sooner with removeWhenTestEnds. Tests never leave anything in the
// temporary directory (CONTRIBUTING.md); run the suite with TMPDIR set to an empty folder to check.
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

const made = new Set<string>();

// Registered once per test file (each file has its own module graph), on the file's root suite.
afterAll(async () => {
  await Promise.all([...made].map((dir) => removeTempDir(dir)));
});

/** Removes a folder made by makeTempDir now (idempotent). */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  made.delete(dir);
}

/** Registers a folder made elsewhere (for example by the command under test) for removal at the end of the file. */
export function removeAtEnd(dir: string): string {
  made.add(dir);
  return dir;
}

/** A new folder under the temporary directory, named PREFIX + random; removed when the test file ends. */
export async function makeTempDir(prefix: string): Promise<string> {
  return removeAtEnd(await mkdtemp(join(tmpdir(), prefix)));
}

/** makeTempDir for module scope, where no await is at hand. */
export function makeTempDirSync(prefix: string): string {
  return removeAtEnd(mkdtempSync(join(tmpdir(), prefix)));
}

/** A folder for one test only: removed when that test ends, pass or fail (and at the end of the file at the latest). */
export async function makeTestTempDir(prefix: string): Promise<string> {
  const dir = await makeTempDir(prefix);
  onTestFinished(() => removeTempDir(dir));
  return dir;
}
