import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { describe, expect, it } from 'vitest';
import { buildSecretStringData, maskAccessKeyId, renderCredentialsIni, type CapCredentials } from './credentials.js';

const CREDS: CapCredentials = {
  accessKeyId: 'ASIAEXAMPLEKEY123456',
  secretAccessKey: 'abc/def+ghi=jkl',
  sessionToken: 'FwoGZXIvYXdzE//token+with/slashes==',
  expiration: new Date('2026-11-28T13:00:00Z'),
};

describe('renderCredentialsIni', () => {
  it('is read back by the AWS SDK shared-credentials loader with all three values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctr-ini-'));
    await writeFile(join(dir, 'credentials'), renderCredentialsIni(CREDS));
    const parsed = await loadSharedConfigFiles({ filepath: join(dir, 'credentials'), configFilepath: join(dir, 'none'), ignoreCache: true }).finally(() =>
      rm(dir, { recursive: true, force: true }),
    );
    expect(parsed.credentialsFile.default).toEqual({
      aws_access_key_id: CREDS.accessKeyId,
      aws_secret_access_key: CREDS.secretAccessKey,
      aws_session_token: CREDS.sessionToken,
    });
  });

  it('writes the exact layout operators expect', () => {
    expect(renderCredentialsIni(CREDS)).toBe(
      '[default]\naws_access_key_id = ASIAEXAMPLEKEY123456\naws_secret_access_key = abc/def+ghi=jkl\naws_session_token = FwoGZXIvYXdzE//token+with/slashes==\n',
    );
  });
});

describe('buildSecretStringData', () => {
  it('sets exactly the three keys of docs/DESIGN.md', () => {
    const data = buildSecretStringData(CREDS);
    expect(Object.keys(data).sort()).toEqual(['aws_access_key_id', 'aws_secret_access_key', 'credentials']);
    expect(data.aws_access_key_id).toBe(CREDS.accessKeyId);
    expect(data.aws_secret_access_key).toBe(CREDS.secretAccessKey);
    expect(data.credentials).toContain(`aws_session_token = ${CREDS.sessionToken}`);
  });
});

describe('maskAccessKeyId', () => {
  it.each([
    ['ASIAEXAMPLEKEY123456', '…3456'],
    ['ABCD', '****'],
    ['', '****'],
  ])('%j -> %j', (id, masked) => expect(maskAccessKeyId(id)).toBe(masked));
});
