import { SECRET_KEY_ACCESS_KEY_ID, SECRET_KEY_CREDENTIALS, SECRET_KEY_SECRET_ACCESS_KEY } from './names.js';

/** The keys the `credentials` INI may hold: the plain ones the refresh writes. */
const PLAIN_INI_KEYS = new Set(['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token']);

/**
 * Why a Secret's data cannot serve its operator, or undefined when it can: an empty or missing
 * `aws_access_key_id` or `aws_secret_access_key`, a `credentials` key that is missing, has no
 * `aws_session_token`, or names other keys than the plain ones (for example `role_arn`, which
 * would send the operator to STS instead). Only key names appear in the answer, never a value.
 *
 * `values` holds the decoded strings of the Secret's keys (undefined for a key that is absent).
 */
export function findSecretDataProblem(values: Readonly<Record<string, string | undefined>>): string | undefined {
  const empty = [SECRET_KEY_ACCESS_KEY_ID, SECRET_KEY_SECRET_ACCESS_KEY, SECRET_KEY_CREDENTIALS].filter((k) => !values[k]?.trim());
  if (empty.length > 0) return `${empty.join(', ')} ${empty.length === 1 ? 'is' : 'are'} empty or missing`;
  const keys = iniKeys(values[SECRET_KEY_CREDENTIALS] ?? '');
  const other = [...keys.keys()].filter((k) => !PLAIN_INI_KEYS.has(k));
  if (other.length > 0) {
    const named = other.filter((k) => /^[A-Za-z0-9_.-]{1,64}$/.test(k));
    return `${SECRET_KEY_CREDENTIALS} names other keys than the plain ones${named.length > 0 ? ` (${named.join(', ')})` : ''}`;
  }
  const missing = [...PLAIN_INI_KEYS].filter((k) => !keys.get(k));
  if (missing.length > 0) return `${SECRET_KEY_CREDENTIALS} has no ${missing.join(', ')}`;
  return undefined;
}

/** The keys of an INI text (every section), each with whether its value is non-empty. */
function iniKeys(text: string): Map<string, boolean> {
  const keys = new Map<string, boolean>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().toLowerCase();
    const hasValue = eq >= 0 && line.slice(eq + 1).trim() !== '';
    keys.set(key, (keys.get(key) ?? false) || hasValue);
  }
  return keys;
}
