import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { backoffDelayMs, parseRetryAfter, retryPolicyFor } from '../core/retry.js';
import { buildCredentialsUrl, describeUrl, missingSettings, placeholdersOf, requiredSettings, validateCapUrl } from './url.js';

const Q = { agency: 'AG Y', mission: 'M&1', role: 'role/x' };

describe('buildCredentialsUrl', () => {
  it.each([
    ['https://cap.example', 'https://cap.example/api/v1/credentials'],
    ['https://cap.example/', 'https://cap.example/api/v1/credentials'],
    ['https://cap.example/portal', 'https://cap.example/portal/api/v1/credentials'],
    ['https://cap.example/api/v1/credentials', 'https://cap.example/api/v1/credentials'],
    ['https://cap.example/api/v1/credentials/', 'https://cap.example/api/v1/credentials'],
    ['https://cap.example:8443/api/v1/credentials?old=1', 'https://cap.example:8443/api/v1/credentials'],
  ])('%s', (base, expected) => {
    const url = buildCredentialsUrl(validateCapUrl(base), Q);
    expect(describeUrl(url)).toBe(expected);
    expect(url.searchParams.get('agency')).toBe('AG Y');
    expect(url.searchParams.get('mission')).toBe('M&1');
    expect(url.searchParams.get('role')).toBe('role/x');
    expect(url.searchParams.has('old')).toBe(false);
  });
});

describe('CAP_URL templates', () => {
  const SC2S = 'https://scap.example/cap/gxCAP/getTemporaryCredentials?agency={agency}&accountName={account}&roleName={role}';
  it('fills the SC2S shape, each value URL-encoded where it stands', () => {
    const url = buildCredentialsUrl(validateCapUrl(SC2S), { ...Q, account: 'acct #1/b' });
    expect(describeUrl(url)).toBe('https://scap.example/cap/gxCAP/getTemporaryCredentials');
    expect(url.search).toBe('?agency=AG%20Y&accountName=acct%20%231%2Fb&roleName=role%2Fx');
    expect(url.searchParams.get('accountName')).toBe('acct #1/b');
    expect(url.searchParams.has('mission')).toBe(false);
  });
  it('fills placeholders in the path and host too', () => {
    const url = buildCredentialsUrl(validateCapUrl('https://{agency}.cap.example/CAP/{mission}/creds/{role}'), { agency: 'ag', mission: 'M&1', role: 'r/x' });
    expect(url.href).toBe('https://ag.cap.example/CAP/M%261/creds/r%2Fx');
  });
  it('needs only what the template names', () => {
    const url = validateCapUrl(SC2S);
    expect(placeholdersOf(url)).toEqual(['agency', 'account', 'role']);
    expect(requiredSettings(url)).toEqual(['agency', 'account']);
    expect(requiredSettings(validateCapUrl('https://cap.example'))).toEqual(['agency', 'mission']);
    expect(missingSettings(url, { agency: 'a', role: 'r' })).toEqual(['account']);
  });
  it('a missing value is a ConfigError naming the setting', () => {
    const url = validateCapUrl(SC2S);
    expect(() => buildCredentialsUrl(url, Q)).toThrow(ConfigError);
    expect(() => buildCredentialsUrl(url, Q)).toThrow(/no account: give CAP_ACCOUNT, --account or annotation cap-token-refresh\/account/);
  });
  it('refuses an unknown placeholder', () => {
    expect(() => validateCapUrl('https://cap.example/x?a={agnecy}')).toThrow(/\{agnecy\} that is not known/);
  });
  it('a plain URL keeps the C2S shape', () => {
    expect(placeholdersOf(validateCapUrl('https://cap.example/CAP'))).toEqual([]);
    expect(buildCredentialsUrl(validateCapUrl('https://cap.example/CAP'), { ...Q, account: 'ignored' }).href).toBe(
      'https://cap.example/CAP/api/v1/credentials?agency=AG+Y&mission=M%261&role=role%2Fx',
    );
  });
});

describe('validateCapUrl', () => {
  it.each([
    [undefined, /no CAP URL/],
    ['', /no CAP URL/],
    ['cap.example', /not a valid URL/],
    ['http://cap.example', /must use https/],
    ['https://user:pw@cap.example', /user name or password/],
  ])('%j', (input, message) => {
    expect(() => validateCapUrl(input)).toThrow(ConfigError);
    expect(() => validateCapUrl(input)).toThrow(message);
  });
});

describe('backoffDelayMs', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 1000, deadlineMs: 10_000 };
  it.each([
    [1, 1, 200],
    [2, 1, 400],
    [3, 0.5, 400],
    [5, 1, 1000],
    [1, 0, 0],
  ])('attempt %d with random %d gives %d', (attempt, random, ms) => expect(backoffDelayMs(attempt, policy, () => random)).toBe(ms));
  it('honours a longer Retry-After', () => expect(backoffDelayMs(1, policy, () => 1, 3000)).toBe(3000));
});

describe('retryPolicyFor (--retry-for)', () => {
  it('the default minute: four quick attempts, as before', () => {
    expect(retryPolicyFor(60_000, 15_000)).toEqual({ maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 5000, deadlineMs: 60_000 });
  });
  it('a shorter one still allows two request timeouts', () => expect(retryPolicyFor(10_000, 15_000).deadlineMs).toBe(30_000));
  it('a long one (the CronJob) keeps trying, at most a minute apart, until the time is up', () => {
    const policy = retryPolicyFor(20 * 60_000, 15_000);
    expect(policy).toMatchObject({ maxAttempts: Number.POSITIVE_INFINITY, maxDelayMs: 60_000, deadlineMs: 20 * 60_000 });
    expect(backoffDelayMs(30, policy, () => 0.999)).toBeLessThan(60_000);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  it.each([
    ['2', 2000],
    ['Sat, 28 Nov 2026 12:00:05 GMT', 5000],
    [undefined, undefined],
    ['soon', undefined],
  ])('%j', (v, ms) => expect(parseRetryAfter(v, now)).toBe(ms));
});
