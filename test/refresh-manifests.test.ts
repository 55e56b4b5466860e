import { execFile } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../src/sim/pki.js';
import { startCapSimulator } from '../src/sim/cap-simulator.js';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startConnectProxy } from './support/connect-proxy.js';
import { startStrictTlsServer } from './support/strict-tls-server.js';
import { makeManifestDir, snapshotDir } from './support/manifest-dir.js';
import { runCli, type CliResult } from './support/run-cli.js';

// End-to-end: the built command against a real mTLS CAP simulator, in real temporary folders.

let cap: CapFixture;
const exec = promisify(execFile);
const outputs: CliResult[] = [];
async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { env: { ...cap.env, ...env } });
  outputs.push(result);
  return result;
}
const json = (r: CliResult) =>
  JSON.parse(r.stdout) as { targets: { namespace: string; name: string; role: string; result: string; expiration: string | null; error?: string }[] };

const THREE = [
  { file: 'a.yaml', namespace: 'ns-a', name: 'creds-a', role: 'role-one' },
  { file: 'b.yaml', namespace: 'ns-b', name: 'creds-b', role: 'role-one' },
  { file: 'c.yaml', namespace: 'ns-c', name: 'creds-c', role: 'role-two' },
];

beforeAll(async () => {
  cap = await startCapFixture();
});
afterAll(async () => {
  await cap.stop();
});

describe('refresh --manifests with each kind of client identity', () => {
  type How = { key?: 'encryptedKey'; passphrase?: 'keyPassphrase'; p12?: boolean };
  it.each<[string, How]>([
    ['PEM certificate and key', {}],
    ['an encrypted PEM key and its passphrase file', { key: 'encryptedKey', passphrase: 'keyPassphrase' }],
    ['a PKCS#12 bundle and its passphrase file', { p12: true }],
  ])('%s', async (_, how) => {
    const dir = await makeManifestDir(THREE);
    const callsBefore = cap.sim.calls.length;
    const identity = how.p12
      ? ['--pkcs12', cap.files.p12, '--pkcs12-passphrase-file', cap.files.p12Passphrase]
      : ['--cert', cap.files.cert, '--key', cap.files[how.key ?? 'key'], ...(how.passphrase ? ['--key-passphrase-file', cap.files[how.passphrase]] : [])];
    const env: Record<string, string> = how.p12 || how.key ? { CAP_CERT_FILE: '', CAP_KEY_FILE: '' } : {};
    const r = await run(['refresh', '--manifests', dir, ...identity, '--output', 'json'], env);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const report = json(r);
    expect(report.targets.map((t) => [t.namespace, t.name, t.role, t.result])).toEqual([
      ['ns-a', 'creds-a', 'role-one', 'refreshed'],
      ['ns-b', 'creds-b', 'role-one', 'refreshed'],
      ['ns-c', 'creds-c', 'role-two', 'refreshed'],
    ]);
    // One CAP call per distinct role, with the agency and mission from the environment.
    const calls = cap.sim.calls.slice(callsBefore);
    expect(calls.map((c) => c.role).sort()).toEqual(['role-one', 'role-two']);
    expect(calls.every((c) => c.agency === 'TEST-AGENCY' && c.mission === 'TEST-MISSION' && c.clientSubject === 'demo-admin')).toBe(true);

    const issued = cap.sim.issued.slice(-2);
    for (const file of ['a.yaml', 'b.yaml', 'c.yaml']) {
      const path = join(dir, file);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const obj = parse(await readFile(path, 'utf8'));
      const creds = issued.find((c) => c.accessKeyId === obj.stringData.aws_access_key_id)!;
      expect(creds).toBeDefined();
      expect(obj.stringData.aws_secret_access_key).toBe(creds.secretAccessKey);
      expect(obj.stringData.credentials).toContain(`aws_session_token = ${creds.sessionToken}`);
      expect(obj.metadata.annotations['cap-token-refresh/expiration']).toBe(creds.expiration);
      expect(obj.metadata.annotations['cap-token-refresh/refreshed-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(obj.metadata.annotations['example.com/keep']).toBe('yes');
      expect(obj.metadata.labels['cap-token-refresh/managed']).toBe('true');
      expect(obj.data).toEqual({ 'keep-me': 'a2VlcA==' });
    }
    // Both targets of role-one got the same credentials.
    const a = parse(await readFile(join(dir, 'a.yaml'), 'utf8'));
    const b = parse(await readFile(join(dir, 'b.yaml'), 'utf8'));
    expect(a.stringData.aws_access_key_id).toBe(b.stringData.aws_access_key_id);
  });
});

describe('refresh policy on disk', () => {
  it('a second run right after writes nothing and calls CAP zero times; --force writes again', async () => {
    const dir = await makeManifestDir(THREE);
    expect((await run(['refresh', '--manifests', dir])).code).toBe(0);
    const before = await snapshotDir(dir);
    const calls = cap.sim.calls.length;

    const second = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(second.code).toBe(0);
    expect(json(second).targets.map((t) => t.result)).toEqual(['fresh', 'fresh', 'fresh']);
    expect(cap.sim.calls.length).toBe(calls);
    expect(await snapshotDir(dir)).toEqual(before);

    const forced = await run(['refresh', '--manifests', dir, '--force', '--output', 'json']);
    expect(forced.code).toBe(0);
    expect(json(forced).targets.map((t) => t.result)).toEqual(['refreshed', 'refreshed', 'refreshed']);
    expect(cap.sim.calls.length).toBe(calls + 2);
    expect(await snapshotDir(dir)).not.toEqual(before);
  });

  it('after fill (one response in every Secret) the next refresh asks CAP for each role; the one after leaves them alone', async () => {
    const dir = await makeManifestDir(THREE);
    const seed = JSON.stringify({
      Credentials: {
        AccessKeyId: 'ASIASEEDEDBYFILL0001',
        SecretAccessKey: 'seeded-secret',
        SessionToken: 'seeded-token',
        Expiration: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    const filled = await runCli(['fill', '--manifests', dir], { env: cap.env, input: seed });
    expect(filled.code).toBe(0);
    const status = await runCli(['status', '--manifests', dir, '-o', 'json'], { env: cap.env });
    expect(JSON.parse(status.stdout).targets.map((t: { verdict: string; note: string }) => [t.verdict, t.note.split(':')[0]])).toEqual(
      THREE.map(() => ['due', 'seeded']),
    );
    const calls = cap.sim.calls.length;
    const first = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(json(first).targets.map((t) => t.result)).toEqual(['refreshed', 'refreshed', 'refreshed']);
    expect(cap.sim.calls.length).toBe(calls + 2);
    for (const t of THREE) {
      const doc = parse(await readFile(join(dir, t.file), 'utf8'));
      expect(doc.metadata.annotations['cap-token-refresh/issued-role']).toBe(t.role);
      expect(doc.stringData.aws_access_key_id).not.toBe('ASIASEEDEDBYFILL0001');
    }
    const second = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(json(second).targets.map((t) => t.result)).toEqual(['fresh', 'fresh', 'fresh']);
  });

  it('--renew-before makes fresh targets due', async () => {
    const dir = await makeManifestDir(THREE.slice(0, 1));
    await run(['refresh', '--manifests', dir]);
    const r = await run(['refresh', '--manifests', dir, '--renew-before', '2h', '--output', 'json']);
    expect(json(r).targets[0]!.result).toBe('refreshed');
  });

  it('prints the human table with the time left', async () => {
    const dir = await makeManifestDir(THREE.slice(2));
    const r = await run(['refresh', '--manifests', dir]);
    expect(r.stdout).toMatch(/^TARGET\s+ROLE\s+RESULT\s+EXPIRES IN\n/);
    expect(r.stdout).toMatch(/ns-c\/creds-c\s+role-two\s+refreshed\s+(59|60)m/);
  });

  it('logs JSON lines on stderr when stderr is not a terminal', async () => {
    const dir = await makeManifestDir(THREE.slice(2));
    const r = await run(['refresh', '--manifests', dir]);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('level');
  });
});

describe('one failure never blocks the others', () => {
  it('a forbidden role fails alone and its manifest stays byte-identical', async () => {
    cap.sim.setBehaviour('role-denied', { kind: 'status', status: 403, body: '{"error":"denied"}' });
    const dir = await makeManifestDir([...THREE, { file: 'd.yaml', namespace: 'ns-d', name: 'creds-d', role: 'role-denied' }]);
    const before = await snapshotDir(dir);
    const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(r.code).toBe(1);
    const t = json(r).targets;
    expect(t.map((x) => x.result)).toEqual(['refreshed', 'refreshed', 'refreshed', 'failed']);
    expect(t[3]!.error).toMatch(/does not allow this client certificate to use role role-denied/);
    expect(t[3]!.error).toMatch(/HTTP 403/);
    const after = await snapshotDir(dir);
    expect(after['d.yaml']).toBe(before['d.yaml']);
    expect(after['a.yaml']).not.toBe(before['a.yaml']);
  });

  it('a manifest that does not parse is reported and left untouched, byte for byte', async () => {
    const dir = await makeManifestDir(THREE.slice(0, 1));
    const broken = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: "unterminated\n  annotations:\n    cap-token-refresh/role: x\n';
    await writeFile(join(dir, 'broken.yaml'), broken);
    const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(r.code).toBe(1);
    const t = json(r).targets;
    expect(t.find((x) => x.name.endsWith('broken.yaml'))).toMatchObject({
      result: 'failed',
      error: expect.stringMatching(/left untouched: it is not valid YAML/),
    });
    expect(t.find((x) => x.name === 'creds-a')?.result).toBe('refreshed');
    expect(await readFile(join(dir, 'broken.yaml'), 'utf8')).toBe(broken);
  });
});

describe('each CAP failure ends in a message that names the cure', () => {
  /** The simulator answers ROLE with BEHAVIOUR; the case refreshes a Secret of that role. */
  const behaving = (role: string, behaviour: Parameters<typeof cap.sim.setBehaviour>[1]) => {
    cap.sim.setBehaviour(role, behaviour);
    return { role };
  };
  const cases: [string, () => Promise<{ args?: string[]; env?: Record<string, string>; role?: string; cleanup?: () => Promise<void> }>, RegExp][] = [
    [
      'a TLS alert for an untrusted client certificate',
      async () => {
        const strict = await startStrictTlsServer(cap.dir, { server: cap.pki.server, clientCaPem: cap.pki.ca.certPem });
        return { env: { CAP_URL: strict.url }, args: ['--cert', cap.files.strangerCert, '--key', cap.files.strangerKey], cleanup: () => strict.stop() };
      },
      /TLS handshake with an alert \(unknown ca\).*client certificate/,
    ],
    [
      'a connection closed after the handshake (untrusted certificate, Node TLS)',
      async () => ({ args: ['--cert', cap.files.strangerCert, '--key', cap.files.strangerKey] }),
      /closed the connection without answering .*client certificate/,
    ],
    ['unknown server CA', async () => ({ args: ['--ca', cap.files.wrongCa] }), /not signed by a trusted CA .*--ca/],
    ['401', async () => behaving('r401', { kind: 'status', status: 401 }), /does not allow this client certificate to use role r401 .*HTTP 401/],
    ['404 for a wrong CAP_URL path', async () => ({ env: { CAP_URL: `${cap.sim.url}/wrong/prefix` } }), /Not Found .*check CAP_URL/],
    ['5xx', async () => behaving('r503', { kind: 'status', status: 503 }), /server error .*HTTP 503/],
    ['a timeout', async () => ({ ...behaving('rstall', { kind: 'stall' }), args: ['--timeout', '300ms'] }), /did not answer within 0s|did not answer within/],
    ['a dropped connection', async () => behaving('rdrop', { kind: 'drop' }), /closed the connection without answering/],
    ['HTML with status 200', async () => behaving('rhtml', { kind: 'html' }), /HTML page instead of JSON/],
    ['a body that is not JSON', async () => behaving('rjunk', { kind: 'malformed', body: '{"Credentials": {"AccessKeyId": "AS' }), /not valid JSON/],
    [
      'a missing field',
      async () =>
        behaving('rmiss', {
          kind: 'malformed',
          body: JSON.stringify({
            Credentials: { AccessKeyId: 'ASIAPLANTEDKEY000001', SecretAccessKey: 'planted-secret-in-partial-body', Expiration: '2099-01-01T00:00:00Z' },
          }),
        }),
      /lacks a non-empty string for Credentials\.SessionToken/,
    ],
    ['expired credentials', async () => behaving('rexp', { kind: 'expired' }), /already expired .*check the clock/],
    ['a non-UTF-8 body', async () => behaving('rbin', { kind: 'malformed', body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), /not UTF-8/],
    ['a body over the size cap', async () => behaving('rhuge', { kind: 'huge', bytes: 200_000 }), /larger than 65536 bytes/],
    [
      'an HTTP 400 HTML page for an untrusted certificate (nginx)',
      async () => {
        const nginx = await startCapSimulator({ server: cap.pki.server, clientCaPem: cap.pki.ca.certPem, badCertificateAs: 'http-400' });
        return { env: { CAP_URL: nginx.url }, args: ['--cert', cap.files.strangerCert, '--key', cap.files.strangerKey], cleanup: () => nginx.stop() };
      },
      /refused the client certificate .*HTTP 400.*--cert and --key/,
    ],
    [
      'a hostname mismatch',
      async () => {
        const other = issueCertificate(cap.pki.ca, { commonName: 'cap.example', usage: 'server', altNames: { dns: ['cap.example'] } });
        const sim = await startCapSimulator({ server: other, clientCaPem: cap.pki.ca.certPem });
        return { env: { CAP_URL: sim.url }, cleanup: () => sim.stop() };
      },
      /does not name the host in CAP_URL/,
    ],
    [
      'a proxy that refuses the tunnel',
      async () => {
        const proxy = await startConnectProxy({ refuseWith: 403 });
        return { env: { HTTPS_PROXY: proxy.url }, cleanup: () => proxy.stop() };
      },
      /proxy http:\/\/127\.0\.0\.1:\d+ refused the tunnel .*HTTP 403.*HTTPS_PROXY/,
    ],
  ];

  it.each(cases)('%s', async (_, setup, message) => {
    const s = await setup();
    const role = s.role ?? 'role-ok';
    const dir = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role }]);
    const before = await snapshotDir(dir);
    try {
      const r = await run(['refresh', '--manifests', dir, '--output', 'json', ...(s.args ?? [])], s.env);
      expect(r.code).toBe(1);
      const target = json(r).targets[0]!;
      expect(target.result).toBe('failed');
      expect(target.error).toMatch(message);
      expect(target.error).not.toMatch(/agency=|mission=|role=/); // the URL's query never appears
      expect(await snapshotDir(dir)).toEqual(before);
    } finally {
      await s.cleanup?.();
    }
  });

  it.each([
    ['500 then success', [{ kind: 'status', status: 500 }, { kind: 'ok' }]],
    ['429 with Retry-After then success', [{ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, { kind: 'ok' }]],
  ] as const)('retries %s', async (_, steps) => {
    const role = `retry-${steps[0].status}`;
    cap.sim.setBehaviour(role, { kind: 'sequence', steps: [...steps] as never });
    const dir = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role }]);
    const started = Date.now();
    const r = await run(['refresh', '--manifests', dir, '--output', 'json']);
    expect(json(r).targets[0]!.result).toBe('refreshed');
    expect(cap.sim.calls.filter((c) => c.role === role)).toHaveLength(2);
    if (steps[0].status === 429) expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('does not retry a 403', async () => {
    cap.sim.setBehaviour('once403', { kind: 'status', status: 403 });
    const dir = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role: 'once403' }]);
    await run(['refresh', '--manifests', dir]);
    expect(cap.sim.calls.filter((c) => c.role === 'once403')).toHaveLength(1);
  });
});

describe('trust without --ca', () => {
  it("trusts the system's store (SSL_CERT_FILE here) and refuses CAP when the store lacks its CA", async () => {
    const dir = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role: 'system-store' }]);
    const trusted = await run(['refresh', '--manifests', dir, '--output', 'json'], { CAP_CA_FILE: '', SSL_CERT_FILE: cap.files.ca });
    expect(json(trusted).targets[0]!.result).toBe('refreshed');
    const dir2 = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role: 'system-store' }]);
    const untrusted = await run(['refresh', '--manifests', dir2, '--output', 'json'], { CAP_CA_FILE: '', SSL_CERT_FILE: cap.files.wrongCa });
    expect(json(untrusted).targets[0]!.error).toMatch(/not signed by a trusted CA/);
  });
});

describe('an HTTPS proxy', () => {
  it('tunnels to CAP and the client certificate still reaches CAP; NO_PROXY bypasses it', async () => {
    const proxy = await startConnectProxy();
    try {
      const dir = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role: 'via-proxy' }]);
      const r = await run(['refresh', '--manifests', dir, '--output', 'json'], { HTTPS_PROXY: proxy.url });
      expect(json(r).targets[0]!.result).toBe('refreshed');
      expect(proxy.tunnels).toEqual([new URL(cap.sim.url).host]);
      expect(cap.sim.calls.at(-1)).toMatchObject({ role: 'via-proxy', clientSubject: 'demo-admin' });

      const dir2 = await makeManifestDir([{ file: 'x.yaml', namespace: 'ns', name: 'x', role: 'no-proxy' }]);
      const r2 = await run(['refresh', '--manifests', dir2, '--output', 'json'], { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
      expect(json(r2).targets[0]!.result).toBe('refreshed');
      expect(proxy.tunnels).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });
});

describe('configuration errors stop the run before any network call', () => {
  const expiredClient = () => {
    const now = Date.now();
    return issueCertificate(cap.pki.ca, {
      commonName: 'old',
      usage: 'client',
      notBefore: new Date(now - 10 * 86_400_000),
      notAfter: new Date(now - 86_400_000),
    });
  };
  const cases: [string, () => Promise<{ args?: string[]; env?: Record<string, string> }>, number, RegExp][] = [
    ['no CAP_URL', async () => ({ env: { CAP_URL: '' } }), 3, /no CAP URL: set CAP_URL or --cap-url/],
    ['an http CAP_URL', async () => ({ env: { CAP_URL: 'http://127.0.0.1:1' } }), 3, /must use https/],
    ['no client certificate', async () => ({ env: { CAP_CERT_FILE: '', CAP_KEY_FILE: '' } }), 3, /no client certificate: give --cert and --key/],
    ['a certificate and a key that do not belong together', async () => ({ args: ['--key', cap.files.strangerKey] }), 3, /do not belong together/],
    ['a missing certificate file', async () => ({ args: ['--cert', join(cap.dir, 'nope.crt')] }), 3, /nope\.crt \(--cert\) does not exist/],
    [
      'an encrypted key without its passphrase',
      async () => ({ args: ['--key', cap.files.encryptedKey] }),
      3,
      /is encrypted; give its passphrase with --key-passphrase-file/,
    ],
    [
      'a wrong key passphrase',
      async () => {
        const f = join(cap.dir, 'wrong-pass');
        await writeFile(f, 'not-the-passphrase\n');
        return { args: ['--key', cap.files.encryptedKey, '--key-passphrase-file', f] };
      },
      3,
      /does not decrypt the key/,
    ],
    [
      'a wrong PKCS#12 passphrase',
      async () => {
        const f = join(cap.dir, 'wrong-p12-pass');
        await writeFile(f, 'nope-nope\n');
        return { env: { CAP_CERT_FILE: '', CAP_KEY_FILE: '' }, args: ['--pkcs12', cap.files.p12, '--pkcs12-passphrase-file', f] };
      },
      3,
      /could not be opened: wrong passphrase/,
    ],
    [
      'an expired client certificate',
      async () => {
        const old = expiredClient();
        await writeFile(join(cap.dir, 'old.crt'), old.certPem);
        await writeFile(join(cap.dir, 'old.key'), old.keyPem, { mode: 0o600 });
        return { args: ['--cert', join(cap.dir, 'old.crt'), '--key', join(cap.dir, 'old.key')] };
      },
      3,
      /expired on .*renew it/,
    ],
    [
      'a missing certs folder',
      async () => ({ env: { CAP_CERT_FILE: '', CAP_KEY_FILE: '', CAP_CERTS_DIR: join(cap.dir, 'no-certs') } }),
      3,
      /the certs folder .*no-certs \(--certs-dir, CAP_CERTS_DIR\) does not exist/,
    ],
    [
      'a wrong passphrase for a legacy (RC2) PKCS#12 bundle made by openssl',
      async () => {
        const bundle = join(cap.dir, 'legacy.p12');
        await exec('openssl', [
          'pkcs12',
          '-export',
          '-legacy',
          '-inkey',
          cap.files.key,
          '-in',
          cap.files.cert,
          '-passout',
          `file:${cap.files.p12Passphrase}`,
          '-out',
          bundle,
        ]);
        const f = join(cap.dir, 'wrong-legacy-pass');
        await writeFile(f, `${KEY_PASSPHRASE}\n`);
        return { env: { CAP_CERT_FILE: '', CAP_KEY_FILE: '' }, args: ['--pkcs12', bundle, '--pkcs12-passphrase-file', f] };
      },
      3,
      /legacy\.p12 \(--pkcs12\) could not be opened: wrong passphrase; the passphrase in \S+wrong-legacy-pass \(--pkcs12-passphrase-file/,
    ],
    [
      'a PKCS#12 bundle without a private key',
      async () => {
        const bundle = join(cap.dir, 'nokey.p12');
        await exec('openssl', ['pkcs12', '-export', '-nokeys', '-in', cap.files.cert, '-passout', `file:${cap.files.p12Passphrase}`, '-out', bundle]);
        return { env: { CAP_CERT_FILE: '', CAP_KEY_FILE: '' }, args: ['--pkcs12', bundle, '--pkcs12-passphrase-file', cap.files.p12Passphrase] };
      },
      3,
      /nokey\.p12 \(--pkcs12\) holds no private key/,
    ],
    [
      'a damaged PKCS#12 file',
      async () => {
        const bundle = join(cap.dir, 'damaged.p12');
        await writeFile(bundle, (await readFile(cap.files.p12)).subarray(0, 200), { mode: 0o600 });
        return { env: { CAP_CERT_FILE: '', CAP_KEY_FILE: '' }, args: ['--pkcs12', bundle, '--pkcs12-passphrase-file', cap.files.p12Passphrase] };
      },
      3,
      /damaged\.p12 \(--pkcs12\) is not a PKCS#12 file or is damaged/,
    ],
    ['a missing manifests folder', async () => ({ args: ['--manifests', join(cap.dir, 'no-such-dir')] }), 3, /manifests folder .* does not exist/],
    ['an unknown flag', async () => ({ args: ['--no-such-flag'] }), 2, /unknown option/],
    ['a bad --renew-before', async () => ({ args: ['--renew-before', 'soonish'] }), 2, /--renew-before soonish is not a duration/],
    ['a bad --retry-for', async () => ({ args: ['--retry-for', '2h'] }), 2, /--retry-for 2h is not a duration up to 1h/],
    ['a bad --concurrency', async () => ({ args: ['--concurrency', '0'] }), 2, /--concurrency must be a whole number/],
  ];

  it.each(cases)('%s', async (_, setup, code, message) => {
    const s = await setup();
    const dir = await makeManifestDir(THREE.slice(0, 1));
    const calls = cap.sim.calls.length;
    const args = s.args?.includes('--manifests') ? s.args : ['--manifests', dir, ...(s.args ?? [])];
    const r = await run(['refresh', ...args], s.env);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(cap.sim.calls.length).toBe(calls);
  });

  it('reports every usage problem at once with status 2, before any configuration is read (no CAP_URL, no certificate)', async () => {
    const dir = await makeManifestDir(THREE.slice(0, 1));
    const r = await runCli(['refresh', '--manifests', dir, '--target', 'ns/x', '--renew-before', 'soonish', '--concurrency', '0'], { env: { HOME: cap.dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /the command line has 3 problems:\n {2}--renew-before soonish is not a duration.*\n {2}--concurrency must be a whole number.*\n {2}--target names Secrets in a cluster; it cannot be combined with --manifests/,
    );
    expect(r.stderr).not.toMatch(/CAP_URL|certificate/);
  });

  it('warns with the date when the client certificate expires within 30 days', async () => {
    const soon = issueCertificate(cap.pki.ca, { commonName: 'soon', usage: 'client', notAfter: new Date(Date.now() + 10 * 86_400_000) });
    await writeFile(join(cap.dir, 'soon.crt'), soon.certPem);
    await writeFile(join(cap.dir, 'soon.key'), soon.keyPem, { mode: 0o600 });
    const dir = await makeManifestDir(THREE.slice(0, 1));
    const r = await run(['refresh', '--manifests', dir, '--cert', join(cap.dir, 'soon.crt'), '--key', join(cap.dir, 'soon.key')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/expires on \d{4}-\d\d-\d\dT.* \(in (9|10) days\); renew it soon/);
  });

  it('warns when the private key file is readable by others', async () => {
    const key = join(cap.dir, 'loose.key');
    await writeFile(key, cap.pki.client.keyPem);
    await chmod(key, 0o644);
    const dir = await makeManifestDir(THREE.slice(0, 1));
    const r = await run(['refresh', '--manifests', dir, '--key', key]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/readable by every user .*chmod 600/);
  });
});

describe('a CAP whose clock is 10 minutes ahead of this node', () => {
  it('warns, records the offset, and status shows it, with no secret in any of it', async () => {
    cap.sim.setDateOffset(600_000);
    try {
      const dir = await makeManifestDir(THREE.slice(0, 1));
      const r = await run(['refresh', '--manifests', dir]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/this node's clock is behind CAP's by (599|60[01])s; AWS will refuse requests signed on this node/);
      const shown = await run(['status', '--manifests', dir]);
      expect(shown.stdout).toMatch(/clock skew: .*behind CAP's by (599|60[01])s; AWS will refuse requests signed on that node/);
    } finally {
      cap.sim.setDateOffset(0);
    }
  });
});

describe('redaction', () => {
  it('no run above printed a credential, a key or a passphrase', () => {
    expect(outputs.length).toBeGreaterThan(30);
    const secrets = [
      ...cap.sim.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
      'planted-secret-in-partial-body',
      'ASIAPLANTEDKEY000001',
      KEY_PASSPHRASE,
      P12_PASSPHRASE,
      ...cap.pki.client.keyPem.split('\n').filter((l) => l.length > 20),
    ];
    expect(cap.sim.issued.length).toBeGreaterThan(10);
    for (const out of outputs) {
      for (const s of secrets) {
        expect(out.stdout).not.toContain(s);
        expect(out.stderr).not.toContain(s);
      }
    }
  });
});
