import { describe, expect, it } from 'vitest';
import { CapError, ConfigError, EXIT_CONFIG, EXIT_TARGETS_FAILED, EXIT_USAGE, RunFailedError, TargetError, UsageError, exitStatusOf } from './errors.js';

describe('exitStatusOf: the one mapping from an error to the exit status', () => {
  it.each([
    ['a usage error', new UsageError('--x'), EXIT_USAGE],
    ['a configuration error', new ConfigError('CAP_URL'), EXIT_CONFIG],
    ['a run that could not go on', new RunFailedError('API 500'), EXIT_TARGETS_FAILED],
    ['a failed CAP call', new CapError('role-forbidden', 'HTTP 403'), EXIT_TARGETS_FAILED],
    ['an unexpected error', new TypeError('x is undefined'), undefined],
    ['a target error (reported per target, never a last word)', new TargetError('ns/x'), undefined],
    ['a thrown string', 'boom', undefined],
  ])('%s', (_, err, status) => {
    expect(exitStatusOf(err)).toBe(status);
  });
});
