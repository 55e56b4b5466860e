// Real disk faults for the end-to-end tests: a folder the tool cannot write to, a file it
// cannot replace, a filesystem that is full. Tests run as root here and in CI, where mode
// bits stop nothing, so each helper tries what works (chmod, chattr +i, a tmpfs mount),
// proves it, and returns undefined when nothing does; the store's unit tests inject the
// same faults regardless.

import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Fault {
  how: string;
  undo(): Promise<void>;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

async function canCreateIn(dir: string): Promise<boolean> {
  const probe = join(dir, `.probe-${process.pid}`);
  try {
    await writeFile(probe, 'x');
    await rm(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** No file can be created, renamed or removed in DIR any more. */
export async function makeFolderReadOnly(dir: string): Promise<Fault | undefined> {
  if (!isRoot()) {
    await chmod(dir, 0o555);
    if (!(await canCreateIn(dir))) return { how: 'chmod 0555', undo: () => chmod(dir, 0o755) };
    await chmod(dir, 0o755);
  }
  if (run('chattr', ['+i', dir])) {
    if (!(await canCreateIn(dir))) return { how: 'chattr +i', undo: async () => void run('chattr', ['-i', dir]) };
    run('chattr', ['-i', dir]);
  }
  return undefined;
}

/** FILE cannot be replaced or removed (chattr +i), the folder stays writable. */
export async function makeFileImmutable(file: string): Promise<Fault | undefined> {
  if (!run('chattr', ['+i', file])) return undefined;
  return { how: 'chattr +i', undo: async () => void run('chattr', ['-i', file]) };
}

export interface SmallFilesystem {
  dir: string;
  /** Remounts it read-only (a read-only folder where chattr does not work). */
  remountReadOnly(): boolean;
  unmount(): Promise<void>;
}

/** A tmpfs of SIZE kilobytes mounted on a new temporary folder; undefined where mount is not allowed. */
export async function mountSmallFilesystem(sizeKb: number): Promise<SmallFilesystem | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'ctr-smallfs-'));
  if (!run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', dir])) {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    remountReadOnly: () => run('mount', ['-o', 'remount,ro', dir]),
    async unmount() {
      run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem of DIR with 4 KiB files until it is full; returns their paths. */
export async function fillFilesystem(dir: string): Promise<string[]> {
  const fillers: string[] = [];
  const block = Buffer.alloc(4096, 120);
  for (let i = 0; i < 100_000; i += 1) {
    const path = join(dir, `.filler-${i}`);
    try {
      await writeFile(path, block);
      fillers.push(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        await rm(path, { force: true });
        return fillers;
      }
      throw err;
    }
  }
  throw new Error(`${dir} never filled up`);
}
