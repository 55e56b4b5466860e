import { externalDataInterceptor, loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProfileName, CredentialsFileError, setProfileCredentials, type ProfileCredentials } from './credentials-file.js';

// Property tests (fuzzing) of the shared credentials file editor: arbitrary files of
// sections, keys, sub-sections, comments, blank and garbage lines, LF or CRLF. After an edit
// the AWS SDK's own reader gives back the three values for the profile and every other
// profile and key as before; every other line is byte for byte the same; bad input is a
// CredentialsFileError that shows no value.

const CRED_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'] as const;
const CRED_LINE = /^\s*aws_(access_key_id|secret_access_key|session_token)\s*=/;

/** The file as the AWS SDK for JavaScript reads it, without touching the disk. */
async function sdkRead(text: string): Promise<Record<string, Record<string, string>>> {
  externalDataInterceptor.interceptFile('/virtual/aws/credentials', text);
  externalDataInterceptor.interceptFile('/virtual/aws/config', '');
  const { credentialsFile } = await loadSharedConfigFiles({ filepath: '/virtual/aws/credentials', configFilepath: '/virtual/aws/config', ignoreCache: true });
  return credentialsFile as Record<string, Record<string, string>>;
}

// Names of Object.prototype members are left out: the SDK's reader keeps sections in a plain
// object, so `[toString]` or `[constructor]` does not read back there (an SDK quirk).
const profileName = fc
  .oneof(fc.constantFrom('default', 'dev', 'cap', 'prod'), fc.stringMatching(/^[A-Za-z0-9_@+%:/-]{1,12}$/))
  .filter((n) => !(n in Object.prototype));
// Credential values are distinctive, so a line holding one is a line the editor wrote.
const newValue = fc.stringMatching(/^[A-Za-z0-9+/=]{1,40}$/).map((s) => `NEW${s}`);
const newCreds: fc.Arbitrary<ProfileCredentials> = fc.record({ accessKeyId: newValue, secretAccessKey: newValue, sessionToken: newValue });

const space = fc.constantFrom('', ' ', '  ', '\t');
const oldValue = fc.oneof(fc.stringMatching(/^[A-Za-z0-9+/=._-]{1,20}$/), fc.constantFrom('a#b', 'a;b', 'x = y', '"quoted"'));
const comment = fc.constantFrom('', '', ' # note', ' ; note', '\t# tab note', '#glued');

/** Stands for the profile being edited in generated lines (built once: arbitraries are costly to build). */
const P = '\u0000PROFILE\u0000';

function lineArb(profile: string): fc.Arbitrary<string> {
  const section = fc
    .tuple(fc.oneof(fc.constant(profile), profileName, fc.constantFrom(`profile ${profile}`, ` ${profile} `, 'sso-session x', 'services y')), comment)
    .map(([name, c]) => `[${name}]${c}`);
  const key = fc.oneof(
    fc.constantFrom(...CRED_KEYS),
    fc.constantFrom('region', 'output', 's3', 'role_arn', 'source_profile'),
    fc.stringMatching(/^[a-z_]{1,10}$/),
  );
  const keyLine = fc.tuple(space, key, space, space, oldValue, comment).map(([indent, k, a, b, v, c]) => `${indent}${k}${a}=${b}${v}${c}`);
  // A sub-section under a credential key (`aws_session_token =` then indented lines) is left
  // out: the edit gives that key a value, which ends the sub-section by design.
  const subSectionStart = fc
    .tuple(
      key.filter((k) => !(CRED_KEYS as readonly string[]).includes(k)),
      space,
    )
    .map(([k, a]) => `${k}${a}=`);
  const subKey = fc.tuple(fc.constantFrom('  ', '\t', '    '), key, oldValue).map(([indent, k, v]) => `${indent}${k} = ${v}`);
  const other = fc.oneof(
    fc.constantFrom('', '   ', '# comment', '; comment', '[', ']', '=', '= value', 'no equals sign', '[broken'),
    fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n') && !s.includes('\r')),
  );
  return fc.oneof(
    { weight: 2, arbitrary: section },
    { weight: 5, arbitrary: keyLine },
    { weight: 1, arbitrary: subSectionStart },
    { weight: 2, arbitrary: subKey },
    { weight: 2, arbitrary: other },
  );
}

const fileAndProfile = fc
  .record({
    profile: profileName,
    lines: fc.array(lineArb(P), { maxLength: 25 }),
    eol: fc.constantFrom('\n', '\r\n'),
    finalBreak: fc.boolean(),
  })
  .map(({ profile, lines, eol, finalBreak }) => ({
    profile,
    text: lines.length === 0 ? '' : lines.map((l) => l.split(P).join(profile)).join(eol) + (finalBreak ? eol : ''),
  }));

/** Lines that are neither credential-key lines nor lines the editor adds: these must stay byte for byte. */
function untouchedLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.filter((l) => !CRED_LINE.test(l));
}

describe('setProfileCredentials (property)', () => {
  it('an edit reads back through the AWS SDK as the three values, everything else as it was', async () => {
    let appended = 0;
    await fc.assert(
      fc.asyncProperty(fileAndProfile, newCreds, async ({ profile, text }, creds) => {
        const before = await sdkRead(text);
        const out = setProfileCredentials(text, profile, creds);
        const after = await sdkRead(out);

        expect(after[profile]).toMatchObject({
          aws_access_key_id: creds.accessKeyId,
          aws_secret_access_key: creds.secretAccessKey,
          aws_session_token: creds.sessionToken,
        });
        // Other keys of the profile (sub-section keys of a credential key aside) and other profiles: unchanged.
        const keep = (section: Record<string, string> = {}) =>
          Object.fromEntries(Object.entries(section).filter(([k]) => !CRED_KEYS.some((c) => k === c || k.startsWith(`${c}.`))));
        expect(keep(after[profile])).toEqual(keep(before[profile]));
        for (const name of Object.keys({ ...before, ...after }).filter((n) => n !== profile)) expect(after[name], name).toEqual(before[name]);

        // Every other line, comment and blank line stays, in order; only the profile header
        // (and a blank line before it) may be added at the end.
        const was = untouchedLines(text).map((l, i, all) => (i === all.length - 1 ? l.replace(/\r$/, '') : l));
        const now = untouchedLines(out).map((l) => l);
        const tail = now.slice(was.length).map((l) => l.replace(/\r$/, ''));
        expect(now.slice(0, was.length).map((l, i) => (i === was.length - 1 ? l.replace(/\r$/, '') : l))).toEqual(was);
        if (tail.length > 0) {
          appended += 1;
          expect(tail.filter((l) => l !== '')).toEqual([`[${profile}]`]);
        }
        // Line endings: a CRLF file stays CRLF throughout.
        if (text.includes('\r\n')) expect(out.replace(/\r\n/g, '')).not.toContain('\n');
        // The same edit again changes nothing.
        expect(setProfileCredentials(out, profile, creds)).toBe(out);
      }),
      { numRuns: 3000 },
    );
    expect(appended).toBeGreaterThan(100);
  });

  it('ends any text in an edit the SDK reads back, or a CredentialsFileError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200, unit: 'binary' }), profileName, newCreds, async (text, profile, creds) => {
        let out: string;
        try {
          out = setProfileCredentials(text, profile, creds);
        } catch (err) {
          expect(err).toBeInstanceOf(CredentialsFileError);
          return;
        }
        if (/__proto__/.test(text)) return; // the SDK refuses the whole file then
        expect((await sdkRead(out))[profile]).toMatchObject({ aws_access_key_id: creds.accessKeyId, aws_session_token: creds.sessionToken });
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a bad profile name or a value an INI file cannot hold with a CredentialsFileError that shows no value', () => {
    let refused = 0;
    fc.assert(
      fc.property(
        fc.oneof(profileName, fc.string({ maxLength: 10 })),
        // Free-form values carry a marker, so that a value like `name` is not found in the message's own words.
        fc.record({
          accessKeyId: fc.oneof(
            newValue,
            fc.string({ maxLength: 20 }).map((v) => `zz9${v}`),
          ),
          secretAccessKey: newValue,
          sessionToken: fc.oneof(
            newValue,
            newValue.map((v) => `${v} tail`),
            newValue.map((v) => `${v}\n[evil]`),
          ),
        }),
        (profile, creds) => {
          const valid = checkProfileName(profile) === undefined && [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken].every((v) => /^\S+$/.test(v));
          try {
            setProfileCredentials('[default]\nregion = us-iso-east-1\n', profile, creds);
            expect(valid).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(CredentialsFileError);
            expect(valid).toBe(false);
            refused += 1;
            for (const v of [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken].filter((x) => x.length >= 4))
              expect((err as Error).message).not.toContain(v);
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(refused).toBeGreaterThan(300);
  });
});
