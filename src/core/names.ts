// Names fixed by docs/DESIGN.md's contract: manifests, scripts and users rely on them.

export const ANNOTATION_ROLE = 'cap-token-refresh/role';
export const ANNOTATION_AGENCY = 'cap-token-refresh/agency';
export const ANNOTATION_MISSION = 'cap-token-refresh/mission';
export const ANNOTATION_ACCOUNT = 'cap-token-refresh/account';
export const ANNOTATION_EXPIRATION = 'cap-token-refresh/expiration';
export const ANNOTATION_REFRESHED_AT = 'cap-token-refresh/refreshed-at';
/** The role CAP was asked for at the last refresh; a Secret whose role annotation differs (or that has none, as after `fill`) is due. */
export const ANNOTATION_ISSUED_ROLE = 'cap-token-refresh/issued-role';
/**
 * CAP's clock minus the refreshing node's, in whole seconds, when it was over 60 s at the last
 * refresh (removed when it was within); `status` shows it.
 */
export const ANNOTATION_CLOCK_OFFSET = 'cap-token-refresh/clock-offset-seconds';
export const LABEL_MANAGED = 'cap-token-refresh/managed';

/** Keys of the operator Secret that every write sets (docs/DESIGN.md, "The Secret an operator reads"). */
export const SECRET_KEY_ACCESS_KEY_ID = 'aws_access_key_id';
export const SECRET_KEY_SECRET_ACCESS_KEY = 'aws_secret_access_key';
export const SECRET_KEY_CREDENTIALS = 'credentials';
export const SECRET_CREDENTIAL_KEYS = [SECRET_KEY_ACCESS_KEY_ID, SECRET_KEY_SECRET_ACCESS_KEY, SECRET_KEY_CREDENTIALS] as const;

/** Where the CronJob mounts the certs Secret, and the keys it holds. */
export const CERTS_MOUNT_DIR = '/etc/cap-certs';
export const CERTS_SECRET_KEYS = {
  cert: 'tls.crt',
  key: 'tls.key',
  ca: 'ca.crt',
  pkcs12: 'client.p12',
  passphrase: 'passphrase',
} as const;

export const TOOL_NAMESPACE = 'cap-token-refresh';
export const TOOL_NAME = 'cap-token-refresh';
