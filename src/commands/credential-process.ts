import { join } from 'node:path';
import { checkCacheFolder, describeCacheRefusal, ensureCacheFolder } from '../disk/cache-folder.js';
import { readCachedCredentials, resolveCacheDir, writeCachedCredentials } from '../disk/credential-cache.js';
import { cacheFileName, renderProcessCredentials, type CacheKey } from '../aws/process-credentials.js';
import { buildCredentialsUrl, describeUrl, missingSettings } from '../cap/url.js';
import { PLACEHOLDER_SETTINGS, type CapQuery } from '../core/cap-query.js';
import type { CapCredentials } from '../core/credentials.js';
import { ConfigError, EXIT_OK } from '../core/errors.js';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { acquireFileLock, LockBusyError } from '../disk/file-lock.js';
import { buildCapClient, capRetryDeadlineMs, loadIdentity, resolveCapSettings, type CapFlags } from './cap-settings.js';
import { loggerFor, type CommandContext } from './context.js';
import { credentialProcessFlags, parseFlags } from './flags.js';

export interface CredentialProcessOptions extends CapFlags {
  role: string;
  /** Reuse cached credentials only while at least this much is left (default 5m). */
  minRemaining?: string;
  /** false with --no-cache: always ask CAP, and store nothing. */
  cache?: boolean;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/**
 * `cap-token-refresh credential-process --role ROLE`: the AWS credential_process JSON on
 * stdout. Cached per (CAP URL, agency, mission, role) in the user's cache folder, so a
 * loop of `aws` commands makes one CAP call; a cache hit reads no key and opens no
 * connection. Settings are checked first, so a configuration error is one even on a hit.
 */
export async function credentialProcess(opts: CredentialProcessOptions, ctx: CommandContext): Promise<number> {
  const { role, minRemaining: minRemainingMs } = parseFlags(credentialProcessFlags, opts);
  const logger = loggerFor(ctx, opts);
  const settings = resolveCapSettings(opts, ctx);
  const { agency = '', mission = '', account } = settings;
  const query: CapQuery = { agency, mission, role, ...(account ? { account } : {}) };
  const missing = missingSettings(settings.capUrl, query);
  if (missing.length > 0) {
    const named = missing.map((p) => `${p === 'mission' ? 'a' : 'an'} ${p} (${PLACEHOLDER_SETTINGS[p].replace(/ or annotation \S+$/, '')})`);
    throw new ConfigError(`credential-process needs ${named.join(' and ')}`);
  }
  const id = settings.identity;
  if (!id.cert && !id.key && !id.pkcs12) {
    throw new ConfigError('no client certificate: give --cert and --key (or CAP_CERT_FILE and CAP_KEY_FILE), or --pkcs12 (CAP_PKCS12_FILE)');
  }

  // The account tells cache entries apart too (a template may carry it in its query, which is never stored).
  const endpoint = describeUrl(buildCredentialsUrl(settings.capUrl, query));
  const key: CacheKey = { capUrl: account ? `${endpoint} account=${account}` : endpoint, agency, mission, role };
  const cacheDir = opts.cache === false ? undefined : await usableCacheDir(resolveCacheDir(ctx.env), logger);
  if (cacheDir) {
    const hit = await readCachedCredentials(cacheDir, key, ctx.now(), minRemainingMs);
    if (hit.usable) return serveFromCache(hit.creds, ctx, logger, role);
    logger.debug('no usable cached credentials; asking CAP', { role, why: hit.why });
  } else if (opts.cache !== false && !resolveCacheDir(ctx.env)) {
    logger.warn('neither XDG_CACHE_HOME nor HOME is set, so credentials are not cached; every call asks CAP');
  }
  if (!cacheDir) return fetchAndPrint(undefined);

  // Concurrent invocations for this role (eight `aws` commands at once) wait for one CAP call: the
  // first takes a lock beside the cache entry, the others find its result when they get the lock.
  // A lock whose process is gone is broken at once; a live one is waited for as long as one CAP
  // call can last, and then asked around (a hung holder never blocks a caller for good).
  const lockMs = capRetryDeadlineMs(settings) + settings.timeoutMs + 10_000;
  const folder = await ensureCacheFolder(cacheDir).catch((err: NodeJS.ErrnoException) => {
    logger.warn(`could not create the cache folder ${cacheDir} (${err.code ?? 'error'}); credentials are not cached, so the next call asks CAP again`);
    return undefined;
  });
  if (folder && !folder.usable) {
    logger.warn(describeCacheRefusal(cacheDir, folder.why));
    return fetchAndPrint(undefined);
  }
  let release: (() => Promise<void>) | undefined;
  if (folder) {
    try {
      release = await acquireFileLock(join(cacheDir, `${cacheFileName(key)}.lock`), { timeoutMs: lockMs, staleAfterMs: lockMs });
    } catch (err) {
      if (err instanceof LockBusyError)
        logger.warn(`another credential-process for role ${role} held the lock ${err.lockPath} too long; asking CAP without waiting`);
      else logger.warn(`could not lock the credentials cache in ${cacheDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}); asking CAP without waiting`);
    }
  }
  try {
    if (release) {
      const hit = await readCachedCredentials(cacheDir, key, ctx.now(), minRemainingMs);
      if (hit.usable) return serveFromCache(hit.creds, ctx, logger, role);
    }
    return await fetchAndPrint(folder ? cacheDir : undefined);
  } finally {
    await release?.();
  }

  async function fetchAndPrint(cacheDir: string | undefined): Promise<number> {
    const identity = await loadIdentity(settings, ctx, logger);
    const cap = buildCapClient(settings, identity, ctx, logger);
    let creds: CapCredentials;
    try {
      // A failure (a CapError) ends the command with exit 1; the CLI writes its last error line.
      creds = await cap.fetchCredentials(query);
    } finally {
      await cap.close();
    }

    if (cacheDir) {
      try {
        const written = await writeCachedCredentials(cacheDir, key, creds);
        if (!written.usable) logger.warn(describeCacheRefusal(cacheDir, written.why));
      } catch (err) {
        logger.warn(
          `could not write the credentials cache in ${cacheDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}); the next call will ask CAP again`,
        );
      }
    }
    // The credential_process output is where the credentials are meant to go: past the guard.
    ctx.redactor.reveal(() => ctx.stdout(renderProcessCredentials(creds)));
    return EXIT_OK;
  }
}

function serveFromCache(creds: CapCredentials, ctx: CommandContext, logger: ReturnType<typeof loggerFor>, role: string): number {
  ctx.redactor.add(creds.accessKeyId, creds.secretAccessKey, creds.sessionToken);
  logger.debug('credentials served from the cache', { role, expiration: creds.expiration.toISOString() });
  ctx.redactor.reveal(() => ctx.stdout(renderProcessCredentials(creds)));
  return EXIT_OK;
}

/**
 * The cache folder if it may be used: one of the effective user's own, not a link, not
 * writable by others (or not there yet). Otherwise one warning, and no cache for this run.
 */
async function usableCacheDir(dir: string | undefined, logger: ReturnType<typeof loggerFor>): Promise<string | undefined> {
  if (!dir) return undefined;
  const check = await checkCacheFolder(dir).catch(() => undefined);
  if (check?.usable) return dir;
  if (check) logger.warn(describeCacheRefusal(dir, check.why));
  else logger.warn(`the cache folder ${dir} cannot be examined, so credentials are not cached; every call asks CAP`);
  return undefined;
}
