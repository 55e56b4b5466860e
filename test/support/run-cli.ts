import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

export { FIXTURES } from './fixtures.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = resolve(REPO_ROOT, 'bin', 'cap-token-refresh');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built command (`npm run build` first) as a user would, with a clean environment:
 * only PATH, HOME, TMPDIR (so what it makes lands where the test run's temporaries do) and what the test passes. Never throws on a non-zero exit.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: opts.cwd ?? REPO_ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...tmpdirEnv(), ...opts.env },
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** TMPDIR when the test run has one, so a suite run with TMPDIR set leaves nothing in /tmp either. */
export function tmpdirEnv(): Record<string, string> {
  return process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {};
}
