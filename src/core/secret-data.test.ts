import { describe, expect, it } from 'vitest';
import { findSecretDataProblem } from './secret-data.js';

const INI = '[default]\naws_access_key_id = AKIAEXAMPLE1234\naws_secret_access_key = s3cr3t\naws_session_token = t0ken\n';
const GOOD = { aws_access_key_id: 'AKIAEXAMPLE1234', aws_secret_access_key: 's3cr3t', credentials: INI };

describe('findSecretDataProblem', () => {
  it.each([
    ['plain credentials as the refresh writes them', GOOD, undefined],
    ['comments and blank lines', { ...GOOD, credentials: `# written by cap-token-refresh\n\n${INI}` }, undefined],
    [
      'all three empty (generated manifests applied again)',
      { aws_access_key_id: '', aws_secret_access_key: '', credentials: '' },
      'aws_access_key_id, aws_secret_access_key, credentials are empty or missing',
    ],
    ['no keys at all', {}, 'aws_access_key_id, aws_secret_access_key, credentials are empty or missing'],
    ['access key id blank', { ...GOOD, aws_access_key_id: '  ' }, 'aws_access_key_id is empty or missing'],
    ['no secret access key', { ...GOOD, aws_secret_access_key: undefined }, 'aws_secret_access_key is empty or missing'],
    ['credentials missing', { ...GOOD, credentials: undefined }, 'credentials is empty or missing'],
    [
      'credentials without a session token',
      { ...GOOD, credentials: '[default]\naws_access_key_id = A\naws_secret_access_key = B\n' },
      'credentials has no aws_session_token',
    ],
    ['credentials with an empty session token', { ...GOOD, credentials: INI.replace('t0ken', '') }, 'credentials has no aws_session_token'],
    [
      'credentials naming role_arn (STS mode)',
      { ...GOOD, credentials: `${INI}role_arn = arn:aws-iso:iam::1:role/x\nweb_identity_token_file = /var/t\n` },
      'credentials names other keys than the plain ones (role_arn, web_identity_token_file)',
    ],
    ['credentials with an odd key name', { ...GOOD, credentials: `${INI}§weird = 1\n` }, 'credentials names other keys than the plain ones'],
  ])('%s', (_, values, expected) => expect(findSecretDataProblem(values)).toBe(expected));

  it('never repeats a value', () => {
    const problem = findSecretDataProblem({ ...GOOD, credentials: '[default]\naws_access_key_id = AKIAEXAMPLE1234\naws_secret_access_key = s3cr3t\n' }) ?? '';
    expect(problem).not.toContain('s3cr3t');
    expect(problem).not.toContain('AKIAEXAMPLE1234');
  });
});
