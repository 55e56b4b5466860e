import { describe, expect, it } from 'vitest';
import { parseCapResponse, parseIsoTime } from './cap-response.js';
import { CapResponseError } from './errors.js';

const NOW = new Date('2026-11-28T12:00:00Z');
const FIELDS = {
  AccessKeyId: 'ASIAEXAMPLEKEY123456',
  SecretAccessKey: 'secret/Key+value0123456789',
  SessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN',
  Expiration: '2026-11-28T13:00:00Z',
};

describe('parseCapResponse accepts', () => {
  it.each([
    ['the nested Credentials object', JSON.stringify({ Credentials: FIELDS })],
    ['the four fields at the top level', JSON.stringify(FIELDS)],
    ['extra fields beside Credentials', JSON.stringify({ Credentials: FIELDS, AssumedRoleUser: { Arn: 'x' } })],
    ['bytes', Buffer.from(JSON.stringify({ Credentials: FIELDS }))],
    ['an offset and fractional seconds', JSON.stringify({ Credentials: { ...FIELDS, Expiration: '2026-11-28T14:00:00.123+01:00' } })],
  ])('%s', (_, body) => {
    const creds = parseCapResponse(body, NOW);
    expect(creds.accessKeyId).toBe(FIELDS.AccessKeyId);
    expect(creds.secretAccessKey).toBe(FIELDS.SecretAccessKey);
    expect(creds.sessionToken).toBe(FIELDS.SessionToken);
    expect(creds.expiration.getTime()).toBeGreaterThan(NOW.getTime());
  });
});

describe('parseCapResponse rejects', () => {
  const { SessionToken: _omit, ...withoutToken } = FIELDS;
  it.each([
    ['an empty body', '', 'not-json', /empty/],
    ['an HTML page', '<!DOCTYPE html><html>login</html>', 'html-body', /HTML page/],
    ['truncated JSON', '{"Credentials": {"AccessKeyId": "ASIA', 'not-json', /not valid JSON/],
    ['a JSON array', '[1,2]', 'invalid-response', /not an object/],
    ['Credentials that is a string', '{"Credentials": "x"}', 'invalid-response', /Credentials is not an object/],
    ['an unrelated object', '{"message": "hello"}', 'invalid-response', /neither a Credentials object/],
    ['a missing field', JSON.stringify({ Credentials: withoutToken }), 'invalid-response', /Credentials\.SessionToken/],
    ['an empty field', JSON.stringify({ ...FIELDS, AccessKeyId: '  ' }), 'invalid-response', /AccessKeyId/],
    ['a number field', JSON.stringify({ ...FIELDS, SecretAccessKey: 12 }), 'invalid-response', /SecretAccessKey/],
    ['an unparseable Expiration', JSON.stringify({ ...FIELDS, Expiration: 'tomorrow' }), 'invalid-response', /ISO-8601/],
    [
      'an Expiration in the past',
      JSON.stringify({ ...FIELDS, Expiration: '2026-11-28T11:59:00Z' }),
      'expired-credentials',
      /already expired \(their Expiration, ISO 8601 with an offset, is past\)/,
    ],
    ['an impossible date (Feb 30th)', JSON.stringify({ ...FIELDS, Expiration: '2026-02-30T13:00:00Z' }), 'invalid-response', /not a possible date/],
    ['an impossible hour', JSON.stringify({ ...FIELDS, Expiration: '2026-11-28T24:30:00Z' }), 'invalid-response', /not a possible date/],
    ['an impossible offset', JSON.stringify({ ...FIELDS, Expiration: '2026-11-28T13:00:00+25:00' }), 'invalid-response', /offset is not possible/],
    ['9999-12-31', JSON.stringify({ ...FIELDS, Expiration: '9999-12-31T23:59:59Z' }), 'invalid-response', /more than 36 hours ahead/],
    [
      '37 hours ahead in epoch seconds',
      JSON.stringify({ ...FIELDS, Expiration: NOW.getTime() / 1000 + 37 * 3600 }),
      'invalid-response',
      /\(a number of epoch seconds\) more than 36 hours/,
    ],
    [
      'epoch ms in the past',
      JSON.stringify({ ...FIELDS, Expiration: String(NOW.getTime() - 1) }),
      'expired-credentials',
      /Expiration, a numeric string of epoch milliseconds, is past/,
    ],
    ['a boolean Expiration', JSON.stringify({ ...FIELDS, Expiration: true }), 'invalid-response', /Expiration/],
    ['a missing Expiration', JSON.stringify({ ...FIELDS, Expiration: undefined }), 'invalid-response', /no Expiration; give --assume-lifetime/],
    [
      'a NUL in the SessionToken',
      JSON.stringify({ ...FIELDS, SessionToken: 'Fwo\u0000x' }),
      'invalid-response',
      /printable ASCII without spaces in SessionToken/,
    ],
    [
      'an ESC in the AccessKeyId',
      JSON.stringify({ Credentials: { ...FIELDS, AccessKeyId: 'ASIA\u001b[31m' } }),
      'invalid-response',
      /in Credentials\.AccessKeyId/,
    ],
    ['non-ASCII in the SecretAccessKey', JSON.stringify({ ...FIELDS, SecretAccessKey: 'sécret' }), 'invalid-response', /in SecretAccessKey/],
    ['a space inside a value', JSON.stringify({ ...FIELDS, SecretAccessKey: 'a b' }), 'invalid-response', /in SecretAccessKey/],
    ['non-UTF-8 bytes', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not-utf8', /not UTF-8/],
  ])('%s', (_, body, kind, message) => {
    let caught: unknown;
    try {
      parseCapResponse(body, NOW);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CapResponseError);
    expect((caught as CapResponseError).kind).toBe(kind);
    expect((caught as Error).message).toMatch(message);
    // Never a value from the body in the message.
    for (const v of [FIELDS.SecretAccessKey, FIELDS.SessionToken, FIELDS.AccessKeyId, 'sécret', '9999', '2026-02-30'])
      expect((caught as Error).message).not.toContain(v);
  });
});

describe('Expiration shapes', () => {
  const at = (Expiration: unknown, options = {}) => parseCapResponse(JSON.stringify({ ...FIELDS, Expiration }), NOW, options);
  const HOUR = '2026-11-28T13:00:00.000Z';
  it.each<[string, unknown]>([
    ['Z', '2026-11-28T13:00:00Z'],
    ['a positive offset and fractions', '2026-11-28T14:00:00.000+01:00'],
    ['a negative offset without colon', '2026-11-28T08:00:00-0500'],
    ['nanosecond fractions', '2026-11-28T13:00:00.000000000Z'],
    ['epoch seconds, number', Date.parse(HOUR) / 1000],
    ['epoch milliseconds, number', Date.parse(HOUR)],
    ['epoch seconds, string', String(Date.parse(HOUR) / 1000)],
    ['epoch milliseconds, string', String(Date.parse(HOUR))],
  ])('%s', (_, value) => expect(at(value).expiration.toISOString()).toBe(HOUR));

  it('without an offset: read as UTC, with a warning that says so', () => {
    const warnings: string[] = [];
    expect(at('2026-11-28T13:00:00', { warn: (m: string) => warnings.push(m) }).expiration.toISOString()).toBe(HOUR);
    expect(warnings).toEqual([expect.stringMatching(/without an offset.*read as UTC/)]);
  });

  it('a missing Expiration with --assume-lifetime: that long from CAP’s Date, else now, marked assumed', () => {
    const capDate = new Date('2026-11-28T12:10:00Z');
    const fromCap = parseCapResponse(JSON.stringify({ ...FIELDS, Expiration: undefined }), NOW, { assumeLifetimeMs: 3600_000, capDate });
    expect(fromCap.expiration.toISOString()).toBe('2026-11-28T13:10:00.000Z');
    expect(fromCap.expirationAssumed).toBe(true);
    const fromNow = parseCapResponse(JSON.stringify({ ...FIELDS, Expiration: undefined }), NOW, { assumeLifetimeMs: 3600_000 });
    expect(fromNow.expiration.toISOString()).toBe(HOUR);
    expect(at(HOUR, { assumeLifetimeMs: 60_000 }).expirationAssumed).toBeUndefined();
  });

  it('past and 36h are judged on CAP’s clock when it is known', () => {
    // The local clock is two hours fast: by CAP's clock the credentials still have an hour.
    const capDate = new Date('2026-11-28T10:00:00Z');
    expect(at('2026-11-28T11:00:00Z', { capDate }).expiration.toISOString()).toBe('2026-11-28T11:00:00.000Z');
    expect(() => at('2026-11-29T23:00:00Z', { capDate })).toThrow(/more than 36 hours/);
  });
});

describe('parseIsoTime', () => {
  it.each([
    ['2026-11-28T13:00:00Z', '2026-11-28T13:00:00.000Z'],
    ['2026-11-28T13:00:00+00:00', '2026-11-28T13:00:00.000Z'],
    ['2026-11-28 13:00:00Z', '2026-11-28T13:00:00.000Z'],
    ['2026-11-28T13:00Z', '2026-11-28T13:00:00.000Z'],
  ])('%s', (input, iso) => expect(parseIsoTime(input)?.toISOString()).toBe(iso));
  it.each(['', '2026-11-28', 'now', '2026-13-45T99:00:00Z'])('rejects %j', (input) => expect(parseIsoTime(input)).toBeUndefined());
});
