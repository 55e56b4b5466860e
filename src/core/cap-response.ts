// zod's tree-shakable build: this parser runs in every refresh, where the full build's
// ~750 KB of code would cost start-up time and memory for four string fields.
import * as z from 'zod/mini';
import type { CapCredentials } from './credentials.js';
import { CapResponseError } from './errors.js';

const nonEmpty = z.string().check(z.trim(), z.minLength(1));

// AWS never issues a credential with whitespace inside; one with a line break would add
// lines to the credentials INI written into every Secret.
const credentialValue = z.string().check(z.trim(), z.minLength(1), z.regex(/^\S+$/));

const credentialFields = z.object({
  AccessKeyId: credentialValue,
  SecretAccessKey: credentialValue,
  SessionToken: credentialValue,
  Expiration: nonEmpty,
});

const FIELD_NAMES = ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'] as const;

/**
 * Validates a CAP response body: `{"Credentials": {four fields}}` or the four fields at
 * the top level, and nothing else. `now` decides whether `Expiration` is in the future.
 * Errors name the problem and the field, never a value from the body.
 */
export function parseCapResponse(body: Uint8Array | string, now: Date): CapCredentials {
  const text = typeof body === 'string' ? body : decodeUtf8(body);
  const trimmed = text.trimStart();
  if (trimmed === '') {
    throw new CapResponseError('not-json', 'the CAP response is empty; expected a JSON object with Credentials');
  }
  if (trimmed.startsWith('<')) {
    throw new CapResponseError(
      'html-body',
      'CAP answered with an HTML page instead of JSON; check that CAP_URL points at the CAP API (…/api/v1/credentials) and not a login or error page',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CapResponseError('not-json', 'the CAP response is not valid JSON (truncated or not a CAP API answer)');
  }
  const fields = pickCredentialObject(json);
  const parsed = credentialFields.safeParse(fields);
  if (!parsed.success) {
    const fieldsOf = (issues: typeof parsed.error.issues) => [...new Set(issues.map((i) => String(i.path[0] ?? '')))].filter(Boolean);
    const bad = fieldsOf(parsed.error.issues.filter((i) => i.code !== 'invalid_format'));
    const prefix = fields === json ? '' : 'Credentials.';
    if (bad.length === 0) {
      const spaced = fieldsOf(parsed.error.issues);
      throw new CapResponseError(
        'invalid-response',
        `the CAP response has whitespace inside ${spaced.map((f) => prefix + f).join(', ')}; AWS credentials never hold any`,
      );
    }
    throw new CapResponseError(
      'invalid-response',
      `the CAP response lacks a non-empty string for ${bad.map((f) => prefix + f).join(', ')}; expected ${FIELD_NAMES.join(', ')}`,
    );
  }
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = parsed.data;
  const expiration = parseIsoTime(Expiration);
  if (expiration === undefined) {
    throw new CapResponseError('invalid-response', 'the CAP response has an Expiration that is not an ISO-8601 time');
  }
  if (expiration.getTime() <= now.getTime()) {
    throw new CapResponseError(
      'expired-credentials',
      `CAP returned credentials that expired at ${expiration.toISOString()}; check the clock of this machine and of CAP`,
    );
  }
  return { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken, expiration };
}

function pickCredentialObject(json: unknown): unknown {
  if (!isPlainObject(json)) {
    throw new CapResponseError('invalid-response', 'the CAP response is JSON but not an object; expected {"Credentials": {...}}');
  }
  if ('Credentials' in json) {
    if (!isPlainObject(json.Credentials)) {
      throw new CapResponseError('invalid-response', 'the CAP response field Credentials is not an object');
    }
    return json.Credentials;
  }
  if (FIELD_NAMES.some((f) => f in json)) return json;
  throw new CapResponseError('invalid-response', `the CAP response has neither a Credentials object nor the fields ${FIELD_NAMES.join(', ')} at the top level`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CapResponseError('not-utf8', 'the CAP response is not UTF-8 text; expected a JSON object');
  }
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** An ISO-8601 date-time with a zone; undefined when it is anything else. */
export function parseIsoTime(value: string): Date | undefined {
  const v = value.trim();
  if (!ISO_8601.test(v)) return undefined;
  const ms = Date.parse(v.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
