import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type forgeTypes from 'node-forge';

/**
 * What a PKCS#12 bundle gives the TLS layer. `native`: OpenSSL read the bundle itself (any key type
 * it knows, RSA and EC among them); `legacy`: the bundle uses ciphers OpenSSL 3 refuses (RC2, as
 * `openssl pkcs12 -legacy` and older PKI tooling write) and node-forge decrypted it.
 *
 * Without `key`, the bundle and its passphrase go to TLS as they are and the key never exists in
 * this process. With `key` (a legacy bundle, or one that carries more certificates than the
 * client's), TLS gets the key and the certificates instead: Node trusts the CA certificates of a
 * bundle given as `pfx` for the server too, and CAP must be verified against the configured CAs only.
 */
export interface Pkcs12Contents {
  reader: 'native' | 'legacy';
  /** The client certificate. */
  certPem: string;
  /** The other certificates the bundle carries (its chain), PEM: sent to CAP, never trusted. */
  chainPem: string[];
  key?: KeyObject;
}

/** Why a bundle could not be opened, in words that never hold the passphrase. */
export type Pkcs12Failure = 'wrong-passphrase' | 'no-key' | 'no-certificate' | 'damaged';

export class Pkcs12Error extends Error {
  constructor(readonly reason: Pkcs12Failure) {
    super(`PKCS#12 bundle: ${reason}`);
    this.name = 'Pkcs12Error';
  }
}

/**
 * Opens a PKCS#12 bundle with Node's own TLS (OpenSSL) first, and with node-forge only when
 * OpenSSL 3 refuses its ciphers. Throws a Pkcs12Error (never with the passphrase or any part of the
 * bundle in it) on a wrong passphrase, a damaged file, or a bundle without a certificate or key.
 */
export async function openPkcs12(bundle: Buffer, passphrase: string): Promise<Pkcs12Contents> {
  let context: SecureContext;
  try {
    context = createSecureContext({ pfx: bundle, passphrase });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (/mac verify failure/i.test(e.message)) throw new Pkcs12Error('wrong-passphrase');
    if (e.code === 'ERR_CRYPTO_UNSUPPORTED_OPERATION' || /unsupported/i.test(e.message)) return openLegacyPkcs12(bundle, passphrase);
    if (/private key/i.test(e.message)) throw new Pkcs12Error('no-key');
    if (/certificate/i.test(e.message)) throw new Pkcs12Error('no-certificate');
    throw new Pkcs12Error('damaged');
  }
  const certPem = certificateOf(context);
  // OpenSSL opened it; forge only counts its certificates (and hands over the key when there is a chain).
  const decoded = await decodeWithForge(bundle, passphrase).catch(() => undefined);
  if (decoded && decoded.certs.length > 1) return { reader: 'native', ...splitChain(decoded), key: decoded.key };
  return { reader: 'native', certPem, chainPem: [] };
}

/** The client certificate (the one for the key) and the rest of the bundle's certificates. */
function splitChain({ certs, key }: { certs: X509Certificate[]; key: KeyObject }): { certPem: string; chainPem: string[] } {
  const leaf = certs.find((c) => c.checkPrivateKey(key)) ?? certs[0];
  if (!leaf) throw new Pkcs12Error('no-certificate');
  return { certPem: leaf.toString(), chainPem: certs.filter((c) => c !== leaf).map((c) => c.toString()) };
}

/** The client certificate a TLS context holds (public API: a TLS socket that never connects). */
function certificateOf(context: SecureContext): string {
  const unconnected = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  const socket = new TLSSocket(unconnected, { secureContext: context });
  try {
    const cert = socket.getX509Certificate();
    if (!cert) throw new Pkcs12Error('no-certificate');
    return cert.toString();
  } finally {
    socket.destroy();
    unconnected.destroy();
  }
}

/** The legacy reader: node-forge decrypts RC2 and 3DES. */
async function openLegacyPkcs12(bundle: Buffer, passphrase: string): Promise<Pkcs12Contents> {
  const decoded = await decodeWithForge(bundle, passphrase);
  return { reader: 'legacy', ...splitChain(decoded), key: decoded.key };
}

/**
 * The key and certificates of a bundle, by node-forge. It parses only RSA keys and certificates
 * itself; any other (EC) it hands back as the decrypted ASN.1, which Node's crypto then reads.
 */
async function decodeWithForge(bundle: Buffer, passphrase: string): Promise<{ certs: X509Certificate[]; key: KeyObject }> {
  const { default: forge } = await import('node-forge');
  let p12: ReturnType<typeof forge.pkcs12.pkcs12FromAsn1>;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(bundle.toString('binary'))), passphrase);
  } catch (err) {
    throw new Pkcs12Error(/mac|password/i.test((err as Error).message) ? 'wrong-passphrase' : 'damaged');
  }
  const bagsOf = (oid: string | undefined) => (oid ? (p12.getBags({ bagType: oid })[oid] ?? []) : []);
  const { certBag, pkcs8ShroudedKeyBag, keyBag } = forge.pki.oids;
  const der = (asn1: forgeTypes.asn1.Asn1) => Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  const bag = (bagsOf(pkcs8ShroudedKeyBag)[0] ?? bagsOf(keyBag)[0]) as { key?: forgeTypes.pki.PrivateKey | null; asn1?: forgeTypes.asn1.Asn1 } | undefined;
  const keyInfo = bag?.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag?.asn1;
  if (!keyInfo) throw new Pkcs12Error('no-key');
  try {
    const key = createPrivateKey({ key: der(keyInfo), format: 'der', type: 'pkcs8' });
    const certs = bagsOf(certBag).flatMap((b) => {
      const asn1 = b.cert ? forge.pki.certificateToAsn1(b.cert) : (b as { asn1?: forgeTypes.asn1.Asn1 }).asn1;
      return asn1 ? [new X509Certificate(der(asn1))] : [];
    });
    return { certs, key };
  } catch {
    throw new Pkcs12Error('damaged');
  }
}
