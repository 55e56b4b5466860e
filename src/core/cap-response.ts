// zod's tree-shakable build: this parser runs in every refresh, where the full build's
// ~750 KB of code would cost start-up time and memory for four string fields.
import * as z from 'zod/mini';
import type { CapCredentials } from './credentials.js';
import { CapResponseError } from './errors.js';

const nonEmpty = z.string().check(z.trim(), z.minLength(1));

// AWS credentials are printable ASCII without spaces; anything else (a line break, NUL, ESC,
// other control or non-ASCII characters) would end up in the manifest, the INI and stdout.
const credentialValue = z.string().check(z.trim(), z.minLength(1), z.regex(/^[\x21-\x7e]+$/));

// Expiration: an ISO-8601 string or epoch seconds/milliseconds (number or numeric string); absent only with an assumed lifetime.
const expirationValue = z.optional(z.union([nonEmpty, z.number()]));

const credentialFields = z.object({
  AccessKeyId: credentialValue,
  SecretAccessKey: credentialValue,
  SessionToken: credentialValue,
  Expiration: expirationValue,
});

/** No STS session lives longer than 36 hours; an Expiration further ahead is not one. */
export const MAX_LIFETIME_MS = 36 * 3600_000;

export interface ParseCapResponseOptions {
  /** With a response that has no Expiration: take it as this long from `capDate` (or `now`). */
  assumeLifetimeMs?: number;
  /** CAP's clock (its Date header), when known. */
  capDate?: Date;
  /** Told about things accepted with a doubt (an Expiration without an offset). */
  warn?: (message: string) => void;
}

const FIELD_NAMES = ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'] as const;

/**
 * Validates a CAP response body: `{"Credentials": {four fields}}` or the four fields at
 * the top level, and nothing else. `now` decides whether `Expiration` is in the future.
 * Errors name the problem and the field, never a value from the body.
 */
export function parseCapResponse(body: Uint8Array | string, now: Date, options: ParseCapResponseOptions = {}): CapCredentials {
  const text = typeof body === 'string' ? body : decodeUtf8(body);
  const trimmed = text.trimStart();
  if (trimmed === '') {
    throw new CapResponseError('not-json', 'the CAP response is empty; expected a JSON object with Credentials');
  }
  if (trimmed.startsWith('<')) {
    // Some portals answer a failed client-certificate check with a 200 HTML login page.
    throw new CapResponseError(
      'html-body',
      'CAP answered with an HTML page instead of JSON, as portals do when they did not accept the client certificate; check that --cert and --key (or --pkcs12) belong to the identity CAP knows and that CAP_URL points at the CAP API, not a login page',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CapResponseError(
      'not-json',
      'the CAP response is not valid JSON (truncated, or a page shown when the client certificate was not accepted); check the client certificate and CAP_URL',
    );
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
        `the CAP response has characters other than printable ASCII without spaces in ${spaced.map((f) => prefix + f).join(', ')}; AWS credentials never hold any`,
      );
    }
    throw new CapResponseError(
      'invalid-response',
      `the CAP response lacks a non-empty string for ${bad.map((f) => prefix + f).join(', ')}; expected ${FIELD_NAMES.join(', ')}`,
    );
  }
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = parsed.data;
  const creds = { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken };
  // Checked against CAP's clock when it is known: a wrong local clock must not refuse good credentials.
  const clock = options.capDate ?? now;
  if (Expiration === undefined) {
    if (options.assumeLifetimeMs === undefined) {
      throw new CapResponseError(
        'invalid-response',
        'the CAP response has no Expiration; give --assume-lifetime DURATION (for example 1h) if this CAP never sends one',
      );
    }
    return { ...creds, expiration: new Date(clock.getTime() + options.assumeLifetimeMs), expirationAssumed: true };
  }
  const { expiration, shape } = parseExpiration(Expiration, options.warn);
  if (expiration.getTime() <= clock.getTime()) {
    throw new CapResponseError(
      'expired-credentials',
      `CAP returned credentials that already expired (their Expiration, ${shape}, is past${options.capDate ? " by CAP's own clock" : ''}); check the clock of this machine and of CAP`,
    );
  }
  if (expiration.getTime() - clock.getTime() > MAX_LIFETIME_MS) {
    throw new CapResponseError(
      'invalid-response',
      `the CAP response has an Expiration (${shape}) more than 36 hours ahead; no STS session lives that long, so it is not one`,
    );
  }
  return { ...creds, expiration };
}

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An Expiration as CAPs send it: ISO 8601 with any offset and fractional seconds, ISO 8601
 * without an offset (read as UTC, with a warning), or epoch seconds or milliseconds (a number
 * or a numeric string). Errors name the shape, never the value.
 */
export function parseExpiration(value: string | number, warn?: (message: string) => void): { expiration: Date; shape: string } {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    const kind = typeof value === 'number' ? 'a number' : 'a numeric string';
    if (!Number.isFinite(n) || n <= 0) throw new CapResponseError('invalid-response', `the CAP response has an Expiration (${kind}) that is not an epoch time`);
    // Epoch milliseconds from 2001 on are above 1e12; epoch seconds stay below it until the year 33658.
    const ms = n >= 1e12 ? n : n * 1000;
    return { expiration: new Date(Math.round(ms)), shape: `${kind} of epoch ${n >= 1e12 ? 'milliseconds' : 'seconds'}` };
  }
  const m = ISO_PARTS.exec(text);
  if (!m)
    throw new CapResponseError('invalid-response', 'the CAP response has an Expiration that is neither an ISO-8601 time nor epoch seconds or milliseconds');
  const [, y, mo, d, h, mi, sec = '00', fraction = '', zone] = m;
  const shape = zone ? 'ISO 8601 with an offset' : 'ISO 8601 without an offset';
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) {
    throw new CapResponseError('invalid-response', `the CAP response has an Expiration (${shape}) that is not a possible date and time`);
  }
  let offsetMs = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const [, sign, oh, om] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) ?? [];
    if (Number(oh) > 14 || Number(om) > 59)
      throw new CapResponseError('invalid-response', `the CAP response has an Expiration (${shape}) whose offset is not possible`);
    offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  }
  if (!zone) warn?.('the CAP response has an Expiration without an offset (ISO 8601 without Z or +hh:mm); it is read as UTC');
  const utc = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(sec), fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0);
  return { expiration: new Date(utc - offsetMs), shape };
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
