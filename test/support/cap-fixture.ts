import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCapSimulator, type CapSimulator, type CapSimulatorOptions } from '../../src/sim/cap-simulator.js';
import { createPkcs12, encryptKeyPem, issueCertificate, createThrowawayPki, createCertificateAuthority, type ThrowawayPki } from '../../src/sim/pki.js';
import { makeTempDir } from './temp-dir.js';

/** Passphrases the tests use; the redaction tests search all output for them. */
export const KEY_PASSPHRASE = 'correct-horse-battery-staple-42';
export const P12_PASSPHRASE = 'pkcs12-passphrase-tango-77';

export interface CapFixture {
  dir: string;
  pki: ThrowawayPki;
  sim: CapSimulator;
  files: {
    ca: string;
    cert: string;
    key: string;
    encryptedKey: string;
    keyPassphrase: string;
    p12: string;
    p12Passphrase: string;
    /** A client certificate from a CA the simulator does not trust. */
    strangerCert: string;
    strangerKey: string;
    /** A CA bundle that did not sign the simulator's server certificate. */
    wrongCa: string;
  };
  /** Environment for the CLI: CAP settings and PEM identity. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

let cachedPki: { pki: ThrowawayPki; stranger: ReturnType<typeof issueCertificate>; wrongCa: string } | undefined;

/** Real certificates in a real temporary folder, and a CAP simulator that demands them. */
export async function startCapFixture(simOptions: Partial<CapSimulatorOptions> = {}): Promise<CapFixture> {
  // Key generation is the slow part; one PKI serves every fixture in a test file.
  if (!cachedPki) {
    const pki = createThrowawayPki();
    const otherCa = createCertificateAuthority('stranger CA');
    cachedPki = { pki, stranger: issueCertificate(otherCa, { commonName: 'stranger', usage: 'client' }), wrongCa: otherCa.certPem };
  }
  const { pki, stranger, wrongCa } = cachedPki;
  const dir = await makeTempDir('ctr-test-');
  const files = {
    ca: join(dir, 'ca.crt'),
    cert: join(dir, 'client.crt'),
    key: join(dir, 'client.key'),
    encryptedKey: join(dir, 'client-encrypted.key'),
    keyPassphrase: join(dir, 'key-passphrase'),
    p12: join(dir, 'client.p12'),
    p12Passphrase: join(dir, 'p12-passphrase'),
    strangerCert: join(dir, 'stranger.crt'),
    strangerKey: join(dir, 'stranger.key'),
    wrongCa: join(dir, 'wrong-ca.crt'),
  };
  await writeFile(files.ca, pki.ca.certPem);
  await writeFile(files.cert, pki.client.certPem);
  await writeFile(files.key, pki.client.keyPem, { mode: 0o600 });
  await writeFile(files.encryptedKey, encryptKeyPem(pki.client.keyPem, KEY_PASSPHRASE), { mode: 0o600 });
  await writeFile(files.keyPassphrase, `${KEY_PASSPHRASE}\n`, { mode: 0o600 });
  await writeFile(files.p12, createPkcs12(pki.client, P12_PASSPHRASE), { mode: 0o600 });
  await writeFile(files.p12Passphrase, `${P12_PASSPHRASE}\n`, { mode: 0o600 });
  await writeFile(files.strangerCert, stranger.certPem);
  await writeFile(files.strangerKey, stranger.keyPem, { mode: 0o600 });
  await writeFile(files.wrongCa, wrongCa);
  const sim = await startCapSimulator({ server: pki.server, clientCaPem: pki.ca.certPem, ...simOptions });
  return {
    dir,
    pki,
    sim,
    files,
    env: {
      CAP_URL: sim.url,
      AGENCY: 'TEST-AGENCY',
      MISSION: 'TEST-MISSION',
      CAP_CERT_FILE: files.cert,
      CAP_KEY_FILE: files.key,
      CAP_CA_FILE: files.ca,
    },
    async stop() {
      await sim.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
