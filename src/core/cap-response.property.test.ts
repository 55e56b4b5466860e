import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCapResponse } from './cap-response.js';
import { CapResponseError } from './errors.js';

// Property tests (fuzzing) of the CAP response parser: every input ends in credentials or a
// CapResponseError, never another exception, and no error message repeats a value it was given.

const NOW = new Date('2026-11-28T12:00:00Z');
const RUNS = 3000;

/** Credential-like values: long and distinctive enough that finding one in a message is a leak, not chance. */
const secretValue = fc.stringMatching(/^[A-Za-z0-9+/=]{16,60}$/);
const futureMs = fc.integer({ min: NOW.getTime() + 1000, max: NOW.getTime() + 36 * 3_600_000 });

/** Expiration texts in the forms CAP and the SDKs write, with the instant they mean. */
const expirationText = futureMs.chain((ms) => {
  const iso = new Date(ms).toISOString();
  const offsetMinutes = fc.integer({ min: -12 * 60, max: 14 * 60 }).map((m) => m - (m % 15));
  return fc.oneof(
    fc.constant({ text: iso, ms }),
    fc.constant({ text: iso.replace(/\.\d{3}Z$/, 'Z'), ms: Math.floor(ms / 1000) * 1000 }),
    fc.constant({ text: iso.replace('T', ' '), ms }),
    offsetMinutes.map((off) => {
      const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
      const sign = off < 0 ? '-' : '+';
      const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
      const mm = String(Math.abs(off) % 60).padStart(2, '0');
      return { text: `${local}${sign}${hh}:${mm}`, ms: Math.floor(ms / 1000) * 1000 };
    }),
  );
});

const validResponse = fc.record({
  AccessKeyId: secretValue,
  SecretAccessKey: secretValue,
  SessionToken: secretValue,
  expiration: expirationText,
  nested: fc.boolean(),
  extra: fc.dictionary(fc.stringMatching(/^[A-Z][A-Za-z]{0,10}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
});

type ValidResponse = typeof validResponse extends fc.Arbitrary<infer T> ? T : never;

function bodyOf(r: ValidResponse): Record<string, unknown> {
  const fields = { AccessKeyId: r.AccessKeyId, SecretAccessKey: r.SecretAccessKey, SessionToken: r.SessionToken, Expiration: r.expiration.text };
  if (r.nested) {
    const extra = Object.fromEntries(Object.entries(r.extra).filter(([k]) => k !== 'Credentials'));
    return { ...extra, Credentials: fields };
  }
  const extra = Object.fromEntries(Object.entries(r.extra).filter(([k]) => !(k in fields) && k !== 'Credentials'));
  return { ...extra, ...fields };
}

/** Parses, and insists that anything thrown is a CapResponseError that names no secret value. */
function parseOrTypedError(body: string | Uint8Array, secrets: string[]): 'ok' | CapResponseError['kind'] {
  try {
    parseCapResponse(body, NOW);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(CapResponseError);
    const message = (err as CapResponseError).message;
    for (const s of secrets) expect(message).not.toContain(s);
    return (err as CapResponseError).kind;
  }
}

/** Text-level damage: what a proxy, a truncating server or a bad encoder does to a body. */
const textMutation = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\u0000', '\ud800', 'null', '<')),
  }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
);

function mutateText(text: string, mutations: { op: string; at: number; len?: number; text?: string; ch?: string }[]): string {
  let t = text;
  for (const m of mutations) {
    const at = t.length === 0 ? 0 : m.at % (t.length + 1);
    if (m.op === 'truncate') t = t.slice(0, at);
    else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + (m.len ?? 1));
    else if (m.op === 'insert') t = t.slice(0, at) + (m.text ?? '') + t.slice(at);
    else t = t.slice(0, at) + (m.ch ?? '') + t.slice(at + 1);
  }
  return t;
}

/** Structure-level damage: a field missing, of the wrong type, renamed, or the object wrapped. */
const structuralMutation = fc.record({
  field: fc.constantFrom('AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration', 'Credentials'),
  op: fc.constantFrom('delete', 'null', 'number', 'array', 'object', 'empty', 'blank', 'rename', 'bool', 'wrap-array', 'past', 'not-a-date'),
});

function mutateStructure(body: Record<string, unknown>, m: { field: string; op: string }): unknown {
  const copy = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const fieldsHolder = (typeof copy.Credentials === 'object' ? copy.Credentials : copy) as Record<string, unknown>;
  const holder = m.field === 'Credentials' ? copy : fieldsHolder;
  const value = holder[m.field];
  switch (m.op) {
    case 'delete':
      delete holder[m.field];
      break;
    case 'null':
      holder[m.field] = null;
      break;
    case 'number':
      holder[m.field] = 12345;
      break;
    case 'array':
      holder[m.field] = [value];
      break;
    case 'object':
      holder[m.field] = { value };
      break;
    case 'empty':
      holder[m.field] = '';
      break;
    case 'blank':
      holder[m.field] = ' \t\n';
      break;
    case 'bool':
      holder[m.field] = true;
      break;
    case 'rename':
      delete holder[m.field];
      holder[`${m.field.toLowerCase()}`] = value;
      break;
    case 'wrap-array':
      return [copy];
    case 'past':
      fieldsHolder.Expiration = '2020-01-01T00:00:00Z';
      break;
    case 'not-a-date':
      fieldsHolder.Expiration = 'tomorrow';
      break;
  }
  return copy;
}

describe('parseCapResponse (property)', () => {
  it('refuses a credential with whitespace inside, naming the field and not the value', () => {
    fc.assert(
      fc.property(
        validResponse,
        fc.constantFrom('AccessKeyId', 'SecretAccessKey', 'SessionToken'),
        fc.constantFrom(' ', '\t', '\n', '\r\n', '\n[evil]\naws_session_token = x\n'),
        fc.nat(),
        (r, field, gap, at) => {
          const value = r[field];
          const cut = 1 + (at % (value.length - 1));
          const damaged = { ...r, [field]: value.slice(0, cut) + gap + value.slice(cut) };
          const body = JSON.stringify(bodyOf(damaged));
          expect(() => parseCapResponse(body, NOW)).toThrow(CapResponseError);
          try {
            parseCapResponse(body, NOW);
          } catch (err) {
            expect((err as Error).message).toMatch(new RegExp(`printable ASCII without spaces in (Credentials\\.)?${field}`));
            for (const s of [r.AccessKeyId, r.SecretAccessKey, r.SessionToken, value.slice(0, cut), value.slice(cut)].filter((x) => x.length >= 8))
              expect((err as Error).message).not.toContain(s);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives back every valid response, nested or at the top level, as a string or as bytes', () => {
    fc.assert(
      fc.property(validResponse, fc.boolean(), (r, asBytes) => {
        const text = JSON.stringify(bodyOf(r));
        const creds = parseCapResponse(asBytes ? new TextEncoder().encode(text) : text, NOW);
        expect(creds).toEqual({
          accessKeyId: r.AccessKeyId,
          secretAccessKey: r.SecretAccessKey,
          sessionToken: r.SessionToken,
          expiration: new Date(r.expiration.ms),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('ends any string in credentials or a CapResponseError', () => {
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200, unit: 'binary' }),
          fc.json({ maxDepth: 3 }),
          fc.constantFrom('', ' ', '<html>', 'null', '[]', '{}', '"x"', '1e999'),
        ),
        (text) => {
          const kind = parseOrTypedError(text, []);
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        },
      ),
      { numRuns: RUNS },
    );
    // The generator reached the distinct rejections, not one of them over and over.
    expect([...kinds.keys()].sort()).toEqual(expect.arrayContaining(['html-body', 'invalid-response', 'not-json']));
  });

  it('ends any bytes in credentials or a CapResponseError (non-UTF-8 included)', () => {
    let notUtf8 = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        if (parseOrTypedError(bytes, []) === 'not-utf8') notUtf8 += 1;
      }),
      { numRuns: RUNS },
    );
    expect(notUtf8).toBeGreaterThan(RUNS / 2);
  });

  it('ends text-mutated valid JSON in credentials or a CapResponseError that shows no credential', () => {
    let rejected = 0;
    fc.assert(
      fc.property(validResponse, fc.array(textMutation, { minLength: 1, maxLength: 4 }), (r, mutations) => {
        const text = mutateText(JSON.stringify(bodyOf(r)), mutations);
        if (parseOrTypedError(text, [r.AccessKeyId, r.SecretAccessKey, r.SessionToken]) !== 'ok') rejected += 1;
      }),
      { numRuns: RUNS },
    );
    expect(rejected).toBeGreaterThan(RUNS / 3);
  });

  it('ends byte-mutated valid JSON in credentials or a CapResponseError that shows no credential', () => {
    fc.assert(
      fc.property(validResponse, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (r, flips) => {
        const bytes = new TextEncoder().encode(JSON.stringify(bodyOf(r)));
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        parseOrTypedError(bytes, [r.AccessKeyId, r.SecretAccessKey, r.SessionToken]);
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects a missing, empty or mistyped field with a CapResponseError that names the field, not a value', () => {
    fc.assert(
      fc.property(validResponse, structuralMutation, (r, m) => {
        const body = mutateStructure(bodyOf(r), m);
        const secrets = [r.AccessKeyId, r.SecretAccessKey, r.SessionToken];
        const kind = parseOrTypedError(JSON.stringify(body), secrets);
        // Every mutation breaks the response, except deleting or renaming a Credentials key
        // that a top-level body never had.
        const noOp = !r.nested && m.field === 'Credentials' && (m.op === 'delete' || m.op === 'rename');
        expect(kind === 'ok').toBe(noOp);
        if (m.field !== 'Credentials' && ['delete', 'null', 'number', 'array', 'object', 'empty', 'blank', 'bool', 'rename'].includes(m.op)) {
          try {
            parseCapResponse(JSON.stringify(body), NOW);
          } catch (err) {
            // The message names the damaged field (or says no known shape is left).
            expect((err as Error).message).toMatch(new RegExp(`${m.field}|neither a Credentials object`));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
