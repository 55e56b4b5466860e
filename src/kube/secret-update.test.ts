import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyCredentialsToSecret, readSecretState } from './secret-update.js';

const creds = {
  accessKeyId: 'ASIAEXAMPLE000000001',
  secretAccessKey: 'secret/key+1',
  sessionToken: 'token==',
  expiration: new Date('2030-01-01T01:00:00.000Z'),
};
const refreshedAt = new Date('2030-01-01T00:00:00.500Z');
const b64 = (s: string) => Buffer.from(s).toString('base64');

const read: V1Secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'aws-cloud-credentials',
    namespace: 'openshift-machine-api',
    resourceVersion: '42',
    uid: 'u-1',
    labels: { keep: 'me' },
    annotations: { 'cap-token-refresh/role': 'r', 'cap-token-refresh/expiration': '2029-01-01T00:00:00Z', other: 'x' },
  },
  type: 'Opaque',
  data: { aws_access_key_id: b64('OLD'), unrelated: b64('keep') },
  stringData: { credentials: 'stale', extra: 'stays' },
};

describe('applyCredentialsToSecret', () => {
  const next = applyCredentialsToSecret(read, creds, refreshedAt);

  it('sets the three keys in base64 data and drops them from stringData, which would win', () => {
    expect(next.data).toEqual({
      aws_access_key_id: b64(creds.accessKeyId),
      aws_secret_access_key: b64(creds.secretAccessKey),
      credentials: b64(
        `[default]\naws_access_key_id = ${creds.accessKeyId}\naws_secret_access_key = ${creds.secretAccessKey}\naws_session_token = ${creds.sessionToken}\n`,
      ),
      unrelated: b64('keep'),
    });
    expect(next.stringData).toEqual({ extra: 'stays' });
  });

  it('sets the annotations and the label, keeps everything else, the resourceVersion included', () => {
    expect(next.metadata).toEqual({
      ...read.metadata,
      labels: { keep: 'me', 'cap-token-refresh/managed': 'true' },
      annotations: {
        'cap-token-refresh/role': 'r',
        'cap-token-refresh/expiration': '2030-01-01T01:00:00Z',
        'cap-token-refresh/refreshed-at': '2030-01-01T00:00:00Z',
        other: 'x',
      },
    });
    expect(next.type).toBe('Opaque');
  });

  it('leaves the Secret it was given untouched', () => {
    expect(read.data).toEqual({ aws_access_key_id: b64('OLD'), unrelated: b64('keep') });
    expect(read.metadata?.labels).toEqual({ keep: 'me' });
  });

  it('drops an emptied stringData entirely', () => {
    expect(applyCredentialsToSecret({ ...read, stringData: { credentials: '' } }, creds, refreshedAt).stringData).toBeUndefined();
  });

  it('records the role CAP was asked for, and removes it when none is given (seeded by fill)', () => {
    expect(applyCredentialsToSecret(read, creds, refreshedAt, 'r').metadata?.annotations?.['cap-token-refresh/issued-role']).toBe('r');
    const seeded = { ...read, metadata: { ...read.metadata, annotations: { ...read.metadata?.annotations, 'cap-token-refresh/issued-role': 'old' } } };
    expect(applyCredentialsToSecret(seeded, creds, refreshedAt).metadata?.annotations).not.toHaveProperty('cap-token-refresh/issued-role');
  });
});

const SERVING = {
  aws_access_key_id: b64('ASIAEXAMPLE000000001'),
  aws_secret_access_key: b64('k'),
  credentials: b64('[default]\naws_access_key_id = A\naws_secret_access_key = k\naws_session_token = t\n'),
};

describe('readSecretState', () => {
  it.each([
    [{}, {}],
    [{ 'cap-token-refresh/role': ' r ' }, { role: 'r' }],
    [{ 'cap-token-refresh/role': '' }, { role: '' }],
    [
      { 'cap-token-refresh/role': 'r', 'cap-token-refresh/issued-role': 'q' },
      { role: 'r', issuedRole: 'q' },
    ],
    [
      {
        'cap-token-refresh/role': 'r',
        'cap-token-refresh/agency': 'A',
        'cap-token-refresh/mission': '',
        'cap-token-refresh/refreshed-at': 't0',
        'cap-token-refresh/expiration': 't1',
      },
      { role: 'r', agency: 'A', refreshedAt: 't0', expiration: 't1' },
    ],
  ])('%j', (annotations, state) => {
    expect(readSecretState({ metadata: { annotations }, data: SERVING })).toEqual(state);
  });

  it.each([
    ['no data', {}, undefined, 'aws_access_key_id, aws_secret_access_key, credentials are empty or missing'],
    ['emptied by applying the manifests again', { aws_access_key_id: '', aws_secret_access_key: '', credentials: '' }, undefined, 'are empty or missing'],
    [
      'an INI without a session token',
      { ...SERVING, credentials: b64('[default]\naws_access_key_id = A\naws_secret_access_key = k\n') },
      undefined,
      'credentials has no aws_session_token',
    ],
    ['stringData wins over data', SERVING, { credentials: '' }, 'credentials is empty or missing'],
  ])('%s: the data cannot serve', (_, data, stringData, problem) => {
    const state = readSecretState({ metadata: { annotations: { 'cap-token-refresh/role': 'r' } }, data, ...(stringData ? { stringData } : {}) });
    expect(state.dataProblem).toContain(problem);
  });
});
