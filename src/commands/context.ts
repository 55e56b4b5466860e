import { createLogger, type LogFormat, type Logger, type LogLevel } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';

/** Everything a command touches outside itself, injected so commands run in tests without a process. */
export interface CommandContext {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stderrIsTTY: boolean;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  redactor: Redactor;
  /**
   * All of standard input. With MAXBYTES, reading stops as soon as more arrives and
   * StdinTooLargeError is thrown: a command that reads a bounded input never holds more.
   */
  readStdin: (maxBytes?: number) => Promise<Buffer>;
}

/** Standard input held more than the reader allowed; only the limit is known, not the size. */
export class StdinTooLargeError extends Error {
  override name = 'StdinTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`standard input is larger than ${maxBytes} bytes`);
  }
}

export interface LogOptions {
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/** Log lines go to stderr, as JSON when stderr is not a terminal or when asked. */
export function loggerFor(ctx: CommandContext, opts: LogOptions): Logger {
  return createLogger({
    write: ctx.stderr,
    format: opts.logFormat ?? (ctx.stderrIsTTY ? 'text' : 'json'),
    level: opts.logLevel ?? 'info',
    redactor: ctx.redactor,
    now: ctx.now,
  });
}
