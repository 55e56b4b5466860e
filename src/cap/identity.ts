import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError, errorMessage } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { openPkcs12, Pkcs12Error, type Pkcs12Contents } from './pkcs12.js';

/** Where the client identity comes from: PEM certificate + key, or a PKCS#12 bundle. */
export interface IdentitySources {
  cert?: string;
  key?: string;
  keyPassphraseFile?: string;
  pkcs12?: string;
  pkcs12PassphraseFile?: string;
  ca?: string;
}

/** What the TLS layer needs, in memory; never logged. */
export interface ClientIdentity {
  certPem: string;
  /**
   * What TLS proves the identity with: the private key, or a PKCS#12 bundle OpenSSL reads itself
   * (with its passphrase, revealed only to the TLS context; only a bundle without CA certificates,
   * which Node would trust for CAP's server as well).
   */
  proof:
    | { key: KeyObject /** Certificates sent after the client's (a bundle's chain); never trusted. */; chainPem?: string }
    | { pfx: Buffer; passphrase: Secret };
  /** CA bundle for the CAP server; undefined means the system's. */
  caPem?: string;
  /** What to do when CAP's server certificate is not trusted, in the words of where the trust came from. */
  trustHint?: string;
  subject: string;
  notAfter: Date;
}

export interface IdentityDeps {
  readFile: (path: string) => Promise<Buffer>;
  /** The mode of the file itself, through symbolic links (a mounted Secret's key is a symlink into ..data). */
  fileMode: (path: string) => Promise<number | undefined>;
  now: () => Date;
  /** Receives secrets (the key, its passphrase) as they are read, for the output guard. */
  registerSecret: (value: Secret) => void;
  warn: (message: string) => void;
}

const EXPIRY_WARNING_DAYS = 30;

/**
 * Loads and checks the client identity before any request: the right pair of flags, files
 * readable, key decryptable, certificate and key belonging together, certificate not expired
 * (a warning within 30 days of expiry).
 */
export async function loadClientIdentity(src: IdentitySources, deps: IdentityDeps): Promise<ClientIdentity> {
  const hasPem = Boolean(src.cert || src.key);
  if (hasPem && src.pkcs12) {
    throw new ConfigError('give either --cert and --key or --pkcs12, not both');
  }
  if (!hasPem && !src.pkcs12) {
    throw new ConfigError('no client certificate: give --cert and --key (or CAP_CERT_FILE and CAP_KEY_FILE), or --pkcs12 (CAP_PKCS12_FILE)');
  }
  const caPem = src.ca ? await readText(src.ca, '--ca', deps) : undefined;
  if (src.ca && caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`the CA bundle ${src.ca} (--ca) holds no PEM certificate`);
  }
  const { certPem, proof } = src.pkcs12 ? await loadPkcs12(src.pkcs12, src, deps) : await loadPem(src, deps);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new ConfigError(`the client certificate ${src.cert ?? src.pkcs12} is not a PEM X.509 certificate`);
  }
  // A bundle OpenSSL read itself was checked by OpenSSL (the key must match the certificate to load).
  if ('key' in proof && !cert.checkPrivateKey(proof.key)) {
    throw new ConfigError(
      `the client certificate ${src.cert ?? src.pkcs12} and the key ${src.key ?? src.pkcs12} do not belong together; give the key that was issued with this certificate`,
    );
  }
  const notAfter = new Date(cert.validTo);
  const now = deps.now();
  if (notAfter.getTime() <= now.getTime()) {
    throw new ConfigError(`the client certificate ${src.cert ?? src.pkcs12} expired on ${notAfter.toISOString()}; renew it with your PKI and update the certs`);
  }
  const daysLeft = (notAfter.getTime() - now.getTime()) / 86_400_000;
  if (daysLeft < EXPIRY_WARNING_DAYS) {
    deps.warn(`the client certificate ${src.cert ?? src.pkcs12} expires on ${notAfter.toISOString()} (in ${Math.floor(daysLeft)} days); renew it soon`);
  }
  return { certPem, proof, ...(caPem ? { caPem } : {}), subject: cert.subject.replace(/\n/g, ', '), notAfter };
}

/** The client certificate alone: who it names and until when. */
export interface ClientCertificate {
  /** The file it was read from (--cert, or the --pkcs12 bundle). */
  file: string;
  subject: string;
  notAfter: Date;
}

/**
 * The client certificate from the same sources `loadClientIdentity` reads (the PEM
 * certificate, else the PKCS#12 bundle opened with its passphrase, registered as a secret),
 * without its key and without refusing it when it has expired: for `status`, which shows
 * when it expires. Undefined when no certificate is given; a file that cannot be read throws
 * its own error (with its `code`).
 */
export async function readClientCertificate(
  src: IdentitySources,
  deps: Pick<IdentityDeps, 'readFile' | 'registerSecret'>,
): Promise<ClientCertificate | undefined> {
  const file = src.cert ?? src.pkcs12;
  if (file === undefined) return undefined;
  let certPem: string;
  if (src.cert) certPem = (await deps.readFile(src.cert)).toString('utf8');
  else {
    const passphrase = src.pkcs12PassphraseFile ? await readPassphrase(src.pkcs12PassphraseFile, '--pkcs12-passphrase-file', deps) : new Secret('');
    certPem = (await openPkcs12(await deps.readFile(file), passphrase.reveal())).certPem;
  }
  const cert = new X509Certificate(certPem);
  return { file, subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo) };
}

type LoadedIdentity = { certPem: string; proof: ClientIdentity['proof'] };

async function loadPem(src: IdentitySources, deps: IdentityDeps): Promise<LoadedIdentity> {
  if (!src.cert) throw new ConfigError('--key was given without --cert (CAP_CERT_FILE)');
  if (!src.key) throw new ConfigError('--cert was given without --key (CAP_KEY_FILE)');
  const certPem = await readText(src.cert, '--cert', deps);
  const keyPem = new Secret(await readText(src.key, '--key', deps));
  deps.registerSecret(keyPem);
  await warnIfReadableByOthers(src.key, '--key', deps);
  const passphrase = src.keyPassphraseFile ? await readPassphrase(src.keyPassphraseFile, '--key-passphrase-file', deps) : undefined;
  const encrypted = /ENCRYPTED/.test(keyPem.reveal());
  if (encrypted && passphrase === undefined) {
    throw new ConfigError(`the key ${src.key} is encrypted; give its passphrase with --key-passphrase-file (CAP_KEY_PASSPHRASE_FILE)`);
  }
  try {
    const key = keyPem.reveal();
    return { certPem, proof: { key: createPrivateKey(passphrase === undefined ? { key } : { key, passphrase: passphrase.reveal() }) } };
  } catch (err) {
    if (encrypted || /passphrase|decrypt/i.test(errorMessage(err))) {
      throw new ConfigError(`the passphrase in ${src.keyPassphraseFile} does not decrypt the key ${src.key}`);
    }
    throw new ConfigError(`the key ${src.key} is not a PEM private key`);
  }
}

async function loadPkcs12(file: string, src: IdentitySources, deps: IdentityDeps): Promise<LoadedIdentity> {
  const bundle = await readFileOrThrow(file, '--pkcs12', deps);
  await warnIfReadableByOthers(file, '--pkcs12', deps);
  const passphrase = src.pkcs12PassphraseFile ? await readPassphrase(src.pkcs12PassphraseFile, '--pkcs12-passphrase-file', deps) : new Secret('');
  let contents: Pkcs12Contents;
  try {
    contents = await openPkcs12(bundle, passphrase.reveal());
  } catch (err) {
    throw new ConfigError(describePkcs12Failure(err, file, src.pkcs12PassphraseFile));
  }
  if (!contents.key) return { certPem: contents.certPem, proof: { pfx: bundle, passphrase } };
  return { certPem: contents.certPem, proof: { key: contents.key, ...(contents.chainPem.length > 0 ? { chainPem: contents.chainPem.join('') } : {}) } };
}

/** What went wrong with a bundle, naming the file and the passphrase setting, never the passphrase. */
function describePkcs12Failure(err: unknown, file: string, passphraseFile: string | undefined): string {
  const reason = err instanceof Pkcs12Error ? err.reason : 'damaged';
  const setting = passphraseFile
    ? `the passphrase in ${passphraseFile} (--pkcs12-passphrase-file, CAP_PKCS12_PASSPHRASE_FILE) does not open it`
    : 'it needs a passphrase: give it with --pkcs12-passphrase-file (CAP_PKCS12_PASSPHRASE_FILE)';
  switch (reason) {
    case 'wrong-passphrase':
      return `the PKCS#12 bundle ${file} (--pkcs12) could not be opened: wrong passphrase; ${setting}`;
    case 'no-key':
      return `the PKCS#12 bundle ${file} (--pkcs12) holds no private key; it must hold the client certificate and its key`;
    case 'no-certificate':
      return `the PKCS#12 bundle ${file} (--pkcs12) holds no certificate; it must hold the client certificate and its key`;
    default:
      return `the PKCS#12 bundle ${file} (--pkcs12) is not a PKCS#12 file or is damaged`;
  }
}

async function readFileOrThrow(path: string, flag: string, deps: Pick<IdentityDeps, 'readFile'>): Promise<Buffer> {
  try {
    return await deps.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : 'could not be read';
    throw new ConfigError(`${path} (${flag}) ${why}`);
  }
}

async function readText(path: string, flag: string, deps: Pick<IdentityDeps, 'readFile'>): Promise<string> {
  return (await readFileOrThrow(path, flag, deps)).toString('utf8');
}

/** A passphrase file's content without its final line break, held as a Secret from the moment it is read. */
async function readPassphrase(path: string, flag: string, deps: Pick<IdentityDeps, 'readFile' | 'registerSecret'>): Promise<Secret> {
  const value = new Secret((await readText(path, flag, deps)).replace(/\r?\n$/, ''));
  if (value.length === 0) throw new ConfigError(`the passphrase file ${path} (${flag}) is empty`);
  deps.registerSecret(value);
  return value;
}

async function warnIfReadableByOthers(path: string, flag: string, deps: IdentityDeps): Promise<void> {
  const mode = await deps.fileMode(path);
  if (mode !== undefined && (mode & 0o004) !== 0) {
    deps.warn(
      `the private key file ${path} (${flag}) is readable by every user on this machine; run chmod 600 ${path} ` +
        "(in a pod, mount the certs Secret with defaultMode 0440: the pod's group reads it, nobody else)",
    );
  }
}
