import { type SECRET_CREDENTIAL_KEYS, SECRET_KEY_ACCESS_KEY_ID, SECRET_KEY_CREDENTIALS, SECRET_KEY_SECRET_ACCESS_KEY } from './names.js';

/** One set of STS session credentials as CAP hands them out. */
export interface CapCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** When the credentials stop working. */
  expiration: Date;
  /** CAP sent no Expiration; it was taken as --assume-lifetime from CAP's Date (or now). */
  expirationAssumed?: boolean;
  /** CAP's clock minus this node's, from CAP's Date header, when it sent one. */
  capClockOffsetMs?: number;
}

/** The AWS shared credentials file body the operators read from the `credentials` key. */
export function renderCredentialsIni(creds: CapCredentials, profile = 'default'): string {
  return [
    `[${profile}]`,
    `aws_access_key_id = ${creds.accessKeyId}`,
    `aws_secret_access_key = ${creds.secretAccessKey}`,
    `aws_session_token = ${creds.sessionToken}`,
    '',
  ].join('\n');
}

/** The three Secret keys every write sets, as plain strings (not yet base64). */
export function buildSecretStringData(creds: CapCredentials): Record<(typeof SECRET_CREDENTIAL_KEYS)[number], string> {
  return {
    [SECRET_KEY_ACCESS_KEY_ID]: creds.accessKeyId,
    [SECRET_KEY_SECRET_ACCESS_KEY]: creds.secretAccessKey,
    [SECRET_KEY_CREDENTIALS]: renderCredentialsIni(creds),
  };
}

/** An access key id reduced to what may be shown: its last four characters. */
export function maskAccessKeyId(accessKeyId: string): string {
  return accessKeyId.length <= 4 ? '****' : `…${accessKeyId.slice(-4)}`;
}
