// Client identities as users hold them: PKCS#12 bundles written by `openssl pkcs12 -export`
// (OpenSSL 3's default AES, the -legacy RC2 one, and the 3DES one older tooling writes), with RSA
// and EC (prime256v1) keys, and an EC PEM key; each one proved against the mutual-TLS CAP simulator.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPkcs12 } from '../src/cap/pkcs12.js';
import { startCapSimulator } from '../src/sim/cap-simulator.js';
import { encryptKeyPem } from '../src/sim/pki.js';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

const run = promisify(execFile);
const openssl = (args: string[], cwd: string) => run('openssl', args, { cwd });

/** Planted passphrases: none may appear in any output of this file. */
const BUNDLE_PASS = 'p12-bundle-passphrase-zulu-31';
const WRONG_PASS = 'not-the-bundle-passphrase-echo-58';
const EC_KEY_PASS = 'ec-key-passphrase-quebec-19';

const FORMATS = {
  modern: [],
  legacy: ['-legacy'],
  des3: ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
} as const;
type Format = keyof typeof FORMATS;
type KeyType = 'rsa' | 'ec';

let cap: CapFixture;
let dir: string;
const outputs: CliResult[] = [];
const files = (name: string) => join(dir, name);

beforeAll(async () => {
  cap = await startCapFixture();
  dir = await makeTempDir('ctr-identities-');
  await writeFile(files('ca.crt'), cap.pki.ca.certPem);
  await writeFile(files('ca.key'), cap.pki.ca.keyPem, { mode: 0o600 });
  await writeFile(files('rsa.crt'), cap.pki.client.certPem);
  await writeFile(files('rsa.key'), cap.pki.client.keyPem, { mode: 0o600 });
  // An EC client certificate signed by the CA the simulator trusts.
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ec.key'], dir);
  await writeFile(files('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  await openssl(['req', '-new', '-key', 'ec.key', '-subj', '/CN=ec-client/O=cap-token-refresh tests', '-out', 'ec.csr'], dir);
  await openssl(
    ['x509', '-req', '-in', 'ec.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '4242', '-days', '90', '-extfile', 'client.ext', '-out', 'ec.crt'],
    dir,
  );
  await writeFile(files('ec-encrypted.key'), encryptKeyPem(await readFile(files('ec.key'), 'utf8'), EC_KEY_PASS), { mode: 0o600 });
  await writeFile(files('ec-key-pass'), `${EC_KEY_PASS}\n`, { mode: 0o600 });
  await writeFile(files('pass'), `${BUNDLE_PASS}\n`, { mode: 0o600 });
  await writeFile(files('wrong-pass'), `${WRONG_PASS}\n`, { mode: 0o600 });
  for (const key of ['rsa', 'ec'] as const) {
    for (const [format, extra] of Object.entries(FORMATS)) {
      const out = `${key}-${format}.p12`;
      await openssl(['pkcs12', '-export', ...extra, '-inkey', `${key}.key`, '-in', `${key}.crt`, '-passout', 'file:pass', '-out', out], dir);
    }
  }
});
afterAll(async () => {
  await cap?.stop();
});

async function credentialProcess(role: string, identity: string[]): Promise<CliResult> {
  const r = await runInProcess(['credential-process', '--role', role, '--no-cache', '--ca', files('ca.crt'), ...identity], {
    env: { CAP_URL: cap.sim.url, AGENCY: 'TEST-AGENCY', MISSION: 'TEST-MISSION', HOME: dir },
  });
  outputs.push(r);
  return r;
}

/** The call succeeded, CAP saw the expected client certificate, and stdout holds what CAP issued. */
function expectServed(r: CliResult, role: string, commonName: string) {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const call = [...cap.sim.calls].reverse().find((c) => c.role === role);
  expect(call?.clientSubject).toContain(commonName);
  const issued = cap.sim.issued.at(-1)!;
  expect(JSON.parse(r.stdout)).toMatchObject({ Version: 1, AccessKeyId: issued.accessKeyId, SessionToken: issued.sessionToken });
}

const CN = { rsa: 'demo-admin', ec: 'ec-client' } as const;

describe('PKCS#12 bundles made by openssl pkcs12 -export', () => {
  const cases: [KeyType, Format, 'native' | 'legacy'][] = [
    ['rsa', 'modern', 'native'],
    ['ec', 'modern', 'native'],
    ['rsa', 'des3', 'native'],
    ['ec', 'des3', 'native'],
    ['rsa', 'legacy', 'legacy'],
    ['ec', 'legacy', 'legacy'],
  ];

  it.each(cases)('a %s key in a %s bundle is read by the %s reader', async (key, format, reader) => {
    const contents = await openPkcs12(await readFile(files(`${key}-${format}.p12`)), BUNDLE_PASS);
    expect(contents.reader).toBe(reader);
    expect(contents.certPem).toBe((await readFile(files(`${key}.crt`), 'utf8')).replace(/\r\n/g, '\n'));
  });

  it.each(cases)('a %s key in a %s bundle gets credentials from the mutual-TLS CAP', async (key, format) => {
    const role = `p12-${key}-${format}`;
    const r = await credentialProcess(role, ['--pkcs12', files(`${key}-${format}.p12`), '--pkcs12-passphrase-file', files('pass')]);
    expectServed(r, role, CN[key]);
  });

  it.each(cases)('a wrong passphrase for a %s key in a %s bundle names the file and the setting, exit 3, no call', async (key, format) => {
    const calls = cap.sim.calls.length;
    const bundle = files(`${key}-${format}.p12`);
    const r = await credentialProcess(`p12-wrong-${key}-${format}`, ['--pkcs12', bundle, '--pkcs12-passphrase-file', files('wrong-pass')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `the PKCS#12 bundle ${bundle} (--pkcs12) could not be opened: wrong passphrase; the passphrase in ${files('wrong-pass')} (--pkcs12-passphrase-file, CAP_PKCS12_PASSPHRASE_FILE) does not open it`,
    );
    expect(cap.sim.calls.length).toBe(calls);
  });

  it('a bundle without a key, and a file that is no bundle, are told apart', async () => {
    await openssl(['pkcs12', '-export', '-nokeys', '-in', 'ec.crt', '-passout', 'file:pass', '-out', 'nokey.p12'], dir);
    await writeFile(files('junk.p12'), `${BUNDLE_PASS} is not DER`, { mode: 0o600 });
    const noKey = await credentialProcess('p12-nokey', ['--pkcs12', files('nokey.p12'), '--pkcs12-passphrase-file', files('pass')]);
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toContain(`the PKCS#12 bundle ${files('nokey.p12')} (--pkcs12) holds no private key`);
    const junk = await credentialProcess('p12-junk', ['--pkcs12', files('junk.p12'), '--pkcs12-passphrase-file', files('pass')]);
    expect(junk.code).toBe(3);
    expect(junk.stderr).toContain(`the PKCS#12 bundle ${files('junk.p12')} (--pkcs12) is not a PKCS#12 file or is damaged`);
  });
});

describe('a bundle that carries CA certificates', () => {
  // Node trusts the CA certificates of a bundle given to TLS as pfx for the server as well; CAP
  // must be verified against --ca only, so such a bundle reaches TLS as its key and certificates.
  beforeAll(async () => {
    await openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue-ca.key', '-out', 'rogue-ca.crt', '-subj', '/CN=rogue CA', '-days', '2'],
      dir,
    );
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue-server.key', '-out', 'rogue-server.csr', '-subj', '/CN=localhost'], dir);
    await writeFile(files('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'rogue-server.csr',
        '-CA',
        'rogue-ca.crt',
        '-CAkey',
        'rogue-ca.key',
        '-set_serial',
        '99',
        '-days',
        '2',
        '-extfile',
        'server.ext',
        '-out',
        'rogue-server.crt',
      ],
      dir,
    );
    await openssl(
      ['pkcs12', '-export', '-inkey', 'ec.key', '-in', 'ec.crt', '-certfile', 'rogue-ca.crt', '-passout', 'file:pass', '-out', 'ec-with-ca.p12'],
      dir,
    );
  });

  it('is read by OpenSSL, and its extra certificate is kept apart as the chain', async () => {
    const contents = await openPkcs12(await readFile(files('ec-with-ca.p12')), BUNDLE_PASS);
    expect(contents.reader).toBe('native');
    expect(contents.certPem).toBe(await readFile(files('ec.crt'), 'utf8'));
    expect(contents.chainPem).toEqual([await readFile(files('rogue-ca.crt'), 'utf8')]);
    expect(contents.key).toBeDefined();
  });

  it('gets credentials from the real CAP', async () => {
    const r = await credentialProcess('p12-with-ca', ['--pkcs12', files('ec-with-ca.p12'), '--pkcs12-passphrase-file', files('pass')]);
    expectServed(r, 'p12-with-ca', 'ec-client');
  });

  it('does not make its CA trusted: a server signed by it is refused as untrusted', async () => {
    const rogue = await startCapSimulator({
      server: { certPem: await readFile(files('rogue-server.crt'), 'utf8'), keyPem: await readFile(files('rogue-server.key'), 'utf8') },
      clientCaPem: cap.pki.ca.certPem,
    });
    try {
      const r = await runInProcess(
        [
          'credential-process',
          '--role',
          'rogue',
          '--no-cache',
          '--ca',
          files('ca.crt'),
          '--pkcs12',
          files('ec-with-ca.p12'),
          '--pkcs12-passphrase-file',
          files('pass'),
        ],
        { env: { CAP_URL: rogue.url, AGENCY: 'TEST-AGENCY', MISSION: 'TEST-MISSION', HOME: dir } },
      );
      outputs.push(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^error: the CAP server certificate is not signed by a trusted CA https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role rogue\)/,
      );
      expect(rogue.calls).toEqual([]);
    } finally {
      await rogue.stop();
    }
  });
});

describe('EC PEM keys', () => {
  it('an EC key (SEC1 PEM) with its certificate gets credentials', async () => {
    const r = await credentialProcess('pem-ec', ['--cert', files('ec.crt'), '--key', files('ec.key')]);
    expectServed(r, 'pem-ec', 'ec-client');
  });

  it('an encrypted EC key (PKCS#8) with its passphrase file gets credentials', async () => {
    const r = await credentialProcess('pem-ec-encrypted', [
      '--cert',
      files('ec.crt'),
      '--key',
      files('ec-encrypted.key'),
      '--key-passphrase-file',
      files('ec-key-pass'),
    ]);
    expectServed(r, 'pem-ec-encrypted', 'ec-client');
  });

  it('an EC key that is not the certificate’s is refused before any call', async () => {
    const calls = cap.sim.calls.length;
    const r = await credentialProcess('pem-ec-mismatch', ['--cert', files('rsa.crt'), '--key', files('ec.key')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('do not belong together');
    expect(cap.sim.calls.length).toBe(calls);
  });
});

describe('redaction', () => {
  it('no passphrase, key or issued credential appears on stderr, and no passphrase or key anywhere', async () => {
    expect(outputs.length).toBeGreaterThanOrEqual(19);
    const ecKey = (await readFile(files('ec.key'), 'utf8')).split('\n')[1]!;
    const rsaKey = cap.pki.client.keyPem.split('\n')[1]!;
    for (const r of outputs) {
      const all = r.stdout + r.stderr;
      for (const planted of [BUNDLE_PASS, WRONG_PASS, EC_KEY_PASS, ecKey, rsaKey, 'PRIVATE KEY']) expect(all).not.toContain(planted);
      for (const i of cap.sim.issued) for (const s of [i.secretAccessKey, i.sessionToken, i.accessKeyId]) expect(r.stderr).not.toContain(s);
    }
  });
});
