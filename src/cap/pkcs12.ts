import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type forgeTypes from 'node-forge';

/**
 * What a PKCS#12 bundle gives the TLS layer. `native`: OpenSSL reads the bundle itself (any key
 * type it knows, RSA and EC among them), so the bundle and its passphrase go to TLS as they are and
 * the key never exists in this process as PEM. `legacy`: the bundle uses ciphers OpenSSL 3 refuses
 * (RC2, as `openssl pkcs12 -legacy` and older PKI tooling write); node-forge decrypted it and the
 * key is handed over as a KeyObject.
 */
export type Pkcs12Contents = { reader: 'native'; certPem: string } | { reader: 'legacy'; certPem: string; key: KeyObject };

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
  return { reader: 'native', certPem: certificateOf(context) };
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

/**
 * The legacy reader: node-forge decrypts RC2 and 3DES. It parses only RSA keys itself; any other
 * key (EC) it hands back as the decrypted PKCS#8 structure, which Node's crypto then reads.
 */
async function openLegacyPkcs12(bundle: Buffer, passphrase: string): Promise<Pkcs12Contents> {
  const { default: forge } = await import('node-forge');
  let p12: ReturnType<typeof forge.pkcs12.pkcs12FromAsn1>;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(bundle.toString('binary'))), passphrase);
  } catch (err) {
    throw new Pkcs12Error(/mac|password/i.test((err as Error).message) ? 'wrong-passphrase' : 'damaged');
  }
  const { certBag, pkcs8ShroudedKeyBag, keyBag } = forge.pki.oids;
  // forge parses only RSA keys and certificates; any other it hands back as its ASN.1 (EC ones).
  const der = (asn1: forgeTypes.asn1.Asn1) => Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  const bag = (p12.getBags({ bagType: pkcs8ShroudedKeyBag! })[pkcs8ShroudedKeyBag!]?.[0] ?? p12.getBags({ bagType: keyBag! })[keyBag!]?.[0]) as
    | { key?: forgeTypes.pki.PrivateKey | null; asn1?: forgeTypes.asn1.Asn1 }
    | undefined;
  const keyInfo = bag?.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag?.asn1;
  if (!keyInfo) throw new Pkcs12Error('no-key');
  let key: KeyObject;
  let certs: X509Certificate[];
  try {
    key = createPrivateKey({ key: der(keyInfo), format: 'der', type: 'pkcs8' });
    certs = (p12.getBags({ bagType: certBag! })[certBag!] ?? []).flatMap((b) => {
      const asn1 = b.cert ? forge.pki.certificateToAsn1(b.cert) : (b as { asn1?: forgeTypes.asn1.Asn1 }).asn1;
      return asn1 ? [new X509Certificate(der(asn1))] : [];
    });
  } catch {
    throw new Pkcs12Error('damaged');
  }
  // A bundle may carry the issuing chain too: the client certificate is the one for the key.
  const cert = certs.find((c) => c.checkPrivateKey(key)) ?? certs[0];
  if (!cert) throw new Pkcs12Error('no-certificate');
  return { reader: 'legacy', certPem: cert.toString(), key };
}
