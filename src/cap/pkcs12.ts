/** What a PKCS#12 bundle holds for a client identity, as PEM. */
export interface Pkcs12Contents {
  certPem: string;
  /** Undefined when the bundle holds no private key. */
  keyPem?: string;
}

/**
 * Opens a PKCS#12 bundle. node-forge reads the legacy ciphers (RC2, 3DES) that OpenSSL 3
 * refuses, which older PKI tooling still writes; it is loaded only when a bundle is used.
 * Throws on a wrong passphrase, a damaged file, or a bundle without a certificate.
 */
export async function openPkcs12(bundle: Buffer, passphrase: string): Promise<Pkcs12Contents> {
  const { default: forge } = await import('node-forge');
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(bundle.toString('binary'))), passphrase);
  const { certBag, pkcs8ShroudedKeyBag, keyBag } = forge.pki.oids;
  const cert = p12.getBags({ bagType: certBag! })[certBag!]?.[0]?.cert;
  const key = (p12.getBags({ bagType: pkcs8ShroudedKeyBag! })[pkcs8ShroudedKeyBag!]?.[0] ?? p12.getBags({ bagType: keyBag! })[keyBag!]?.[0])?.key;
  if (!cert) throw new Error('no certificate in the bundle');
  return { certPem: forge.pki.certificateToPem(cert), ...(key ? { keyPem: forge.pki.privateKeyToPem(key) } : {}) };
}
