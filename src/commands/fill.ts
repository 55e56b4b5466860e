import { basename, resolve } from 'node:path';
import { CredentialsFileError, checkProfileName } from '../aws/credentials-file.js';
import { prepareProfileUpdate, resolveSharedCredentialsFile, type PendingProfileUpdate } from '../disk/shared-credentials-file.js';
import { parseCapResponse } from '../core/cap-response.js';
import { maskAccessKeyId, type CapCredentials } from '../core/credentials.js';
import { escapeControl } from '../core/display-text.js';
import { formatDuration } from '../core/duration.js';
import { CapResponseError, ConfigError, EXIT_OK, EXIT_TARGETS_FAILED, UsageError } from '../core/errors.js';
import { formatRfc3339 } from '../core/policy.js';
import { renderColumns } from '../core/report.js';
import { createManifestStore, loadManifestTargets } from '../disk/manifest-store.js';
import { MAX_CAP_RESPONSE_BYTES } from '../cap/limits.js';
import { StdinTooLargeError, type CommandContext } from './context.js';

export interface FillOptions {
  /** Folder of Secret manifests; default `manifests` under cwd. */
  manifests?: string;
  /** Also write the credentials into this profile of the AWS shared credentials file. */
  profile?: string;
}

/**
 * `cap-token-refresh fill`: one CAP response from standard input into every managed Secret
 * manifest of a folder (as the refresh writes them) and, with --profile, into the AWS shared
 * credentials file. The input is checked, and every file read, before anything is written:
 * bad input changes nothing and is a configuration error (exit 3, as README's table says);
 * exit 1 means some manifest could not be written.
 */
export async function fill(opts: FillOptions, ctx: CommandContext): Promise<number> {
  if (opts.profile !== undefined) {
    const problem = checkProfileName(opts.profile);
    if (problem) throw new UsageError(`--profile: ${problem}`);
  }
  const dir = resolve(ctx.cwd, opts.manifests ?? 'manifests');
  const targets = await loadManifestTargets(dir);
  if (targets.length === 0 && opts.profile === undefined) {
    throw new ConfigError(
      `no Secret manifest in ${dir} carries the annotation cap-token-refresh/role; nothing was written (run cap-token-refresh generate first, or give --manifests DIR)`,
    );
  }
  const credentialsFile = opts.profile !== undefined ? resolveSharedCredentialsFile(ctx.env, ctx.cwd) : undefined;

  let creds: CapCredentials;
  try {
    // A CAP answer is small: standard input is capped as the CAP client caps a response.
    creds = parseCapResponse(await ctx.readStdin(MAX_CAP_RESPONSE_BYTES), ctx.now());
  } catch (err) {
    if (err instanceof StdinTooLargeError) {
      throw new ConfigError(
        `standard input is larger than ${MAX_CAP_RESPONSE_BYTES / 1024} KiB, the most a CAP response may be (a credentials answer is under 4 KiB); pipe in one CAP answer; nothing was changed`,
      );
    }
    if (!(err instanceof CapResponseError)) throw err;
    throw new ConfigError(`standard input: ${err.message}; nothing was changed`);
  }
  ctx.redactor.add(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken);

  let pending: PendingProfileUpdate | undefined;
  if (opts.profile !== undefined && credentialsFile !== undefined) {
    try {
      pending = await prepareProfileUpdate(credentialsFile, opts.profile, creds);
    } catch (err) {
      if (!(err instanceof CredentialsFileError)) throw err;
      throw new ConfigError(`${err.message}; nothing was changed`);
    }
  }

  // Everything is checked: write the manifests the way the refresh does, then the profile.
  const now = ctx.now();
  const writable = targets.filter((t) => !t.problem);
  // What fill is given goes into every Secret, even one a refresh wrote since it was loaded: nothing is kept.
  const outcomes = await createManifestStore().write(writable, { creds, refreshedAt: now, keptExpiration: () => undefined });
  const failures: string[] = targets.flatMap((t) => (t.problem ? [t.problem] : []));
  const written: string[][] = [];
  writable.forEach((t, i) => {
    const o = outcomes[i] ?? { kind: 'failed', error: 'not written' };
    if (o.kind === 'failed') failures.push(`${t.namespace}/${t.name}: ${o.error}`);
    else written.push([`  ${t.namespace}/${t.name}`, basename(t.file)]);
  });
  let profileLine: string | undefined;
  if (pending) {
    try {
      await pending.write();
      profileLine = `${pending.created ? 'Created' : 'Updated'} profile ${opts.profile} in ${pending.file}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      failures.push(`the AWS credentials file ${pending.file} could not be written (${code}); it was left as it was`);
    }
  }

  const expiry = `${formatRfc3339(creds.expiration)} (in ${formatDuration(creds.expiration.getTime() - now.getTime())})`;
  const lines = [`Credentials for access key ${maskAccessKeyId(creds.accessKeyId)}, expiring ${expiry}.`];
  lines.push(written.length > 0 ? `Wrote ${written.length} Secret manifest(s) in ${dir}:` : `Wrote no Secret manifest in ${dir}.`);
  if (written.length > 0) lines.push(...renderColumns(written));
  if (profileLine) lines.push(profileLine);
  ctx.stdout(ctx.redactor.redact(`${lines.join('\n')}\n`));
  if (failures.length > 0) {
    ctx.stderr(ctx.redactor.redact(`${failures.map((f) => `error: ${escapeControl(f)}`).join('\n')}\n`));
    return EXIT_TARGETS_FAILED;
  }
  return EXIT_OK;
}
