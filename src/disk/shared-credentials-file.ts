import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { checkCredentialsFileText, CredentialsFileError, setProfileCredentials, type ProfileCredentials } from '../aws/credentials-file.js';

/**
 * The shared credentials file the AWS CLI and SDKs read: AWS_SHARED_CREDENTIALS_FILE (a
 * leading `~/` means HOME, as the SDKs read it; relative to cwd otherwise), else
 * ~/.aws/credentials.
 */
export function resolveSharedCredentialsFile(env: Record<string, string | undefined>, cwd: string): string {
  const home = env.HOME;
  const fromEnv = env.AWS_SHARED_CREDENTIALS_FILE;
  if (fromEnv) {
    if (fromEnv.startsWith('~/')) {
      if (!home) throw new ConfigError('AWS_SHARED_CREDENTIALS_FILE starts with ~/ but HOME is not set; give an absolute path');
      return join(home, fromEnv.slice(2));
    }
    return isAbsolute(fromEnv) ? fromEnv : resolve(cwd, fromEnv);
  }
  if (!home) throw new ConfigError('neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set, so there is no AWS credentials file to update');
  return join(home, '.aws', 'credentials');
}

/** An edit of the credentials file worked out in memory; nothing is on disk until write(). */
export interface PendingProfileUpdate {
  /** The file written (a symlink's target, so the link stays). */
  file: string;
  created: boolean;
  write(): Promise<void>;
}

/**
 * Reads the credentials file and prepares the new text with only the profile's three keys
 * changed. A missing file (and folder) is created on write with mode 0600 (folder 0700).
 */
export async function prepareProfileUpdate(path: string, profile: string, creds: ProfileCredentials): Promise<PendingProfileUpdate> {
  let file = path;
  let before: string | undefined;
  let bytes: Buffer | undefined;
  try {
    file = await realpath(path);
    // Only a regular file is read: a FIFO or device would block or never end.
    if (!(await stat(file)).isFile()) {
      throw new CredentialsFileError(`the AWS credentials file ${path} is not a regular file; it was left as it was`);
    }
    bytes = await readFile(file);
  } catch (err) {
    if (err instanceof CredentialsFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new ConfigError(`the AWS credentials file ${path} cannot be read (${code ?? 'error'}); check its permissions`);
    }
  }
  if (bytes !== undefined) {
    const problem = checkCredentialsFileText(bytes);
    if (problem) {
      throw new CredentialsFileError(
        `the AWS credentials file ${path} is not an INI file (${problem}), so no profile was added to it; check AWS_SHARED_CREDENTIALS_FILE`,
      );
    }
    before = bytes.toString('utf8');
  }
  const content = setProfileCredentials(before ?? '', profile, creds);
  const created = before === undefined;
  return {
    file,
    created,
    async write() {
      if (created) await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, content, 0o600);
    },
  };
}
