import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { credentialProcessFlags, parseFlags, refreshFlags, statusFlags } from './flags.js';

const problemsOf = (run: () => unknown): string[] => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    return message.includes('\n')
      ? message
          .split('\n')
          .slice(1)
          .map((l) => l.trim())
      : [message];
  }
  throw new Error('the flags were accepted');
};

describe('refresh flags', () => {
  it('parse durations and numbers, with the defaults the CLI documents', () => {
    expect(parseFlags(refreshFlags, { renewBefore: '30m', retryFor: '20m', concurrency: '8', force: true })).toMatchObject({
      renewBefore: 30 * 60_000,
      retryFor: 20 * 60_000,
      timeout: 15_000,
      concurrency: 8,
      force: true,
    });
    expect(parseFlags(refreshFlags, {})).toMatchObject({ renewBefore: 0, retryFor: 60_000, timeout: 15_000, concurrency: 4 });
    expect(parseFlags(refreshFlags, { renewBefore: '0' }).renewBefore).toBe(0);
  });

  it('name every problem at once, by flag', () => {
    expect(
      problemsOf(() =>
        parseFlags(refreshFlags, {
          manifests: 'dir',
          target: ['ns/name'],
          renewBefore: 'soonish',
          retryFor: '2h',
          timeout: '0s',
          assumeLifetime: '40h',
          concurrency: '65',
        }),
      ),
    ).toEqual([
      '--timeout 0s is not a duration; use for example 15s or 1m',
      '--retry-for 2h is not a duration up to 1h; use for example 1m or 20m',
      '--assume-lifetime 40h is not a duration up to 36h; use for example 1h',
      '--renew-before soonish is not a duration; use for example 20m or 1h',
      '--concurrency must be a whole number from 1 to 64, not 65',
      '--target names Secrets in a cluster; it cannot be combined with --manifests',
    ]);
  });

  it.each(['0', '1.5', 'four', ' '])('refuse --concurrency %j', (concurrency) => {
    expect(problemsOf(() => parseFlags(refreshFlags, { concurrency }))).toEqual([`--concurrency must be a whole number from 1 to 64, not ${concurrency}`]);
  });
});

describe('status flags', () => {
  it('share the --renew-before and --manifests/--target rules with refresh', () => {
    expect(parseFlags(statusFlags, { renewBefore: '25m' }).renewBefore).toBe(25 * 60_000);
    expect(problemsOf(() => parseFlags(statusFlags, { renewBefore: '-5m', manifests: 'm', target: ['a/b'] }))).toEqual([
      '--renew-before -5m is not a duration; use for example 20m or 1h',
      '--target names Secrets in a cluster; it cannot be combined with --manifests',
    ]);
  });
});

describe('credential-process flags', () => {
  it('trim the role and parse --min-remaining', () => {
    expect(parseFlags(credentialProcessFlags, { role: ' r1 ', minRemaining: '90s' })).toMatchObject({ role: 'r1', minRemaining: 90_000 });
  });

  it('refuse an empty role and a bad --min-remaining together', () => {
    expect(problemsOf(() => parseFlags(credentialProcessFlags, { role: '  ', minRemaining: 'soon' }))).toEqual([
      '--role is empty; give the IAM role CAP should issue credentials for',
      '--min-remaining soon is not a duration; use for example 5m or 90s',
    ]);
  });
});
