import { randomInt } from 'node:crypto';
import { StdinTooLargeError, type CommandContext } from '../commands/context.js';
import { Redactor } from '../log/redactor.js';

/** What a run of the CLI reads and writes: the process's own in the bundle, buffers and a fake clock in the in-process test harness. */
export interface CliStreams {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Standard input, opened only when a command reads it (the process's stdin is not touched otherwise). */
  stdin: () => AsyncIterable<unknown> & { destroy(): void };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stderrIsTTY: boolean;
  /** Defaults: the wall clock, timers, and a cryptographic random number. */
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * The command context over a run's streams, with the second line of defence in place before
 * anything can print: every byte written to `stdout` or `stderr` (commands, commander's help
 * and usage errors, a library's warning) passes through the redactor that commands register
 * secrets with (`Redactor.guardStream`). The bundle's entry (main.ts) and the test harness
 * (test/support/run-in-process.ts) build their context here, so both run the same guard.
 */
export function streamContext(io: CliStreams, redactor = new Redactor()): CommandContext {
  redactor.guardStream(io.stdout);
  redactor.guardStream(io.stderr);
  return {
    env: io.env,
    cwd: io.cwd,
    stdout: (t) => io.stdout.write(t),
    stderr: (t) => io.stderr.write(t),
    stderrIsTTY: io.stderrIsTTY,
    now: io.now ?? (() => new Date()),
    sleep: io.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: io.random ?? (() => randomInt(0, 2 ** 32) / 2 ** 32),
    redactor,
    readStdin: async (maxBytes) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const stdin = io.stdin();
      for await (const c of stdin) {
        const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
        size += chunk.length;
        if (maxBytes !== undefined && size > maxBytes) {
          // Stop here: the rest is never read into memory (the writer gets EPIPE).
          stdin.destroy();
          throw new StdinTooLargeError(maxBytes);
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks);
    },
  };
}
