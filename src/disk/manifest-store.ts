import { lstat, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError, errorMessage } from '../core/errors.js';
import { roleChangedMessage, writtenOutcome, type RefreshTarget, type TargetStore, type WriteBatch, type WriteOutcome } from '../core/target-store.js';
import { writeFileAtomic } from './atomic-write.js';
import { sideFilePath } from './side-file.js';
import { ManifestFileError, readManifestFile } from './read-manifest-file.js';
import { LockBusyError, removeStaleLock, withFileLock, type FileLockOptions } from './file-lock.js';
import { applyCredentialsToManifest, findManagedSecrets, ManifestParseError } from './secret-manifest.js';

export interface ManifestTarget extends RefreshTarget {
  file: string;
  docIndex: number;
}

/** The YAML files of a manifests folder, in a stable order. Hidden files (our temporaries) are skipped. */
export async function listManifestFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`the manifests folder ${dir} ${code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : 'cannot be read'}`);
  }
  return names
    .filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Every Secret manifest in `dir` that carries the role annotation, each file read once
 * through `readFile`. A file that cannot be read or parsed becomes a failed target (and is never written).
 */
export async function loadManifestTargets(dir: string, readFile: (file: string) => Promise<string> = readManifestFile): Promise<ManifestTarget[]> {
  const targets: ManifestTarget[] = [];
  for (const file of await listManifestFiles(dir)) {
    const text = await readFile(file).catch((err: unknown) => {
      targets.push(unreadableManifestTarget(file, err));
      return undefined;
    });
    if (text !== undefined) targets.push(...manifestTargetsOf(file, text));
  }
  return targets;
}

/** The failed target of a manifest file that could not be read, saying why. */
export function unreadableManifestTarget(file: string, err: unknown): ManifestTarget {
  if (err instanceof ManifestFileError) return problemTarget(file, err.message);
  return problemTarget(file, `the manifest cannot be read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); check its permissions`);
}

/** The targets of one manifest file's text; a text that cannot be parsed is one failed target. */
export function manifestTargetsOf(file: string, text: string): ManifestTarget[] {
  try {
    return findManagedSecrets(text).map((s) => ({
      file,
      docIndex: s.docIndex,
      namespace: s.namespace,
      name: s.name,
      role: s.role,
      ...(s.agency ? { agency: s.agency } : {}),
      ...(s.mission ? { mission: s.mission } : {}),
      ...(s.account ? { account: s.account } : {}),
      ...(s.expiration ? { expiration: s.expiration } : {}),
      ...(s.refreshedAt ? { refreshedAt: s.refreshedAt } : {}),
      ...(s.issuedRole ? { issuedRole: s.issuedRole } : {}),
      ...(s.clockOffsetSeconds !== undefined ? { clockOffsetSeconds: s.clockOffsetSeconds } : {}),
      ...(s.dataProblem ? { dataProblem: s.dataProblem } : {}),
      ...(s.role === '' ? { problem: `the annotation cap-token-refresh/role is empty in ${file}; set it to the IAM role CAP should issue` } : {}),
    }));
  } catch (err) {
    if (!(err instanceof ManifestParseError)) throw err;
    return [problemTarget(file, `${file} was left untouched: ${err.message}; fix the file and run again`)];
  }
}

function problemTarget(file: string, problem: string): ManifestTarget {
  return { file, docIndex: -1, namespace: '', name: file, problem };
}

/** What the store does to the disk; injectable so tests can make a write fail (a full disk, a read-only folder). */
export interface ManifestStoreDeps {
  readFile: (path: string) => Promise<string>;
  writeFile: (path: string, content: string) => Promise<void>;
  /** Options of the lock each write holds (timeouts, and identity for tests). */
  lock?: FileLockOptions;
  now?: () => number;
}

/** Temporaries older than this are left over from a run that was killed; a write lives for milliseconds. */
const STALE_TEMPORARY_MS = 60_000;
const TEMPORARY = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;
const LOCK = /^\.(.+)\.lock$/;

/**
 * Writes credentials into manifest files. Each file is written under a lock file beside it
 * (`.NAME.lock`, so two runs at once never edit one file together), read again, edited in
 * memory and replaced atomically.
 *
 * Before editing, the store asks the engine about each Secret as it is now in the file
 * (WriteBatch.keptExpiration): when another run refreshed it after this one loaded it, that
 * run's credentials are kept (outcome `kept`), not written a second time for one due period.
 *
 * Before its first write to a folder the store removes what killed runs left there:
 * temporaries (`.NAME.<hex>.tmp`) older than a minute and lock files of dead processes.
 */
export function createManifestStore(overrides: Partial<ManifestStoreDeps> = {}): TargetStore<ManifestTarget> {
  const deps: ManifestStoreDeps = {
    readFile: readManifestFile,
    writeFile: (path, content) => writeFileAtomic(path, content),
    ...overrides,
  };
  const now = deps.now ?? Date.now;
  const fileQueues = new Map<string, Promise<unknown>>();
  const inProcess = <R>(file: string, fn: () => Promise<R>): Promise<R> => {
    const prev = fileQueues.get(file) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    fileQueues.set(
      file,
      run.catch(() => undefined),
    );
    return run;
  };
  const swept = new Map<string, Promise<void>>();
  const sweepOnce = (dir: string): Promise<void> => {
    let sweep = swept.get(dir);
    if (!sweep) {
      sweep = removeLeftovers(dir, now(), deps.lock);
      swept.set(dir, sweep);
    }
    return sweep;
  };

  async function writeFile(file: string, inFile: ManifestTarget[], batch: WriteBatch<ManifestTarget>): Promise<WriteOutcome[]> {
    await sweepOnce(dirname(file));
    return withFileLock(
      sideFilePath(file, '.lock'),
      async () => {
        const text = await deps.readFile(file);
        const current = findManagedSecrets(text);
        const outcomes: WriteOutcome[] = [];
        const toWrite: number[] = [];
        const written = writtenOutcome(batch.creds);
        for (const t of inFile) {
          const onDisk =
            current.find((s) => s.docIndex === t.docIndex && s.namespace === t.namespace && s.name === t.name) ??
            current.find((s) => s.namespace === t.namespace && s.name === t.name);
          const kept = onDisk && batch.keptExpiration(t, onDisk);
          if (!onDisk) {
            outcomes.push({ kind: 'failed', error: `the Secret ${t.namespace}/${t.name} is no longer in ${file}; the file was left as it was` });
          } else if (batch.issuedRole !== undefined && onDisk.role !== t.role) {
            // The credentials were asked for the old role; fill's one response (no issued role) is for every role and goes in anyway.
            outcomes.push({ kind: 'failed', error: roleChangedMessage(t.namespace, t.name, onDisk.role) });
          } else if (kept) {
            outcomes.push({ kind: 'kept', expiration: kept });
          } else {
            toWrite.push(onDisk.docIndex);
            outcomes.push(written);
          }
        }
        if (toWrite.length > 0) await deps.writeFile(file, applyCredentialsToManifest(text, toWrite, batch.creds, batch.refreshedAt, batch.issuedRole));
        return outcomes;
      },
      deps.lock,
    );
  }

  return {
    // A role's files are written inside its CAP slot: --concurrency 1 writes one role at a time, in order.
    writesInCapSlot: true,
    async write(targets: ManifestTarget[], batch: WriteBatch<ManifestTarget>): Promise<WriteOutcome[]> {
      const byFile = new Map<string, ManifestTarget[]>();
      for (const t of targets) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t]);
      const outcomes = new Map<ManifestTarget, WriteOutcome>();
      await Promise.all(
        [...byFile].map(async ([file, inFile]) => {
          let results: WriteOutcome[];
          try {
            results = await inProcess(file, () => writeFile(file, inFile, batch));
          } catch (err) {
            const error = describeWriteError(file, err);
            results = inFile.map(() => ({ kind: 'failed', error }));
          }
          for (const [i, t] of inFile.entries()) outcomes.set(t, results[i] ?? { kind: 'failed', error: `${file} was left as it was: not written` });
        }),
      );
      return targets.map((t) => outcomes.get(t) ?? { kind: 'failed', error: `${t.file} was left as it was: not written` });
    },
  };
}

/** Removes temporaries and lock files that killed runs left in DIR. Never fails: a leftover is only clutter. */
async function removeLeftovers(dir: string, now: number, lock: FileLockOptions | undefined): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      try {
        if (TEMPORARY.test(name)) {
          const st = await lstat(path);
          if (st.isFile() && now - st.mtimeMs > STALE_TEMPORARY_MS) await unlink(path);
        } else if (LOCK.test(name)) {
          await removeStaleLock(path, { ...lock, now: () => now });
        }
      } catch {
        // Gone already, or not ours to remove.
      }
    }),
  );
}

function describeWriteError(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return `cannot write ${file} or its folder (${code}); check the permissions, the file was left as it was`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `the disk is full while writing ${file} (${code}); free space and run again, the file was left as it was`;
  if (err instanceof ManifestFileError) return `${err.message}; the file was left as it was`;
  if (err instanceof ManifestParseError) return `${file} was left as it was: ${err.message}; fix the file and run again`;
  if (err instanceof LockBusyError) return `${file} was left as it was: ${err.message}`;
  return `could not write ${file} (${code ?? errorMessage(err)}); it was left as it was`;
}
