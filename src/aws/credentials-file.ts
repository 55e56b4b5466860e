// Editing the AWS shared credentials file (~/.aws/credentials) as text: only the three
// credential keys of one profile change; every other line stays byte for byte. Pure.
//
// Lines are recognised the way the AWS SDKs read them (@smithy/shared-ini-file-loader's
// parseIni): a comment starts at `#` or `;` at the line start or after whitespace; a section
// is `[name]`; `key = value` with an empty value opens a sub-section whose indented lines
// belong to it.

export interface ProfileCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export const CREDENTIAL_FILE_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'] as const;
type CredentialFileKey = (typeof CREDENTIAL_FILE_KEYS)[number];

/** Characters the SDKs accept in a profile name without quoting; no whitespace, no brackets. */
const PROFILE_NAME = /^[A-Za-z0-9_.@+%:/-]+$/;

/** Why NAME cannot be a profile in the credentials file, or undefined when it can. */
export function checkProfileName(name: string): string | undefined {
  if (name === '') return 'the profile name is empty';
  if (name === '__proto__') return 'the profile name __proto__ is refused by the AWS SDKs';
  if (!PROFILE_NAME.test(name)) {
    return `the profile name "${name}" may only hold letters, digits and _ . @ + % : / - (no spaces or brackets)`;
  }
  return undefined;
}

export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError';
}

interface Line {
  /** The line without its line break. */
  body: string;
  /** `\r` when the line ended in CRLF, else ''. */
  cr: string;
}

/**
 * Sets aws_access_key_id, aws_secret_access_key and aws_session_token of `profile` in the
 * credentials file `text` (empty for a new file). Existing key lines are rewritten in
 * place (their spacing and trailing comment kept); missing keys go after the last key of
 * the profile's last section; a missing profile is appended at the end. Other keys, other
 * profiles, comments, blank lines and line endings are untouched.
 */
export function setProfileCredentials(text: string, profile: string, creds: ProfileCredentials): string {
  const problem = checkProfileName(profile);
  if (problem) throw new CredentialsFileError(problem);
  const values: Record<CredentialFileKey, string> = {
    aws_access_key_id: creds.accessKeyId,
    aws_secret_access_key: creds.secretAccessKey,
    aws_session_token: creds.sessionToken,
  };
  for (const key of CREDENTIAL_FILE_KEYS) {
    // Named, never shown: the value is a secret.
    if (!/^\S+$/.test(values[key])) throw new CredentialsFileError(`the value for ${key} is empty or holds whitespace and cannot be stored in an INI file`);
  }

  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  const hadFinalBreak = text.endsWith('\n');
  const lines: Line[] = (hadFinalBreak ? text.slice(0, -1) : text)
    .split('\n')
    .map((l) => (l.endsWith('\r') ? { body: l.slice(0, -1), cr: '\r' } : { body: l, cr: '' }));
  if (text === '') lines.length = 0;

  // One pass: rewrite the keys that exist, remember where the profile's sections end.
  const found = new Set<CredentialFileKey>();
  let inProfile = false;
  let subSection = false;
  /** Index of the line after which missing keys go (last key line of the profile's last section). */
  let insertAfter = -1;
  lines.forEach((line, i) => {
    const content = stripComment(line.body);
    if (content.startsWith('[') && content.endsWith(']')) {
      inProfile = content.slice(1, -1) === profile;
      subSection = false;
      if (inProfile) insertAfter = i;
      return;
    }
    if (!inProfile) return;
    const eq = content.indexOf('=');
    if (eq <= 0) return;
    insertAfter = i;
    const name = content.slice(0, eq).trim();
    const value = content.slice(eq + 1).trim();
    const indented = line.body.trimStart() !== line.body;
    if (subSection && indented) return; // a sub-property such as `s3 =` / `  max_concurrent_requests = 20`
    subSection = value === '';
    if ((CREDENTIAL_FILE_KEYS as readonly string[]).includes(name)) {
      const key = name as CredentialFileKey;
      lines[i] = { body: replaceValue(line.body, values[key]), cr: line.cr };
      found.add(key);
      subSection = false;
    }
  });

  const cr = eol === '\r\n' ? '\r' : '';
  const missing = CREDENTIAL_FILE_KEYS.filter((k) => !found.has(k)).map((k) => ({ body: `${k} = ${values[k]}`, cr }));
  const lastIndex = lines.length - 1;
  const lastLine = lines.at(-1);
  const appendsAtEnd = insertAfter < 0 || (insertAfter === lastIndex && missing.length > 0);
  // A file without a final line break gets one before lines are added after its last line.
  const endsWithBreak = hadFinalBreak || appendsAtEnd;
  if (!hadFinalBreak && appendsAtEnd && lastLine) lines[lastIndex] = { ...lastLine, cr };
  if (insertAfter >= 0) {
    lines.splice(insertAfter + 1, 0, ...missing);
  } else {
    const needsGap = lastLine !== undefined && lastLine.body.trim() !== '';
    lines.push(...(needsGap ? [{ body: '', cr }] : []), { body: `[${profile}]`, cr }, ...missing);
  }
  return lines.map((l) => `${l.body}${l.cr}`).join('\n') + (endsWithBreak ? '\n' : '');
}

/**
 * Why BYTES is not a credentials file this tool may add a profile to, or undefined when it
 * is one: UTF-8 text without control characters (tab, CR and LF aside), each line blank, a
 * comment (`#`, `;`), a `[section]`, a `key = value` inside a section, or an indented
 * continuation of the key above it. A binary file, or a `passwd`-like file handed over by
 * mistake (AWS_SHARED_CREDENTIALS_FILE=/etc/passwd), is refused rather than appended to.
 * The reason names a line number, never the line: the file may hold secrets.
 */
export function checkCredentialsFileText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return 'it is not UTF-8 text';
  }
  const lines = text.split('\n');
  let inSection = false;
  let afterKey = false;
  for (const [i, raw] of lines.entries()) {
    const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const n = i + 1;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(body)) return `line ${n} holds binary data (control characters)`;
    const content = stripComment(body);
    if (content === '') {
      // Blank or a comment: a continuation ends at a blank line, as configparser reads it.
      if (body.trim() === '') afterKey = false;
      continue;
    }
    if (content.startsWith('[') && content.endsWith(']')) {
      inSection = true;
      afterKey = false;
      continue;
    }
    const indented = body.trimStart() !== body;
    if (content.indexOf('=') > 0) {
      if (!inSection) return `line ${n} is a key outside any [section]`;
      afterKey = true;
      continue;
    }
    if (indented && afterKey) continue;
    return `line ${n} is neither a [section], a key = value, a comment nor blank`;
  }
  return undefined;
}

/** The line without its comment, trimmed, as the SDKs see it. */
function stripComment(body: string): string {
  return (body.split(/(?:^|\s)[;#]/)[0] ?? '').trim();
}

/** `key = old  # note` -> `key = new  # note`: spacing around `=` and a trailing comment are kept. */
function replaceValue(body: string, value: string): string {
  const eq = body.indexOf('=');
  const rest = body.slice(eq + 1);
  const lead = /^[ \t]*/.exec(rest)?.[0] ?? '';
  const comment = /\s[;#].*$/.exec(rest)?.[0] ?? '';
  return `${body.slice(0, eq + 1)}${lead}${value}${comment}`;
}
