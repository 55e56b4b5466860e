import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCredentialsFileText, checkProfileName, CredentialsFileError, setProfileCredentials, type ProfileCredentials } from './credentials-file.js';

const NEW: ProfileCredentials = { accessKeyId: 'ASIANEWKEY', secretAccessKey: 'new/secret+key=', sessionToken: 'FwoGnewtoken==' };
const NEW_LINES = ['aws_access_key_id = ASIANEWKEY', 'aws_secret_access_key = new/secret+key=', 'aws_session_token = FwoGnewtoken=='];

const cases: { name: string; profile: string; before: string; after: string }[] = [
  {
    name: 'an empty file gets the profile',
    profile: 'dev',
    before: '',
    after: ['[dev]', ...NEW_LINES, ''].join('\n'),
  },
  {
    name: 'a missing profile is appended after a blank line; other profiles stay',
    profile: 'dev',
    before: ['# my keys', '[default]', 'aws_access_key_id = AKIAOLD', 'region = us-iso-east-1', ''].join('\n'),
    after: ['# my keys', '[default]', 'aws_access_key_id = AKIAOLD', 'region = us-iso-east-1', '', '[dev]', ...NEW_LINES, ''].join('\n'),
  },
  {
    name: 'existing keys change in place; other keys, comments and blank lines stay',
    profile: 'dev',
    before: [
      '; top comment',
      '[default]',
      'aws_access_key_id = AKIADEFAULT',
      '',
      '[dev]',
      '# the CAP role',
      'aws_access_key_id = ASIAOLD',
      'region = us-isob-east-1',
      'aws_secret_access_key = oldsecret',
      'aws_session_token = oldtoken',
      'output = json',
      '',
      '[prod]',
      'aws_access_key_id = AKIAPROD',
      '',
    ].join('\n'),
    after: [
      '; top comment',
      '[default]',
      'aws_access_key_id = AKIADEFAULT',
      '',
      '[dev]',
      '# the CAP role',
      NEW_LINES[0],
      'region = us-isob-east-1',
      NEW_LINES[1],
      NEW_LINES[2],
      'output = json',
      '',
      '[prod]',
      'aws_access_key_id = AKIAPROD',
      '',
    ].join('\n'),
  },
  {
    name: 'missing keys go after the last key of the profile, before the gap to the next one',
    profile: 'dev',
    before: ['[dev]', 'aws_access_key_id=ASIAOLD', 'region = us-iso-east-1', '', '# next', '[prod]', 'region = x', ''].join('\n'),
    after: ['[dev]', 'aws_access_key_id=ASIANEWKEY', 'region = us-iso-east-1', NEW_LINES[1], NEW_LINES[2], '', '# next', '[prod]', 'region = x', ''].join('\n'),
  },
  {
    name: 'an empty profile section gets the keys right under its header',
    profile: 'dev',
    before: ['[dev] # filled by cap-token-refresh', '', '[prod]', ''].join('\n'),
    after: ['[dev] # filled by cap-token-refresh', ...NEW_LINES, '', '[prod]', ''].join('\n'),
  },
  {
    name: 'spacing around = and a trailing comment are kept',
    profile: 'dev',
    before: ['[dev]', 'aws_access_key_id=ASIAOLD', 'aws_secret_access_key   =   old ; rotated hourly', 'aws_session_token = old', ''].join('\n'),
    after: ['[dev]', 'aws_access_key_id=ASIANEWKEY', 'aws_secret_access_key   =   new/secret+key= ; rotated hourly', NEW_LINES[2], ''].join('\n'),
  },
  {
    name: 'CRLF line endings are kept, new lines use CRLF too',
    profile: 'dev',
    before: '[default]\r\nregion = x\r\n\r\n[dev]\r\naws_access_key_id = old\r\n',
    after: `[default]\r\nregion = x\r\n\r\n[dev]\r\n${NEW_LINES.join('\r\n')}\r\n`,
  },
  {
    name: 'a file without a final line break gets one only where lines are added',
    profile: 'dev',
    before: '[default]\nregion = x',
    after: ['[default]', 'region = x', '', '[dev]', ...NEW_LINES, ''].join('\n'),
  },
  {
    name: 'a file without a final line break keeps it that way when only values change',
    profile: 'dev',
    before: ['[dev]', 'aws_access_key_id = a', 'aws_secret_access_key = b', 'aws_session_token = c'].join('\n'),
    after: ['[dev]', ...NEW_LINES].join('\n'),
  },
  {
    name: 'commented-out keys and look-alike profiles are left alone',
    profile: 'dev',
    before: ['[dev-2]', 'aws_access_key_id = other', '[dev]', '# aws_access_key_id = commented', ';aws_session_token = x', ''].join('\n'),
    after: ['[dev-2]', 'aws_access_key_id = other', '[dev]', ...NEW_LINES, '# aws_access_key_id = commented', ';aws_session_token = x', ''].join('\n'),
  },
  {
    name: 'indented keys of a sub-section are not the profile keys',
    profile: 'dev',
    before: ['[dev]', 's3 =', '  aws_session_token = nested', '  max_concurrent_requests = 20', 'region = x', ''].join('\n'),
    after: ['[dev]', 's3 =', '  aws_session_token = nested', '  max_concurrent_requests = 20', 'region = x', ...NEW_LINES, ''].join('\n'),
  },
  {
    name: 'a profile split over two sections: keys change in both, missing ones go to the last',
    profile: 'dev',
    before: ['[dev]', 'aws_access_key_id = a', '[other]', 'x = 1', '[dev]', 'region = r', ''].join('\n'),
    after: ['[dev]', NEW_LINES[0], '[other]', 'x = 1', '[dev]', 'region = r', NEW_LINES[1], NEW_LINES[2], ''].join('\n'),
  },
];

describe('setProfileCredentials', () => {
  it.each(cases)('$name', ({ profile, before, after }) => {
    expect(setProfileCredentials(before, profile, NEW)).toBe(after);
  });

  it('is idempotent', () => {
    for (const { profile, before } of cases) {
      const once = setProfileCredentials(before, profile, NEW);
      expect(setProfileCredentials(once, profile, NEW)).toBe(once);
    }
  });

  it.each([
    ['', 'empty'],
    ['my profile', 'no spaces'],
    ['a]b', 'no spaces or brackets'],
    ['__proto__', 'refused'],
  ])('refuses the profile name %j', (name, why) => {
    expect(checkProfileName(name)).toContain(why);
    expect(() => setProfileCredentials('', name, NEW)).toThrow(CredentialsFileError);
  });

  it('refuses values an INI file cannot hold, without showing them', () => {
    const bad = { ...NEW, sessionToken: 'line1\nline2-secret' };
    expect(() => setProfileCredentials('', 'dev', bad)).toThrow(/aws_session_token/);
    try {
      setProfileCredentials('', 'dev', bad);
    } catch (err) {
      expect(String(err)).not.toContain('line2-secret');
    }
  });
});

describe('round trip through the AWS SDK parser (@smithy/shared-ini-file-loader)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctr-ini-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  async function sdkRead(text: string): Promise<Record<string, Record<string, string | undefined>>> {
    const file = join(dir, `credentials-${n++}`);
    await writeFile(file, text);
    const { credentialsFile } = await loadSharedConfigFiles({ filepath: file, configFilepath: join(dir, 'no-config'), ignoreCache: true });
    return credentialsFile as Record<string, Record<string, string | undefined>>;
  }

  it.each(cases)('$name: the SDK reads the new values and everything else as before', async ({ profile, before }) => {
    const was = await sdkRead(before);
    const now = await sdkRead(setProfileCredentials(before, profile, NEW));
    expect(now[profile]).toMatchObject({ aws_access_key_id: NEW.accessKeyId, aws_secret_access_key: NEW.secretAccessKey, aws_session_token: NEW.sessionToken });
    const { aws_access_key_id: _a, aws_secret_access_key: _s, aws_session_token: _t, ...otherKeys } = was[profile] ?? {};
    expect(now[profile]).toMatchObject(otherKeys);
    for (const other of Object.keys(was).filter((p) => p !== profile)) expect(now[other]).toEqual(was[other]);
  });

  it('holds for generated files and credentials (property)', async () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/).filter((s) => s !== '__proto__');
    const value = fc.stringMatching(/^[A-Za-z0-9+/=]{1,40}$/);
    const key = fc.constantFrom('aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'region', 'output', 'role_arn');
    const section = fc.record({
      name,
      comment: fc.option(fc.constantFrom('# c', '; note', ''), { nil: undefined }),
      entries: fc.array(fc.tuple(key, value), { maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(section, { maxLength: 4 }),
        name,
        fc.record({ accessKeyId: value, secretAccessKey: value, sessionToken: value }),
        fc.boolean(),
        async (sections, profile, creds, crlf) => {
          const eol = crlf ? '\r\n' : '\n';
          const text = sections
            .map((s) => [...(s.comment !== undefined ? [s.comment] : []), `[${s.name}]`, ...s.entries.map(([k, v]) => `${k} = ${v}`)].join(eol))
            .join(eol + eol);
          const was = await sdkRead(text);
          const edited = setProfileCredentials(text, profile, creds);
          const now = await sdkRead(edited);
          expect(now[profile]).toMatchObject({
            aws_access_key_id: creds.accessKeyId,
            aws_secret_access_key: creds.secretAccessKey,
            aws_session_token: creds.sessionToken,
          });
          for (const other of Object.keys(was).filter((p) => p !== profile)) expect(now[other]).toEqual(was[other]);
          // With CRLF, every line break of the result is CRLF.
          if (text.includes('\r\n')) expect(edited.replace(/\r\n/g, '')).not.toContain('\n');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('checkCredentialsFileText', () => {
  const ok = (text: string | Uint8Array) => checkCredentialsFileText(typeof text === 'string' ? Buffer.from(text) : text);

  it.each([
    ['an empty file', ''],
    ['comments and blank lines only', '# a\n; b\n\n   \n'],
    ['sections and keys, CRLF, a BOM', '\uFEFF[default]\r\naws_access_key_id = AKIA  # note\r\n\r\n[profile x]\r\nregion=us-iso-east-1\r\n'],
    ['a sub-section', '[default]\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path\n'],
    ['an indented continuation', '[default]\nnote = one\n  two\n'],
    ['no final line break', '[a]\nk = v'],
  ])('accepts %s', (_what, text) => {
    expect(ok(text)).toBeUndefined();
  });

  it.each([
    ['NUL bytes', Buffer.from('[a]\nk = v\0\n'), 'line 2 holds binary data (control characters)'],
    ['invalid UTF-8', Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0xff, 0xfe]), 'it is not UTF-8 text'],
    ['a passwd line', Buffer.from('root:x:0:0:root:/root:/bin/bash\n'), 'line 1 is neither a [section], a key = value, a comment nor blank'],
    ['a key before any section', Buffer.from('k = v\n[a]\n'), 'line 1 is a key outside any [section]'],
    ['a stray word in a section', Buffer.from('[a]\nk = v\n\nstray\n'), 'line 4 is neither a [section], a key = value, a comment nor blank'],
    ['an ESC', Buffer.from('[a]\nk = \x1b[2J\n'), 'line 2 holds binary data (control characters)'],
  ])('refuses %s, naming the line but not its text', (_what, bytes, why) => {
    expect(ok(bytes)).toBe(why);
  });

  it('accepts whatever setProfileCredentials writes into an accepted file', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', '# c\n', '[default]\nregion = x\n', '[cap]\r\naws_access_key_id = A\r\n'),
        fc.constantFrom('cap', 'default', 'x'),
        (text, profile) => {
          expect(ok(text)).toBeUndefined();
          expect(ok(setProfileCredentials(text, profile, { accessKeyId: 'ASIAX', secretAccessKey: 's/+=', sessionToken: 't' }))).toBeUndefined();
        },
      ),
    );
  });
});
