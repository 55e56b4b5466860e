import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CapCredentials } from '../core/credentials.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { formatRfc3339 } from '../core/policy.js';
import type { RefreshTarget, TargetStore, WriteOutcome } from '../refresh/engine.js';
import { writeFileAtomic } from './atomic-write.js';
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
  return names.filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.')).sort().map((n) => join(dir, n));
}

/**
 * Every Secret manifest in `dir` that carries the role annotation. A file that cannot be
 * parsed becomes a failed target (and is never written).
 */
export async function loadManifestTargets(dir: string): Promise<ManifestTarget[]> {
  const targets: ManifestTarget[] = [];
  for (const file of await listManifestFiles(dir)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      targets.push(problemTarget(file, `the manifest cannot be read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}); check its permissions`));
      continue;
    }
    try {
      for (const s of findManagedSecrets(text)) {
        targets.push({
          file,
          docIndex: s.docIndex,
          namespace: s.namespace,
          name: s.name,
          role: s.role,
          ...(s.agency ? { agency: s.agency } : {}),
          ...(s.mission ? { mission: s.mission } : {}),
          ...(s.expiration ? { expiration: s.expiration } : {}),
          ...(s.refreshedAt ? { refreshedAt: s.refreshedAt } : {}),
          ...(s.role === '' ? { problem: `the annotation cap-token-refresh/role is empty in ${file}; set it to the IAM role CAP should issue` } : {}),
        });
      }
    } catch (err) {
      if (!(err instanceof ManifestParseError)) throw err;
      targets.push(problemTarget(file, `${file} was left untouched: ${err.message}; fix the file and run again`));
    }
  }
  return targets;
}

function problemTarget(file: string, problem: string): ManifestTarget {
  return { file, docIndex: -1, namespace: '', name: file, problem };
}

/**
 * Writes credentials into manifest files. Each file is read again, edited in memory and
 * replaced atomically; writes to one file are serialised, so two roles in one file never
 * lose each other's update.
 */
export function createManifestStore(): TargetStore<ManifestTarget> {
  const fileLocks = new Map<string, Promise<unknown>>();
  const withFileLock = <R>(file: string, fn: () => Promise<R>): Promise<R> => {
    const prev = fileLocks.get(file) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    fileLocks.set(file, run.catch(() => undefined));
    return run;
  };

  return {
    async write(targets: ManifestTarget[], creds: CapCredentials, refreshedAt: Date): Promise<WriteOutcome[]> {
      const byFile = new Map<string, ManifestTarget[]>();
      for (const t of targets) byFile.set(t.file, [...(byFile.get(t.file) ?? []), t]);
      const outcomeByFile = new Map<string, WriteOutcome>();
      await Promise.all(
        [...byFile].map(async ([file, inFile]) => {
          const outcome = await withFileLock(file, async (): Promise<WriteOutcome> => {
            try {
              const text = await readFile(file, 'utf8');
              const edited = applyCredentialsToManifest(text, inFile.map((t) => t.docIndex), creds, refreshedAt);
              await writeFileAtomic(file, edited);
              return { ok: true, expiration: formatRfc3339(creds.expiration) };
            } catch (err) {
              return { ok: false, error: describeWriteError(file, err) };
            }
          });
          outcomeByFile.set(file, outcome);
        }),
      );
      return targets.map((t) => outcomeByFile.get(t.file)!);
    },
  };
}

function describeWriteError(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `cannot write ${file} or its folder (${code}); check the permissions, the file was left as it was`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return `the disk is full while writing ${file} (${code}); free space and run again, the file was left as it was`;
  if (err instanceof ManifestParseError) return `${file} changed and no longer parses: ${err.message}; it was left as it was`;
  return `could not write ${file} (${code ?? errorMessage(err)}); it was left as it was`;
}
