import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** `server` gets serverAuth and the alt names; `client` gets clientAuth. */
  usage: 'server' | 'client';
  altNames?: { dns?: string[]; ip?: string[] };
  notBefore?: Date;
  notAfter?: Date;
}

function newKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  // Node's native generator is fast; forge only wraps the result to sign certificates.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), keyPem };
}

function baseCertificate(publicKey: forge.pki.PublicKey, commonName: string, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'cap-token-refresh throwaway PKI' },
  ]);
  return cert;
}

/** A self-signed CA for tests and the demo. */
export function createCertificateAuthority(commonName: string, now = new Date()): KeyPairPem {
  const keys = newKeys();
  const cert = baseCertificate(keys.publicKey, commonName, new Date(now.getTime() - 3_600_000), new Date(now.getTime() + 365 * 86_400_000));
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** A server or client certificate signed by `ca`. */
export function issueCertificate(ca: KeyPairPem, opts: IssueOptions, now = new Date()): KeyPairPem {
  const keys = newKeys();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = baseCertificate(
    keys.publicKey,
    opts.commonName,
    opts.notBefore ?? new Date(now.getTime() - 3_600_000),
    opts.notAfter ?? new Date(now.getTime() + 180 * 86_400_000),
  );
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...(opts.altNames?.dns ?? []).map((value) => ({ type: 2, value })), ...(opts.altNames?.ip ?? []).map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: opts.usage === 'server', clientAuth: opts.usage === 'client' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** The key as an encrypted PKCS#8 PEM (AES-256-CBC). */
export function encryptKeyPem(keyPem: string, passphrase: string): string {
  return createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString();
}

/** A PKCS#12 bundle holding the certificate and key, protected by `passphrase`. */
export function createPkcs12(pair: KeyPairPem, passphrase: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(pair.keyPem), [forge.pki.certificateFromPem(pair.certPem)], passphrase, {
    algorithm: '3des',
  });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** A CA, a server certificate for 127.0.0.1/localhost, and a client certificate: what the simulator and its clients need. */
export interface ThrowawayPki {
  ca: KeyPairPem;
  server: KeyPairPem;
  client: KeyPairPem;
}

export function createThrowawayPki(now = new Date()): ThrowawayPki {
  const ca = createCertificateAuthority('cap-token-refresh demo CA', now);
  return {
    ca,
    server: issueCertificate(ca, { commonName: 'localhost', usage: 'server', altNames: { dns: ['localhost'], ip: ['127.0.0.1'] } }, now),
    client: issueCertificate(ca, { commonName: 'demo-admin', usage: 'client' }, now),
  };
}
