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
    ['an Expiration without zone', JSON.stringify({ ...FIELDS, Expiration: '2026-11-28T13:00:00' }), 'invalid-response', /ISO-8601/],
    ['an Expiration in the past', JSON.stringify({ ...FIELDS, Expiration: '2026-11-28T11:59:00Z' }), 'expired-credentials', /expired at 2026-11-28T11:59:00/],
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
    for (const v of [FIELDS.SecretAccessKey, FIELDS.SessionToken, FIELDS.AccessKeyId]) expect((caught as Error).message).not.toContain(v);
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
