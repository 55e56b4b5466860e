import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { backoffDelayMs, parseRetryAfter } from './retry.js';
import { buildCredentialsUrl, describeUrl, validateCapUrl } from './url.js';

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

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  it.each([
    ['2', 2000],
    ['Sat, 28 Nov 2026 12:00:05 GMT', 5000],
    [undefined, undefined],
    ['soon', undefined],
  ])('%j', (v, ms) => expect(parseRetryAfter(v, now)).toBe(ms));
});
