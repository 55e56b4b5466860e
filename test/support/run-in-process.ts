import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/program.js';
import { streamContext } from '../../src/cli/stream-context.js';
import { Redactor } from '../../src/log/redactor.js';
import { REPO_ROOT, tmpdirEnv, type CliResult } from './run-cli.js';

export interface InProcessOptions {
  /** Added to the clean environment runCli gives a spawned command: PATH, HOME, TMPDIR. */
  env?: Record<string, string>;
  /** Default: the repository root, as for runCli. */
  cwd?: string;
  /**
   * The clock. A Date starts a fake clock there that moves only when the command sleeps (a
   * retry's back-off then takes no time); a function is used as it is. Default: the wall clock.
   */
  now?: Date | (() => Date);
  /** Standard input; default: empty. */
  stdin?: string | Buffer;
}

export interface InProcessResult extends CliResult {
  /** The run's redactor, holding every secret the command registered. */
  redactor: Redactor;
}

/** A stream that keeps what is written to it, synchronously, in order. */
function collector(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = {
    write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs a command in this process through the CLI entry the bundle uses (runCli, over the
 * context stream-context.ts builds, with its redaction guard on stdout and stderr), with
 * buffers for stdout and stderr, the given environment, cwd, clock and standard input. The
 * exit status is what the process would exit with; nothing calls process.exit. Never throws
 * on a non-zero exit, like runCli.
 *
 * What it does not prove, and the spawn tests (runCli) do: the bundle and bin/ start, and
 * what a library writes to the real process.stdout/stderr passes the guard too.
 */
export async function runInProcess(args: string[], opts: InProcessOptions = {}): Promise<InProcessResult> {
  const stdout = collector();
  const stderr = collector();
  const redactor = new Redactor();
  let now: (() => Date) | undefined;
  let sleep: ((ms: number) => Promise<void>) | undefined;
  if (opts.now instanceof Date) {
    let at = opts.now.getTime();
    now = () => new Date(at);
    sleep = (ms) => {
      at += Math.max(0, ms);
      return new Promise((resolve) => setImmediate(resolve));
    };
  } else if (opts.now) now = opts.now;
  const ctx = streamContext(
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...tmpdirEnv(), ...opts.env },
      cwd: opts.cwd ?? REPO_ROOT,
      stdin: () => Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
      stdout: stdout.stream,
      stderr: stderr.stream,
      stderrIsTTY: false,
      ...(now ? { now } : {}),
      ...(sleep ? { sleep } : {}),
    },
    redactor,
  );
  const code = await runCli(args, ctx);
  return { code, stdout: stdout.text(), stderr: stderr.text(), redactor };
}
