import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['2d', 172_800_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'abc', '10x', '1h 30m', '-5m', 'm'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('formatDuration', () => {
  it.each([
    [59 * 60_000 + 59_000, '59m'],
    [3_900_000, '1h05m'],
    [45_000, '45s'],
    [-180_000, '-3m'],
    [90_000_000, '1d01h'],
  ])('%d', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
