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
