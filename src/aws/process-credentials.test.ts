import { describe, expect, it } from 'vitest';
import { cacheFileName, judgeCacheEntry, renderProcessCredentials, serializeCacheEntry, type CacheKey } from './process-credentials.js';

const NOW = new Date('2030-01-01T12:00:00Z');
const KEY: CacheKey = { capUrl: 'https://cap.example/api/v1/credentials', agency: 'AG', mission: 'MI', role: 'R' };
const creds = (expiresInMs: number) => ({
  accessKeyId: 'ASIAEXAMPLEEXAMPLE',
  secretAccessKey: 'secret/key+value',
  sessionToken: 'FwoGtokentoken',
  expiration: new Date(NOW.getTime() + expiresInMs),
});

describe('renderProcessCredentials', () => {
  it('prints Version 1 and the four fields, Expiration as ISO-8601', () => {
    expect(JSON.parse(renderProcessCredentials(creds(3600_000)))).toEqual({
      Version: 1,
      AccessKeyId: 'ASIAEXAMPLEEXAMPLE',
      SecretAccessKey: 'secret/key+value',
      SessionToken: 'FwoGtokentoken',
      Expiration: '2030-01-01T13:00:00.000Z',
    });
  });
});

describe('cacheFileName', () => {
  it('is a sha256 hex name that differs for every part of the key and names none of them', () => {
    const names = new Set(
      [
        KEY,
        { ...KEY, capUrl: 'https://other/api/v1/credentials' },
        { ...KEY, agency: 'X' },
        { ...KEY, mission: 'X' },
        { ...KEY, role: 'X' },
        { ...KEY, agency: 'AGM', mission: 'I' },
      ].map(cacheFileName),
    );
    expect(names.size).toBe(6);
    for (const n of names) expect(n).toMatch(/^[0-9a-f]{64}\.json$/);
  });
});

describe('judgeCacheEntry', () => {
  const FIVE_MIN = 5 * 60_000;
  it.each([
    ['a fresh entry is used', serializeCacheEntry(KEY, creds(3600_000)), true, undefined],
    ['an entry with exactly the minimum left is used', serializeCacheEntry(KEY, creds(FIVE_MIN)), true, undefined],
    ['an entry close to expiry is a miss', serializeCacheEntry(KEY, creds(FIVE_MIN - 1000)), false, 'expiring'],
    ['an expired entry is a miss', serializeCacheEntry(KEY, creds(-1000)), false, 'expired'],
    ['an entry for another role is a miss', serializeCacheEntry({ ...KEY, role: 'other' }, creds(3600_000)), false, 'other-key'],
    ['an entry for another CAP is a miss', serializeCacheEntry({ ...KEY, capUrl: 'https://x/api/v1/credentials' }, creds(3600_000)), false, 'other-key'],
    ['garbage is a miss', 'not json {', false, 'corrupt'],
    ['a truncated file is a miss', serializeCacheEntry(KEY, creds(3600_000)).slice(0, 60), false, 'corrupt'],
    ['JSON null is a miss', 'null', false, 'corrupt'],
    ['an entry without credentials is a miss', JSON.stringify({ Key: KEY }), false, 'corrupt'],
    [
      'an entry with a field missing is a miss',
      JSON.stringify({ Key: KEY, Credentials: { AccessKeyId: 'a', SecretAccessKey: 'b', Expiration: '2031-01-01T00:00:00Z' } }),
      false,
      'corrupt',
    ],
  ])('%s', (_name, text, usable, why) => {
    const v = judgeCacheEntry(text, KEY, NOW, FIVE_MIN);
    expect(v.usable).toBe(usable);
    if (!v.usable) expect(v.why).toBe(why);
    else expect(v.creds.sessionToken).toBe('FwoGtokentoken');
  });
});
