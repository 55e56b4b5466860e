import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';

/** Where Linux distributions keep the system trust store as one PEM bundle. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // RHEL, Fedora
  '/etc/pki/tls/certs/ca-bundle.crt', // older RHEL
  '/etc/ssl/ca-bundle.pem', // SUSE
];

/**
 * The CAs to trust when no --ca is given: the system's trust store (where an enclave's
 * administrators install their PKI roots; `SSL_CERT_FILE` points elsewhere) together with
 * Node's built-in roots. Node alone would trust only its built-in roots.
 */
export async function loadSystemCaBundle(env: Record<string, string | undefined>): Promise<string[]> {
  const candidates = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : SYSTEM_BUNDLES;
  for (const path of candidates) {
    const pem = await readFile(path, 'utf8').catch(() => undefined);
    if (pem?.includes('-----BEGIN CERTIFICATE-----')) return [...rootCertificates, pem];
  }
  return [...rootCertificates];
}
