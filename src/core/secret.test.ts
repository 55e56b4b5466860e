import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from './secret.js';

describe('Secret', () => {
  const s = new Secret('k9Q');

  it('prints as [REDACTED] in every form', () => {
    expect(String(s)).toBe('[REDACTED]');
    expect(`${s}`).toBe('[REDACTED]');
    expect(`x${s as unknown as string}y`).toBe('x[REDACTED]y');
    expect(JSON.stringify({ passphrase: s })).toBe('{"passphrase":"[REDACTED]"}');
    expect(inspect({ passphrase: s }, { depth: 5, showHidden: true })).not.toContain('k9Q');
    expect(inspect(s)).toBe('[REDACTED]');
    expect(new Error(`bad ${s}`).message).toBe('bad [REDACTED]');
  });

  it('reveals its value only when asked', () => {
    expect(s.reveal()).toBe('k9Q');
    expect(s.length).toBe(3);
    expect(Object.keys(s)).toEqual([]);
  });
});
