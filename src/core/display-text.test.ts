import { describe, expect, it } from 'vitest';
import { escapeControl, escapeControlLines } from './display-text.js';

describe('escapeControl', () => {
  it('writes CR, LF, tab, ESC, other C0, DEL, C1 and the Unicode line separators as escapes', () => {
    expect(escapeControl('a\r\nb\tc\x1b[2Kd\x00\x07\x7f\x85\x9b\u2028é')).toBe('a\\r\\nb\\tc\\x1b[2Kd\\x00\\x07\\x7f\\x85\\x9b\\u2028é');
  });

  it('leaves printable text, backslashes included, as it is', () => {
    expect(escapeControl('role-a/b: "x" \\n ü')).toBe('role-a/b: "x" \\n ü');
  });

  it('keeps the lines of a text but escapes what is inside them', () => {
    expect(escapeControlLines('one\r\ntwo\x1b')).toBe('one\\r\ntwo\\x1b');
  });
});
