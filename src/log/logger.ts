import { escapeControl } from '../core/display-text.js';
import type { Redactor } from './redactor.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LogFormat = 'json' | 'text';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  write: (line: string) => void;
  format: LogFormat;
  level: LogLevel;
  redactor: Redactor;
  now: () => Date;
}

/**
 * The one logger. Fields are scalars only (no objects that could carry a response or a
 * credential), and every line passes through the redactor as a whole before it is written.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LEVEL_RANK[level] < LEVEL_RANK[opts.level]) return;
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    const line =
      opts.format === 'json'
        ? JSON.stringify({ time: opts.now().toISOString(), level, msg, ...clean })
        : // A text line stays one line: control characters in the message or a value (a role
          // with CR, LF or ESC) are escaped, never passed to the terminal.
          `${level === 'info' ? '' : `${level}: `}${escapeControl(msg)}${Object.entries(clean)
            .map(
              ([k, v]) =>
                ` ${escapeControl(k)}=${typeof v === 'string' && /[\s\p{Cc}]/u.test(v) ? escapeControl(JSON.stringify(v)) : escapeControl(String(v))}`,
            )
            .join('')}`;
    opts.write(`${opts.redactor.redact(line)}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/** A logger that drops everything, for library callers and tests that do not look. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
