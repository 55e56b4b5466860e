// Typed errors that carry what the caller acts on, mapped to exit statuses in one place (exitStatusOf; runCli in cli/program.ts writes the last error line).
// Messages name the file, flag, URL or target and the cure; never a secret or a response body.

export const EXIT_OK = 0;
/** At least one target failed (or, for status, is expired or unmanaged). */
export const EXIT_TARGETS_FAILED = 1;
/** The command line itself is wrong: unknown flag, bad value. Nothing was contacted. */
export const EXIT_USAGE = 2;
/** The configuration is wrong: missing setting, unreadable or mismatched certificate. Nothing was contacted. */
export const EXIT_CONFIG = 3;
/** A bug or an unexpected failure; the message says what happened. */
export const EXIT_INTERNAL = 70;

export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = EXIT_USAGE;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = EXIT_CONFIG;
}

/**
 * The run could not go on because a server failed (for example the API server answered 500
 * while the targets were being listed): not a bug and not the configuration. Exit 1, as for
 * a failed target; the message names what failed and what to do.
 */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
  readonly exitCode = EXIT_TARGETS_FAILED;
}

/** Why a CAP call failed; decides whether it is retried and what the cure is. */
export type CapFailureKind =
  | 'tls-alert'
  | 'client-cert-rejected'
  | 'unknown-server-ca'
  | 'hostname-mismatch'
  | 'server-cert-expired'
  | 'role-forbidden'
  | 'not-found'
  | 'bad-request'
  | 'rate-limited'
  | 'server-error'
  | 'timeout'
  | 'connection'
  | 'proxy-refused'
  | 'proxy-auth'
  | 'proxy-unreachable'
  | 'proxy-cert-untrusted'
  | 'not-json'
  | 'html-body'
  | 'not-utf8'
  | 'body-too-large'
  | 'invalid-response'
  | 'expired-credentials'
  | 'deadline';

export class CapError extends Error {
  override name = 'CapError';
  /** As a command's last word (credential-process asks CAP once): the call failed, exit 1. */
  readonly exitCode = EXIT_TARGETS_FAILED;
  constructor(
    readonly kind: CapFailureKind,
    message: string,
    readonly details: { status?: number; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.details.retryable ?? false;
  }
}

/** The CAP response itself is unusable (shape, field, expiry). Says which field, never its value. */
export class CapResponseError extends Error {
  override name = 'CapResponseError';
  constructor(
    readonly kind: 'not-json' | 'html-body' | 'not-utf8' | 'invalid-response' | 'expired-credentials',
    message: string,
  ) {
    super(message);
  }
}

/** A target could not be read or written; the message names it and says what to do. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/**
 * The exit status an error carries (UsageError 2, ConfigError 3, RunFailedError and CapError 1),
 * or undefined for an error nobody expected (the CLI then exits 70 and says so).
 */
export function exitStatusOf(err: unknown): number | undefined {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof RunFailedError || err instanceof CapError) return err.exitCode;
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
