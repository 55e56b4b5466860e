import { describe, expect, it } from 'vitest';
import { decideRefresh, formatRfc3339 } from './policy.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const at = (minutesFromNow: number) => formatRfc3339(new Date(NOW.getTime() + minutesFromNow * 60_000));
const DEFAULT = { renewBeforeMs: 0, force: false };

describe('decideRefresh', () => {
  it.each([
    ['no annotations', {}, DEFAULT, true, 'no-expiration'],
    ['an unreadable expiration', { expiration: 'soon' }, DEFAULT, true, 'invalid-expiration'],
    ['expired', { expiration: at(-1), refreshedAt: at(-61) }, DEFAULT, true, 'expired'],
    ['just refreshed, 1h lifetime', { expiration: at(60), refreshedAt: at(0) }, DEFAULT, false, 'fresh'],
    ['40 of 60 minutes left', { expiration: at(40), refreshedAt: at(-20) }, DEFAULT, false, 'fresh'],
    ['exactly a third left', { expiration: at(20), refreshedAt: at(-40) }, DEFAULT, false, 'fresh'],
    ['under a third left', { expiration: at(19), refreshedAt: at(-41) }, DEFAULT, true, 'lifetime-third'],
    ['12h lifetime with 5h left', { expiration: at(300), refreshedAt: at(-420) }, DEFAULT, false, 'fresh'],
    ['renew-before 45m with 40m left', { expiration: at(40), refreshedAt: at(-20) }, { renewBeforeMs: 45 * 60_000, force: false }, true, 'renew-before'],
    ['renew-before 30m with 40m left', { expiration: at(40), refreshedAt: at(-20) }, { renewBeforeMs: 30 * 60_000, force: false }, false, 'fresh'],
    ['forced while fresh', { expiration: at(60), refreshedAt: at(0) }, { renewBeforeMs: 0, force: true }, true, 'forced'],
    ['expiration without refreshed-at, plenty left', { expiration: at(50) }, DEFAULT, false, 'fresh'],
    ['refreshed-at after expiration (clock skew)', { expiration: at(30), refreshedAt: at(40) }, DEFAULT, false, 'fresh'],
  ])('%s', (_, annotations, policy, due, reason) => {
    const d = decideRefresh(annotations, NOW, policy);
    expect(d.due).toBe(due);
    expect(d.reason).toBe(reason);
  });

  const FRESH = { expiration: at(60), refreshedAt: at(0) };
  it.each([
    ['empty data, fresh annotations', { ...FRESH, role: 'r', issuedRole: 'r', dataProblem: 'credentials is empty or missing' }, true, 'unusable-data'],
    ['seeded by fill (no issued-role)', { ...FRESH, role: 'r' }, true, 'seeded'],
    ['role changed by hand', { ...FRESH, role: 'new', issuedRole: 'old' }, true, 'role-changed'],
    ['issued for its own role', { ...FRESH, role: 'r', issuedRole: 'r' }, false, 'fresh'],
    ['own role but less than a third left', { expiration: at(10), refreshedAt: at(-50), role: 'r', issuedRole: 'r' }, true, 'lifetime-third'],
    ['empty data wins over a changed role', { ...FRESH, role: 'new', issuedRole: 'old', dataProblem: 'x' }, true, 'unusable-data'],
  ])('%s', (_, state, due, reason) => {
    const d = decideRefresh(state, NOW, DEFAULT);
    expect(d.due).toBe(due);
    expect(d.reason).toBe(reason);
  });

  it('keeps the expiration of a Secret that is due for its data or role', () => {
    expect(decideRefresh({ ...FRESH, role: 'r' }, NOW, DEFAULT).expiration?.toISOString()).toBe('2026-11-28T13:00:00.000Z');
  });

  it('reports the parsed expiration', () => {
    expect(decideRefresh({ expiration: at(60), refreshedAt: at(0) }, NOW, DEFAULT).expiration?.toISOString()).toBe('2026-11-28T13:00:00.000Z');
  });
});

describe('formatRfc3339', () => {
  it('drops milliseconds and keeps UTC', () => expect(formatRfc3339(new Date('2026-11-28T12:00:00.789Z'))).toBe('2026-11-28T12:00:00Z'));
});
