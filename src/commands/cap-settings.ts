import { statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { createCapClient, DEFAULT_MAX_BODY_BYTES, type CapClient } from '../cap/client.js';
import { loadClientIdentity, type ClientIdentity, type IdentitySources } from '../cap/identity.js';
import { retryPolicyFor } from '../core/retry.js';
import { loadSystemCaBundle } from '../cap/system-ca.js';
import { CERTS_SECRET_NAME, TRUSTED_CA_CONFIGMAP_NAME } from '../manifests/kubernetes-objects.js';
import { validateCapUrl } from '../cap/url.js';
import { ConfigError } from '../core/errors.js';
import { CERTS_SECRET_KEYS } from '../core/names.js';
import type { Logger } from '../log/logger.js';
import type { CommandContext } from './context.js';
import { capFlags, parseFlags } from './flags.js';

/** CAP settings and client identity as flags give them; env fills what flags leave out. */
export interface CapFlags extends IdentitySources {
  /** A folder laid out as the certs Secret is mounted: tls.crt, tls.key, ca.crt, or client.p12, and passphrase. */
  certsDir?: string;
  capUrl?: string;
  agency?: string;
  mission?: string;
  /** The SC2S account name (`{account}` in a CAP_URL template). */
  account?: string;
  timeout?: string;
  /** --retry-for DURATION: how long a failing CAP call is retried (default 1m; the CronJob gives longer). */
  retryFor?: string;
  /** --assume-lifetime DURATION: for a CAP that sends no Expiration. */
  assumeLifetime?: string;
}

export interface CapSettings {
  capUrl: URL;
  agency?: string;
  mission?: string;
  account?: string;
  identity: IdentitySources;
  /** The certs folder the identity came from (the certs Secret as the CronJob mounts it), resolved. */
  certsDir?: string;
  timeoutMs: number;
  /** How long a CAP call that fails for a passing reason (5xx, 429, refused, timed out) is retried. */
  retryForMs: number;
  assumeLifetimeMs?: number;
  /** HTTPS_PROXY and NO_PROXY (or their lower-case forms), checked. */
  proxy?: ProxySettings;
}

export interface ProxySettings {
  httpsProxy?: string;
  noProxy?: string;
}

/**
 * HTTPS_PROXY (else https_proxy) and NO_PROXY (else no_proxy). A proxy that is not an
 * http:// or https:// URL is a configuration error here, before any request, instead of
 * an exception deep in the HTTP client. The value is never quoted: it may hold a password.
 */
export function resolveProxySettings(env: Record<string, string | undefined>): ProxySettings {
  const name = env.HTTPS_PROXY ? 'HTTPS_PROXY' : 'https_proxy';
  const httpsProxy = env.HTTPS_PROXY || env.https_proxy || undefined;
  const noProxy = env.NO_PROXY || env.no_proxy || undefined;
  if (httpsProxy !== undefined) {
    let protocol: string | undefined;
    try {
      protocol = new URL(httpsProxy).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new ConfigError(`${name} is not an http:// or https:// URL; set it to the proxy as http://HOST:PORT (or https://HOST:PORT), or unset it`);
    }
  }
  return { ...(httpsProxy ? { httpsProxy } : {}), ...(noProxy ? { noProxy } : {}) };
}

const ENV_IDENTITY: [keyof IdentitySources, string][] = [
  ['cert', 'CAP_CERT_FILE'],
  ['key', 'CAP_KEY_FILE'],
  ['ca', 'CAP_CA_FILE'],
  ['keyPassphraseFile', 'CAP_KEY_PASSPHRASE_FILE'],
  ['pkcs12', 'CAP_PKCS12_FILE'],
  ['pkcs12PassphraseFile', 'CAP_PKCS12_PASSPHRASE_FILE'],
];

/** Where the client identity is read from, as every command finds it. */
export interface IdentityLocation {
  identity: IdentitySources;
  /** The certs folder the identity came from (--certs-dir, CAP_CERTS_DIR), resolved. */
  certsDir?: string;
}

/**
 * The client identity's files, found the one way `refresh`, `credential-process`, `preflight`
 * and `status` share: each flag over its env variable (paths resolved against the command's
 * cwd), then what a certs folder (--certs-dir, CAP_CERTS_DIR) adds. Throws ConfigError when
 * the certs folder does not exist. Reads no file but the folder's listing.
 */
export function resolveIdentityLocation(
  flags: IdentitySources & { certsDir?: string | undefined },
  ctx: Pick<CommandContext, 'env' | 'cwd'>,
): IdentityLocation {
  const env = ctx.env;
  const identity: IdentitySources = {};
  for (const [field, envName] of ENV_IDENTITY) {
    const value = flags[field] ?? env[envName];
    if (value) identity[field] = isAbsolute(value) ? value : resolve(ctx.cwd, value);
  }
  const givenCertsDir = flags.certsDir ?? env.CAP_CERTS_DIR;
  const certsDir = givenCertsDir ? (isAbsolute(givenCertsDir) ? givenCertsDir : resolve(ctx.cwd, givenCertsDir)) : undefined;
  if (!certsDir) return { identity };
  fillFromCertsDir(identity, certsDir);
  return { identity, certsDir };
}

/** Merges flags over env and checks them; throws UsageError/ConfigError before any network call. */
export function resolveCapSettings(flags: CapFlags, ctx: CommandContext): CapSettings {
  const env = ctx.env;
  const { identity, certsDir } = resolveIdentityLocation(flags, ctx);
  const { timeout: timeoutMs, retryFor: retryForMs, assumeLifetime: assumeLifetimeMs } = parseFlags(capFlags, flags);
  const agency = flags.agency ?? env.AGENCY;
  const mission = flags.mission ?? env.MISSION;
  const account = (flags.account ?? env.CAP_ACCOUNT)?.trim();
  return {
    capUrl: validateCapUrl(flags.capUrl ?? env.CAP_URL),
    ...(agency ? { agency } : {}),
    ...(mission ? { mission } : {}),
    ...(account ? { account } : {}),
    identity,
    ...(certsDir ? { certsDir } : {}),
    timeoutMs,
    retryForMs,
    ...(assumeLifetimeMs !== undefined ? { assumeLifetimeMs } : {}),
    proxy: resolveProxySettings(env),
  };
}

/**
 * The identity files of a certs folder (the certs Secret as the CronJob mounts it, docs/DESIGN.md):
 * `client.p12` with `passphrase` when the bundle is there, else `tls.crt` and `tls.key` (with
 * `passphrase` for an encrypted key), and `ca.crt`. Files named by flags or env win; empty
 * files count as absent, since a Secret key may be left empty.
 */
function fillFromCertsDir(identity: IdentitySources, dir: string): void {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError(`the certs folder ${dir} (--certs-dir, CAP_CERTS_DIR) does not exist or is not a folder`);
  }
  const present = (key: string) => {
    const path = join(dir, key);
    return (statSync(path, { throwIfNoEntry: false })?.size ?? 0) > 0 ? path : undefined;
  };
  const passphrase = present(CERTS_SECRET_KEYS.passphrase);
  if (!identity.cert && !identity.key && !identity.pkcs12) {
    const p12 = present(CERTS_SECRET_KEYS.pkcs12);
    if (p12) {
      identity.pkcs12 = p12;
      if (passphrase && !identity.pkcs12PassphraseFile) identity.pkcs12PassphraseFile = passphrase;
    } else {
      const cert = present(CERTS_SECRET_KEYS.cert);
      const key = present(CERTS_SECRET_KEYS.key);
      if (cert) identity.cert = cert;
      if (key) identity.key = key;
      if (passphrase && !identity.keyPassphraseFile) identity.keyPassphraseFile = passphrase;
    }
  }
  const ca = present(CERTS_SECRET_KEYS.ca);
  if (ca && !identity.ca) identity.ca = ca;
}

/** Reads and checks the client identity; the passphrase and key go to the redactor as they are read. */
export async function loadIdentity(settings: CapSettings, ctx: CommandContext, logger: Logger): Promise<ClientIdentity> {
  const identity = await loadClientIdentity(settings.identity, {
    readFile: (p) => readFile(p),
    fileMode: async (p) => (await stat(p).catch(() => undefined))?.mode,
    now: ctx.now,
    registerSecret: (v) => ctx.redactor.add(v),
    warn: (m) => logger.warn(m),
  });
  // Without --ca, trust the system's store (enclave roots live there), not only Node's built-in roots.
  const base = identity.caPem ?? (await loadSystemCaBundle(ctx.env)).join('\n');
  // A CA list given to TLS replaces Node's defaults, NODE_EXTRA_CA_CERTS included: add them back, with the cluster's bundle.
  const extra: string[] = [];
  for (const [name, file] of [
    [TRUSTED_CA_BUNDLE_ENV, ctx.env[TRUSTED_CA_BUNDLE_ENV]],
    ['NODE_EXTRA_CA_CERTS', ctx.env.NODE_EXTRA_CA_CERTS],
  ] as const) {
    if (!file) continue;
    const pem = await readFile(isAbsolute(file) ? file : resolve(ctx.cwd, file), 'utf8').catch(() => undefined);
    if (pem?.includes('-----BEGIN CERTIFICATE-----')) extra.push(pem);
    else logger.warn(`${name} names ${file}, which ${pem === undefined ? 'cannot be read' : 'holds no PEM certificate'}; CAP is verified without it`);
  }
  return { ...identity, caPem: [base, ...extra].join('\n'), trustHint: describeTrust(settings, ctx.env) };
}

/** The environment variable naming the cluster's trusted CA bundle (the injected ConfigMap, mounted by the CronJob). */
export const TRUSTED_CA_BUNDLE_ENV = 'CAP_TRUSTED_CA_BUNDLE';

/** What to do when CAP's certificate is not trusted, in the words of where the trust came from. */
function describeTrust(settings: CapSettings, env: Record<string, string | undefined>): string {
  const inPod = settings.certsDir !== undefined && (settings.identity.ca === undefined || settings.identity.ca.startsWith(`${settings.certsDir}/`));
  if (inPod || env[TRUSTED_CA_BUNDLE_ENV]) {
    return (
      `add the CA that issued it to ca.crt of the ${CERTS_SECRET_NAME} Secret (${settings.certsDir ?? 'the certs folder'}), ` +
      `or to the cluster's trusted bundle (the install's additionalTrustBundle, injected into the ConfigMap ${TRUSTED_CA_CONFIGMAP_NAME}${env[TRUSTED_CA_BUNDLE_ENV] ? ` at ${env[TRUSTED_CA_BUNDLE_ENV]}` : ''})`
    );
  }
  return 'give the CA bundle that issued it with --ca (CAP_CA_FILE)';
}

/** How long the client keeps retrying one CAP call: the longest a call can take is this plus one request's timeout. */
export function capRetryDeadlineMs(settings: Pick<CapSettings, 'timeoutMs' | 'retryForMs'>): number {
  return retryPolicyFor(settings.retryForMs, settings.timeoutMs).deadlineMs;
}

export function buildCapClient(settings: CapSettings, identity: ClientIdentity, ctx: CommandContext, logger: Logger): CapClient {
  const { httpsProxy, noProxy } = settings.proxy ?? resolveProxySettings(ctx.env);
  return createCapClient({
    capUrl: settings.capUrl,
    identity,
    timeoutMs: settings.timeoutMs,
    retry: retryPolicyFor(settings.retryForMs, settings.timeoutMs),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    proxy: { ...(httpsProxy ? { httpsProxy } : {}), ...(noProxy ? { noProxy } : {}) },
    logger,
    now: ctx.now,
    sleep: ctx.sleep,
    random: ctx.random,
    registerSecret: (v) => ctx.redactor.add(v),
    ...(settings.assumeLifetimeMs !== undefined ? { assumeLifetimeMs: settings.assumeLifetimeMs } : {}),
  });
}
