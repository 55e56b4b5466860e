import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CapCredentials } from '../core/credentials.js';
import { applyCredentialsToManifest, findManagedSecrets, ManifestParseError } from './secret-manifest.js';
import { largeSecretManifest } from '../sim/large-manifest.js';

const CREDS: CapCredentials = {
  accessKeyId: 'ASIAEXAMPLEKEY123456',
  secretAccessKey: 'abc/def+ghi=jkl',
  sessionToken: 'FwoGZXIvYXdzEtoken==',
  expiration: new Date('2026-11-28T13:00:00Z'),
};
const REFRESHED_AT = new Date('2026-11-28T12:00:00.456Z');

const MANIFEST = `# Machine API credentials, managed by cap-token-refresh.
apiVersion: v1
kind: Secret
metadata:
  name: aws-cloud-credentials
  namespace: openshift-machine-api
  annotations:
    cap-token-refresh/role: machine-api-role # the IAM role
    example.com/owner: platform-team
  labels:
    app: machine-api
type: Opaque
data:
  aws_access_key_id: b2xk
  extra: a2VlcA==
stringData:
  note: keep me
`;

describe('findManagedSecrets', () => {
  it.each([
    ['a managed Secret', MANIFEST, [{ namespace: 'openshift-machine-api', name: 'aws-cloud-credentials', role: 'machine-api-role' }]],
    ['a Secret without the role annotation', MANIFEST.replace('cap-token-refresh/role', 'other/role'), []],
    ['a ConfigMap with the annotation', MANIFEST.replace('kind: Secret', 'kind: ConfigMap'), []],
    ['an empty file', '', []],
    ['a comment only', '# nothing here\n', []],
    [
      'two documents, one managed',
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\n${MANIFEST}`,
      [{ namespace: 'openshift-machine-api', name: 'aws-cloud-credentials', role: 'machine-api-role', docIndex: 1 }],
    ],
  ])('%s', (_, text, expected) => {
    expect(findManagedSecrets(text)).toMatchObject(expected);
  });

  it('reads the agency, mission, expiration and refreshed-at annotations', () => {
    const text = MANIFEST.replace(
      '    example.com/owner: platform-team\n',
      "    example.com/owner: platform-team\n    cap-token-refresh/agency: AG\n    cap-token-refresh/mission: MI\n    cap-token-refresh/expiration: '2026-11-28T13:00:00Z'\n    cap-token-refresh/refreshed-at: 2026-11-28T12:00:00Z\n",
    );
    expect(findManagedSecrets(text)[0]).toMatchObject({ agency: 'AG', mission: 'MI', expiration: '2026-11-28T13:00:00Z', refreshedAt: '2026-11-28T12:00:00Z' });
  });

  it.each([
    ['bad indentation', 'apiVersion: v1\nkind: Secret\n metadata:\n  name: x\n'],
    ['an unclosed quote', 'apiVersion: "v1\nkind: Secret\n'],
    ['a tab where YAML forbids it', 'a:\n\t- b\n'],
  ])('throws ManifestParseError on %s', (_, text) => {
    expect(() => findManagedSecrets(text)).toThrow(ManifestParseError);
  });
});

describe('applyCredentialsToManifest', () => {
  const edited = applyCredentialsToManifest(MANIFEST, [0], CREDS, REFRESHED_AT);
  const obj = parse(edited);

  it('sets the three keys under stringData, the INI with the session token', () => {
    expect(obj.stringData.aws_access_key_id).toBe(CREDS.accessKeyId);
    expect(obj.stringData.aws_secret_access_key).toBe(CREDS.secretAccessKey);
    expect(obj.stringData.credentials).toBe(
      `[default]\naws_access_key_id = ${CREDS.accessKeyId}\naws_secret_access_key = ${CREDS.secretAccessKey}\naws_session_token = ${CREDS.sessionToken}\n`,
    );
  });

  it('removes the same keys from data and keeps the others', () => {
    expect(obj.data).toEqual({ extra: 'a2VlcA==' });
    expect(obj.stringData.note).toBe('keep me');
  });

  it('sets the annotations and label and keeps the rest', () => {
    expect(obj.metadata.annotations).toEqual({
      'cap-token-refresh/role': 'machine-api-role',
      'example.com/owner': 'platform-team',
      'cap-token-refresh/expiration': '2026-11-28T13:00:00Z',
      'cap-token-refresh/refreshed-at': '2026-11-28T12:00:00Z',
    });
    expect(obj.metadata.labels).toEqual({ app: 'machine-api', 'cap-token-refresh/managed': 'true' });
    expect(obj.type).toBe('Opaque');
  });

  it('keeps comments and key order', () => {
    expect(edited.startsWith('# Machine API credentials, managed by cap-token-refresh.\napiVersion: v1\nkind: Secret\nmetadata:\n')).toBe(true);
    expect(edited).toContain('cap-token-refresh/role: machine-api-role # the IAM role');
    expect(Object.keys(obj)).toEqual(['apiVersion', 'kind', 'metadata', 'type', 'data', 'stringData']);
  });

  it('writes the INI as a block literal and the label as a quoted string', () => {
    expect(edited).toContain('  credentials: |\n    [default]\n');
    expect(edited).toContain('cap-token-refresh/managed: "true"');
  });

  it('drops an emptied data map', () => {
    const onlyCreds = MANIFEST.replace('  extra: a2VlcA==\n', '');
    expect(parse(applyCredentialsToManifest(onlyCreds, [0], CREDS, REFRESHED_AT)).data).toBeUndefined();
  });

  it('edits only the chosen document of a multi-document file', () => {
    const text = `${MANIFEST}---\n${MANIFEST.replace('aws-cloud-credentials', 'second')}`;
    const docs = parseAllDocuments(applyCredentialsToManifest(text, [1], CREDS, REFRESHED_AT));
    const [first, second] = (docs as ReturnType<typeof parseAllDocuments> & unknown[]).map((d) => (d as { toJS(): any }).toJS());
    expect(first.stringData.aws_access_key_id).toBeUndefined();
    expect(second.stringData.aws_access_key_id).toBe(CREDS.accessKeyId);
  });

  it('gives the same text when applied twice with the same input', () => {
    expect(applyCredentialsToManifest(edited, [0], CREDS, REFRESHED_AT)).toBe(edited);
  });
});

describe('large manifests', () => {
  it('a repeated key is still refused, with its line', () => {
    const text = `${MANIFEST}  extra: again\n`.replace('stringData:\n  note: keep me\n', '');
    expect(() => findManagedSecrets(text)).toThrow(/DUPLICATE_KEY/);
    expect(() => findManagedSecrets(MANIFEST.replace('  labels:', '  name: twice\n  labels:'))).toThrow(/line \d+\): DUPLICATE_KEY/);
  });

  // The library's duplicate-key check compared every key with every other: 32,000 keys took
  // 31 s. The test timeout is the bound (30x the time it takes now); the bench states the figure.
  it('a 1 MiB Secret with ~57,000 keys is found and edited', { timeout: 60_000 }, () => {
    const { text, keys } = largeSecretManifest();
    expect(keys).toBeGreaterThan(50_000);
    expect(findManagedSecrets(text)).toMatchObject([{ name: 'many-keys', role: 'role-many' }]);
    const edited = applyCredentialsToManifest(text, [0], CREDS, REFRESHED_AT);
    expect(edited).toContain(`  k${keys - 1}: dmFsdWU=`);
  });
});

describe('applyCredentialsToManifest edits the source: every byte it does not write stays (issue 13)', () => {
  const INI = `[default]\naws_access_key_id = ${CREDS.accessKeyId}\naws_secret_access_key = ${CREDS.secretAccessKey}\naws_session_token = ${CREDS.sessionToken}\n`;
  const head = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    cap-token-refresh/role: r\n';
  /** What the edit appends to `head`'s annotations, and the label and stringData it adds at the ends of their parents. */
  const WRITTEN_ANNOTATIONS = '    cap-token-refresh/expiration: 2026-11-28T13:00:00Z\n    cap-token-refresh/refreshed-at: 2026-11-28T12:00:00Z\n';
  const WRITTEN_LABELS = '  labels:\n    cap-token-refresh/managed: "true"\n';
  const WRITTEN_STRING_DATA = `stringData:\n  aws_access_key_id: ${CREDS.accessKeyId}\n  aws_secret_access_key: ${CREDS.secretAccessKey}\n  credentials: |\n${INI.replace(/^(?=.)/gm, '    ')}`;
  const edit = (text: string, issuedRole?: string) => applyCredentialsToManifest(text, [0], CREDS, REFRESHED_AT, issuedRole);

  it.each([
    ['a !!binary that is not base64', 'data:\n  other: !!binary "not base64 !!"\n'],
    [
      'a valid !!binary block wrapped over lines',
      'data:\n  gif: !!binary |\n    R0lGODlhDAAMAIQAAP//9/X17unp5WZmZgAAAOfn515eXvPz7Y6OjuDg4J+fn5\n    OTk6enp56enmleECcgggoBADs=\n',
    ],
    ['numbers in other forms (YAML 1.1 octal, hex, signs, exponents)', 'x1: 012\nx2: 0x1F\nx3: +1\nx4: .5\nx5: 1e3\nx6: 0o17\nx7: -.inf\nx8: 1_000\n'],
    ['a flow map and a flow list with their spacing', 'spec: {a: 1,  b: [x,y ,  z]}\nlist: [ 1 , 2 ]\n'],
    [
      'folded and literal blocks with chomping and indentation indicators',
      'f: >\n  folded\n  text\n\n  para\nk: |+\n  keep\n\nl: >-\n  strip\nm: |2\n    two more\n',
    ],
    ['spaces and a tab before comments', 'a: 1    # four spaces\n#col0\n    # indented comment\nb: "x" # one\n\nc: y\t# a tab\n'],
    ['quoting styles and escapes', `q1: 'it''s'\nq2: "tab\\tand \\u00e9"\nq3: plain:text, [not] a list\nq4: ~\nq5: null\nq6: 2026-01-01\n`],
    ['anchors and aliases', 'base: &b {a: 1}\nuse: *b\n'],
  ])('keeps %s', (_, rest) => {
    const text = `${head}type: Opaque\n${rest}`;
    const out = edit(text);
    // data is left with its other keys, so the only changes are the three added blocks.
    expect(out).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}type: Opaque\n${rest}${WRITTEN_STRING_DATA}`);
  });

  it('replaces existing keys where they are, keeping their comments, and removes the credential keys from data', () => {
    const text = [
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: s',
      '  annotations:',
      '    cap-token-refresh/role: r   # the role',
      '    cap-token-refresh/expiration: "2020-01-01T00:00:00Z"  # old',
      '    cap-token-refresh/issued-role: old',
      '    cap-token-refresh/refreshed-at: 2019-12-31T23:00:00Z',
      '  labels: {app: x,  cap-token-refresh/managed: "false"}',
      'data:',
      '  aws_access_key_id: b2xk',
      '  # about extra',
      '  extra: 012',
      '  credentials: !!binary |',
      '    b2xk',
      'stringData:',
      '  aws_secret_access_key: old    # keep me',
      '  note: >',
      '    folded',
      '',
    ].join('\n');
    expect(edit(text, 'r')).toBe(
      [
        'apiVersion: v1',
        'kind: Secret',
        'metadata:',
        '  name: s',
        '  annotations:',
        '    cap-token-refresh/role: r   # the role',
        '    cap-token-refresh/expiration: 2026-11-28T13:00:00Z  # old',
        '    cap-token-refresh/issued-role: r',
        '    cap-token-refresh/refreshed-at: 2026-11-28T12:00:00Z',
        '  labels: {app: x,  cap-token-refresh/managed: "true"}',
        'data:',
        '  # about extra',
        '  extra: 012',
        'stringData:',
        `  aws_secret_access_key: ${CREDS.secretAccessKey}    # keep me`,
        '  note: >',
        '    folded',
        `  aws_access_key_id: ${CREDS.accessKeyId}`,
        '  credentials: |',
        ...INI.trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
        '',
      ].join('\n'),
    );
  });

  it('removes the issued-role annotation when none is given (as fill seeds), and only that line', () => {
    const text = `${head.replace('role: r\n', 'role: r\n    cap-token-refresh/issued-role: old # was\n')}type: Opaque\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}type: Opaque\n${WRITTEN_STRING_DATA}`);
  });

  it('adds keys with the indentation of the surrounding map, and its step for new maps and the INI', () => {
    const text = 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\n    annotations:\n        cap-token-refresh/role: r\n    labels:\n        app: x\n';
    expect(edit(text)).toBe(
      `${text}        cap-token-refresh/managed: "true"\n`.replace(
        'role: r\n',
        'role: r\n        cap-token-refresh/expiration: 2026-11-28T13:00:00Z\n        cap-token-refresh/refreshed-at: 2026-11-28T12:00:00Z\n',
      ) +
        `stringData:\n    aws_access_key_id: ${CREDS.accessKeyId}\n    aws_secret_access_key: ${CREDS.secretAccessKey}\n    credentials: |\n${INI.replace(/^(?=.)/gm, '        ')}`,
    );
  });

  it('writes into flow maps in flow style (the INI double-quoted), keeping their spacing', () => {
    const text =
      '{apiVersion: v1, kind: Secret, metadata: {name: s, annotations: {cap-token-refresh/role: r}, labels: {}},  data: {aws_access_key_id: x, keep: 0x1F}, stringData: {note: 1}}\n';
    expect(edit(text)).toBe(
      '{apiVersion: v1, kind: Secret, metadata: {name: s, annotations: {cap-token-refresh/role: r, cap-token-refresh/expiration: 2026-11-28T13:00:00Z, ' +
        'cap-token-refresh/refreshed-at: 2026-11-28T12:00:00Z}, labels: {cap-token-refresh/managed: "true"}},  data: {keep: 0x1F}, stringData: {note: 1, ' +
        `aws_access_key_id: ${CREDS.accessKeyId}, aws_secret_access_key: ${CREDS.secretAccessKey}, credentials: ${JSON.stringify(INI)}}}\n`,
    );
  });

  it('drops a data map that held only credential keys, and keeps an empty one it did not empty', () => {
    expect(edit(`${head}data:\n  aws_access_key_id: b2xk\n  credentials: b2xk\ntype: Opaque\n`)).toBe(
      `${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}type: Opaque\n${WRITTEN_STRING_DATA}`,
    );
    expect(edit(`${head}data: {}\n`)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}data: {}\n${WRITTEN_STRING_DATA}`);
  });

  it('turns a null labels or stringData into a map in place, keeping the comment', () => {
    const text = `${head}  labels: ~ # none yet\nstringData:\ntype: Opaque\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}  labels: # none yet\n    cap-token-refresh/managed: "true"\n${WRITTEN_STRING_DATA}type: Opaque\n`);
  });

  it('keeps CRLF line endings, in what it adds too', () => {
    const text = `${head}  labels:\n    app: x\nstringData:\n  credentials: |\n    old\n  note: 1\n`.replace(/\n/g, '\r\n');
    const out = edit(text);
    expect(out.replace(/\r\n/g, '')).not.toContain('\n');
    expect(out).toBe(
      `${head}${WRITTEN_ANNOTATIONS}  labels:\n    app: x\n    cap-token-refresh/managed: "true"\nstringData:\n  credentials: |\n${INI.replace(/^(?=.)/gm, '    ')}  note: 1\n  aws_access_key_id: ${CREDS.accessKeyId}\n  aws_secret_access_key: ${CREDS.secretAccessKey}\n`.replace(
        /\n/g,
        '\r\n',
      ),
    );
    expect(parse(out).stringData.credentials).toBe(INI);
  });

  it('edits only the chosen document; the others, their markers and comments stay byte for byte', () => {
    const other = '# first\n--- # a ConfigMap\nkind: ConfigMap\ndata: {n: 012}\n...\n';
    const third = '---\nkind: Secret\nmetadata:\n  annotations:\n    cap-token-refresh/role: r2\nx: 0x1F   # hex\n';
    const text = `${other}--- !!map\n${head}${third}`;
    const out = applyCredentialsToManifest(text, [1], CREDS, REFRESHED_AT);
    expect(out).toBe(`${other}--- !!map\n${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}${WRITTEN_STRING_DATA}${third}`);
  });

  it('keeps a file without a final line break without one', () => {
    expect(edit(`${head}x: 1`)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}x: 1\n${WRITTEN_STRING_DATA.trimEnd()}`);
  });

  it("writes the clock-offset annotation quoted when CAP's clock is over 60 s off, and removes only its line when it is not", () => {
    const skewed = applyCredentialsToManifest(`${head}type: Opaque\n`, [0], { ...CREDS, capClockOffsetMs: 90_400 }, REFRESHED_AT);
    expect(skewed).toBe(`${head}${WRITTEN_ANNOTATIONS}    cap-token-refresh/clock-offset-seconds: "90"\n${WRITTEN_LABELS}type: Opaque\n${WRITTEN_STRING_DATA}`);
    expect(applyCredentialsToManifest(skewed, [0], { ...CREDS, capClockOffsetMs: 1_000 }, REFRESHED_AT)).toBe(
      `${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}type: Opaque\n${WRITTEN_STRING_DATA}`,
    );
  });

  // Found by the property test: a comment line indented as deep as the INI's lines would have become part of the INI.
  it('puts the INI deeper than a comment line that follows it, so the comment stays a comment', () => {
    const text = `${head}stringData:\n  credentials: old\n      # deep comment\n  note: 1\n`;
    const out = edit(text);
    expect(out).toContain('  credentials: |\n       [default]\n');
    expect(out).toContain('       aws_session_token = FwoGZXIvYXdzEtoken==\n      # deep comment\n  note: 1\n');
    expect(parse(out).stringData).toEqual({ credentials: INI, note: 1, aws_access_key_id: CREDS.accessKeyId, aws_secret_access_key: CREDS.secretAccessKey });
  });

  // Found by the property test (seed -732198818): removing `credentials: old` left its deeper
  // comment line after the folded block before it, which then read it as content; the file
  // was refused ("does not read back as written").
  it('removes a credential key of data with the deeper comment lines inside its item, so a block scalar before it stays as it was', () => {
    const text = `${head}data:\n  other: >\n    folded\n  credentials: old\n      # deep comment\n  # about next\n  next: 1\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}data:\n  other: >\n    folded\n  # about next\n  next: 1\n${WRITTEN_STRING_DATA}`);
  });

  // Found by the property test at 5000 runs (seed 1559858771): a line of spaces after the key,
  // deeper than the INI's lines, would have become a line of the INI.
  it('puts the INI at least as deep as a line of spaces that follows it, so that line stays empty', () => {
    const text = `${head}stringData:\n  credentials: old\n      \n  note: 1\n`;
    const out = edit(text);
    expect(out).toContain('  credentials: |\n      [default]\n');
    expect(out).toContain('      aws_session_token = FwoGZXIvYXdzEtoken==\n      \n  note: 1\n');
    expect(parse(out).stringData).toEqual({ credentials: INI, note: 1, aws_access_key_id: CREDS.accessKeyId, aws_secret_access_key: CREDS.secretAccessKey });
  });

  // Found while hunting the sibling cases: the INI went at most 40 columns deeper, and the edit was refused.
  it('puts the INI as deep as a long line of spaces that follows it needs', () => {
    const text = `${head}stringData:\n  credentials: old\n${' '.repeat(60)}\n  note: 1\n`;
    const out = edit(text);
    expect(out).toContain(`  credentials: |\n${' '.repeat(60)}[default]\n`);
    expect(parse(out).stringData).toEqual({ credentials: INI, note: 1, aws_access_key_id: CREDS.accessKeyId, aws_secret_access_key: CREDS.secretAccessKey });
  });

  it('removes a credential key of data with the lines of spaces deeper than it, so a block scalar before it stays as it was', () => {
    const text = `${head}data:\n  other: >\n    folded\n  credentials: old\n      \n  next: 1\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}data:\n  other: >\n    folded\n  next: 1\n${WRITTEN_STRING_DATA}`);
  });

  // Found while hunting the sibling cases: the blank lines after a removed key would have
  // become more lines of a keep-chomped (|+) block just before it, changing its value.
  it('removes a credential key of data after a keep-chomped block with the blank lines after it, so the block keeps its value', () => {
    const text = `${head}data:\n  other: |+\n    keep\n\n  credentials: old\n\n  next: 1\n`;
    const out = edit(text);
    expect(out).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}data:\n  other: |+\n    keep\n\n  next: 1\n${WRITTEN_STRING_DATA}`);
    expect(parse(out).data).toEqual({ other: 'keep\n\n', next: 1 });
  });

  // Found by the property test at 5000 runs (seed 901058150): a comment line had already ended the block, and the blank lines went too.
  it('keeps the blank lines after a removed key when a comment line stands between it and a keep-chomped block', () => {
    const text = `${head}data:\n  other: |+\n    keep\n\n# ends it\n  credentials: old\n\n  next: 1\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}data:\n  other: |+\n    keep\n\n# ends it\n\n  next: 1\n${WRITTEN_STRING_DATA}`);
  });

  // Found by the property test at 5000 runs (seed 901058150): a blank line between two removed keys went into the block.
  it('removes the blank lines between removed credential keys of data that follow a keep-chomped block', () => {
    const text = `${head}data:\n  other: |+\n    keep\n\n  credentials: old\n\n  aws_access_key_id: old\n\n  next: 1\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}data:\n  other: |+\n    keep\n\n  next: 1\n${WRITTEN_STRING_DATA}`);
  });

  it('adds keys after the deeper comment lines of the last key of the map, which stay with that key', () => {
    const text = `${head}stringData:\n  note: keep\n      # about note\n\n      # more about note\n`;
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}${text.slice(head.length)}${WRITTEN_STRING_DATA.slice('stringData:\n'.length)}`);
  });

  // The flaky property failure: a written annotation carrying a !!binary tag kept its tag when
  // the library set its value, and re-serialising it threw a TypeError (not a ManifestParseError).
  it('replaces a written key together with its tag (a !!binary annotation once made it throw a TypeError)', () => {
    const text = `${head}    cap-token-refresh/expiration: !!binary "not-a-time"\n`;
    expect(findManagedSecrets(text)).toHaveLength(1);
    expect(edit(text)).toBe(`${head}${WRITTEN_ANNOTATIONS}${WRITTEN_LABELS}${WRITTEN_STRING_DATA}`);
  });
});
