// Fault matrix, CAP rows: every way CAP fails, injected for real (the CAP simulator over mutual
// TLS, openssl s_server for a TLS alert, a closed port), run through the built command
// (`npm run build` first). Each row checks three things:
//   1. the right targets end refreshed, and the others are byte-identical (files) or keep
//      their resourceVersion (Secrets);
//   2. the message names the target and the cure;
//   3. no secret (issued credentials, the key passphrase, the key) in any output, file
//      annotation or Event.
// Rows run in disk mode (two manifests: the faulty role and a healthy one); the faults that
// CAP shows per role are then injected all at once into a cluster refresh, for the Events.

import type { TargetReport as ReportTarget } from '../src/core/report.js';
import { rm } from 'node:fs/promises';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleBehaviour } from '../src/sim/cap-simulator.js';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './support/kube-api-server.js';
import { makeManifestDir, snapshotDir } from './support/manifest-dir.js';
import { runCli, type CliResult } from './support/run-cli.js';
import { startStrictTlsServer } from './support/strict-tls-server.js';
import { makeTempDir } from './support/temp-dir.js';
import { closedPort } from './support/closed-port.js';

interface Setup {
  args?: string[];
  env?: Record<string, string>;
  stop?: () => Promise<void>;
}

interface CapFault {
  fault: string;
  /** A simulator behaviour for the faulty role, or a setup that changes the whole CAP (then every target fails). */
  behaviour?: RoleBehaviour;
  setup?: () => Promise<Setup>;
  args?: string[];
  /** How the faulty target ends. */
  outcome: 'refreshed' | 'failed';
  /** The failed target's error (the cure), or for a retried fault the retry warning's reason. */
  message: RegExp;
  /** CAP requests for the faulty role (undefined when CAP never sees it). */
  calls?: number;
  /**
   * Attempts the client made, counted from its retry warnings, for a fault where a request may
   * time out before it reaches CAP (a TLS handshake slower than --timeout on a busy machine),
   * so CAP's own count can only be an upper bound.
   */
  attempts?: number;
  /** The run takes at least this long (a Retry-After honoured). A lower bound only: a busy machine cannot break it. */
  atLeastMs?: number;
}

const PLANTED_KEY_ID = 'ASIAPLANTEDFAULT0001';
const PLANTED_SECRET = 'planted-secret-access-key-in-a-partial-body';
const HTML_400 =
  '<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

let cap: CapFixture;
const outputs: CliResult[] = [];

const FAULTS: CapFault[] = [
  {
    fault: 'refused connection',
    setup: async () => ({ env: { CAP_URL: `https://127.0.0.1:${await closedPort()}` } }),
    outcome: 'failed',
    message:
      /^the connection to CAP failed \(ECONNREFUSED\) https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-[\w-]+\); check that CAP is reachable from here$/,
  },
  {
    fault: 'reset mid-body',
    behaviour: { kind: 'reset' },
    outcome: 'failed',
    message:
      /^CAP cut the connection in the middle of its answer at https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-reset-mid-body\); check that CAP is reachable and not restarting, and run again$/,
    calls: 4,
  },
  {
    fault: 'stall past the timeout',
    behaviour: { kind: 'stall' },
    args: ['--timeout', '300ms'],
    outcome: 'failed',
    message:
      /^CAP did not answer within 300ms at https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-stall-past-the-timeout\); check that CAP is up and reachable, or raise --timeout$/,
    attempts: 4,
  },
  {
    fault: 'TLS alert',
    setup: async () => {
      const strict = await startStrictTlsServer(cap.dir, { server: cap.pki.server, clientCaPem: cap.pki.ca.certPem });
      return { env: { CAP_URL: strict.url }, args: ['--cert', cap.files.strangerCert, '--key', cap.files.strangerKey], stop: () => strict.stop() };
    },
    outcome: 'failed',
    message:
      /^CAP ended the TLS handshake with an alert \(unknown ca\) https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-tls-alert\); CAP did not accept the client certificate: check that --cert\/--key \(or --pkcs12\) is the identity CAP knows and not expired$/,
  },
  {
    fault: '400 HTML',
    behaviour: { kind: 'status', status: 400, contentType: 'text/html', body: HTML_400 },
    outcome: 'failed',
    message:
      /^CAP refused the client certificate at https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-400-html, HTTP 400\); check that --cert and --key \(or --pkcs12\) belong to the identity CAP knows and that its CA is trusted by CAP$/,
    calls: 1,
  },
  ...[401, 403].map(
    (status): CapFault => ({
      fault: String(status),
      behaviour: { kind: 'status', status, body: '{"message":"role not allowed"}' },
      outcome: 'failed',
      message: new RegExp(
        `^CAP does not allow this client certificate to use role fault-${status} at https://127\\.0\\.0\\.1:\\d+/api/v1/credentials \\(role fault-${status}, HTTP ${status}\\); check the role name and ask the CAP administrators to grant it$`,
      ),
      calls: 1,
    }),
  ),
  {
    fault: '404',
    behaviour: { kind: 'status', status: 404, contentType: 'text/html', body: '<html>Not Found</html>' },
    outcome: 'failed',
    message:
      /^CAP answered Not Found at https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-404, HTTP 404\); check CAP_URL \(it should be the portal, or end in \/api\/v1\/credentials\)$/,
    calls: 1,
  },
  {
    fault: '429 with Retry-After',
    behaviour: { kind: 'sequence', steps: [{ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, { kind: 'ok' }] },
    outcome: 'refreshed',
    message: /^rate-limited$/,
    calls: 2,
    atLeastMs: 1000,
  },
  {
    fault: '500 then success',
    behaviour: { kind: 'sequence', steps: [{ kind: 'status', status: 500 }, { kind: 'ok' }] },
    outcome: 'refreshed',
    message: /^server-error$/,
    calls: 2,
  },
  {
    // The overall deadline is max(60s, 2 x --timeout). CAP asks to come back after 120 s, past
    // it: the client gives up at once instead of sleeping beyond the deadline (one call; a
    // client that waited the 120 s out would overrun this test's 60 s timeout).
    fault: '503 for longer than the deadline',
    behaviour: { kind: 'status', status: 503, headers: { 'retry-after': '120' } },
    outcome: 'failed',
    message:
      /^CAP failed with a server error at https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-503-for-longer-than-the-deadline, HTTP 503\); try again later or tell CAP's operators; CAP asked to retry after 120s, past the 60s deadline: gave up after 1 attempt\(s\)$/,
    calls: 1,
  },
  {
    fault: '503 on every attempt',
    behaviour: { kind: 'status', status: 503 },
    outcome: 'failed',
    message:
      /^CAP failed with a server error at https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials \(role fault-503-on-every-attempt, HTTP 503\); try again later or tell CAP's operators$/,
    calls: 4,
  },
  {
    fault: '200 with HTML',
    behaviour: { kind: 'html' },
    outcome: 'failed',
    message:
      /^CAP answered with an HTML page instead of JSON, as portals do when they did not accept the client certificate; check that --cert and --key \(or --pkcs12\) belong to the identity CAP knows and that CAP_URL points at the CAP API, not a login page \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-200-with-html\)$/,
    calls: 1,
  },
  {
    fault: 'truncated JSON',
    behaviour: { kind: 'malformed', body: `{"Credentials": {"AccessKeyId": "${PLANTED_KEY_ID}", "SecretAccessKey": "${PLANTED_SECRET}", "Sess` },
    outcome: 'failed',
    message:
      /^the CAP response is not valid JSON \(truncated, or a page shown when the client certificate was not accepted\); check the client certificate and CAP_URL \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-truncated-json\)$/,
    calls: 1,
  },
  {
    fault: 'a body over the size cap',
    behaviour: { kind: 'huge', bytes: 200_000 },
    outcome: 'failed',
    message:
      /^the CAP response is larger than 65536 bytes; that is not a CAP credentials answer from https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials for role fault-a-body-over-the-size-cap$/,
    calls: 1,
  },
  {
    fault: 'a missing field',
    behaviour: {
      kind: 'malformed',
      body: JSON.stringify({ Credentials: { AccessKeyId: PLANTED_KEY_ID, SecretAccessKey: PLANTED_SECRET, Expiration: '2099-01-01T00:00:00Z' } }),
    },
    outcome: 'failed',
    message:
      /^the CAP response lacks a non-empty string for Credentials\.SessionToken; expected AccessKeyId, SecretAccessKey, SessionToken, Expiration \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-a-missing-field\)$/,
    calls: 1,
  },
  {
    fault: 'no Expiration',
    behaviour: {
      kind: 'malformed',
      body: JSON.stringify({ Credentials: { AccessKeyId: PLANTED_KEY_ID, SecretAccessKey: PLANTED_SECRET, SessionToken: PLANTED_SECRET } }),
    },
    outcome: 'failed',
    message:
      /^the CAP response has no Expiration; give --assume-lifetime DURATION \(for example 1h\) if this CAP never sends one \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-no-expiration\)$/,
    calls: 1,
  },
  {
    fault: 'an impossible Expiration',
    behaviour: {
      kind: 'malformed',
      body: JSON.stringify({
        Credentials: { AccessKeyId: PLANTED_KEY_ID, SecretAccessKey: PLANTED_SECRET, SessionToken: PLANTED_SECRET, Expiration: '2099-02-30T00:00:00Z' },
      }),
    },
    outcome: 'failed',
    message:
      /^the CAP response has an Expiration \(ISO 8601 with an offset\) that is not a possible date and time \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-an-impossible-expiration\)$/,
    calls: 1,
  },
  {
    fault: 'an Expiration centuries ahead',
    behaviour: {
      kind: 'malformed',
      body: JSON.stringify({
        Credentials: { AccessKeyId: PLANTED_KEY_ID, SecretAccessKey: PLANTED_SECRET, SessionToken: PLANTED_SECRET, Expiration: '9999-12-31T23:59:59Z' },
      }),
    },
    outcome: 'failed',
    message: /more than 36 hours ahead; no STS session lives that long/,
    calls: 1,
  },
  {
    fault: 'a control character in the SessionToken',
    behaviour: {
      kind: 'malformed',
      body: JSON.stringify({
        Credentials: {
          AccessKeyId: PLANTED_KEY_ID,
          SecretAccessKey: PLANTED_SECRET,
          SessionToken: `${PLANTED_SECRET}\u001b[2J`,
          Expiration: new Date(Date.now() + 3600_000).toISOString(),
        },
      }),
    },
    outcome: 'failed',
    message: /^the CAP response has characters other than printable ASCII without spaces in Credentials\.SessionToken; AWS credentials never hold any \(https/,
    calls: 1,
  },
  {
    fault: 'an expired Expiration',
    behaviour: { kind: 'expired' },
    outcome: 'failed',
    message:
      /^CAP returned credentials that already expired \(their Expiration, ISO 8601 with an offset, is past by CAP's own clock\); check the clock of this machine and of CAP \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-an-expired-expiration\)$/,
    calls: 1,
  },
  {
    fault: 'a non-UTF-8 body',
    behaviour: {
      kind: 'malformed',
      body: Buffer.concat([Buffer.from(`{"AccessKeyId":"${PLANTED_KEY_ID}","x":"`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]),
    },
    outcome: 'failed',
    message: /^the CAP response is not UTF-8 text; expected a JSON object \(https:\/\/127\.0\.0\.1:\d+\/api\/v1\/credentials, role fault-a-non-utf-8-body\)$/,
    calls: 1,
  },
];

const slug = (fault: string) =>
  fault
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
const report = (r: CliResult) => JSON.parse(r.stdout) as { targets: ReportTarget[] };

/** Every value that must never leave the process. */
function secrets(): string[] {
  return [
    ...cap.sim.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
    PLANTED_KEY_ID,
    PLANTED_SECRET,
    KEY_PASSPHRASE,
    P12_PASSPHRASE,
    ...cap.pki.client.keyPem.split('\n').filter((l) => l.length > 20),
  ];
}

function expectNoSecret(where: string, text: string): void {
  for (const s of secrets()) expect(text.includes(s), `${where} contains a secret`).toBe(false);
}

beforeAll(async () => {
  cap = await startCapFixture();
});

afterAll(async () => {
  await cap?.stop();
});

describe('CAP faults, disk mode: the faulty role against a healthy one in the same run', () => {
  it.concurrent.each(FAULTS.map((f) => [f.fault, f] as const))('%s', async (_, f) => {
    const s = slug(f.fault);
    const role = `fault-${s}`;
    const healthyRole = `ok-${s}`;
    if (f.behaviour) cap.sim.setBehaviour(role, f.behaviour);
    const setup = (await f.setup?.()) ?? {};
    const dir = await makeManifestDir([
      { file: 'faulty.yaml', namespace: 'ns-fault', name: `creds-${s}`, role },
      { file: 'healthy.yaml', namespace: 'ns-ok', name: `creds-${s}`, role: healthyRole },
    ]);
    const before = await snapshotDir(dir);
    try {
      const started = Date.now();
      // The encrypted key and its passphrase file: the passphrase is in the process, and must stay there.
      const r = await runCli(
        [
          'refresh',
          '--manifests',
          dir,
          '--output',
          'json',
          '--log-format',
          'json',
          '--key',
          cap.files.encryptedKey,
          '--key-passphrase-file',
          cap.files.keyPassphrase,
          ...(f.args ?? []),
          ...(setup.args ?? []),
        ],
        { env: { ...cap.env, ...setup.env } },
      );
      const elapsed = Date.now() - started;
      outputs.push(r);
      const after = await snapshotDir(dir);
      const targets = report(r).targets;
      const faulty = targets.find((t) => t.namespace === 'ns-fault')!;
      const healthy = targets.find((t) => t.namespace === 'ns-ok')!;
      const wholeCapFails = Boolean(f.setup);

      // 1. The right targets refreshed; the others byte-identical.
      expect(faulty).toMatchObject({ name: `creds-${s}`, role, result: f.outcome });
      expect(healthy).toMatchObject({ name: `creds-${s}`, role: healthyRole, result: wholeCapFails ? 'failed' : 'refreshed' });
      expect(r.code).toBe(f.outcome === 'failed' || wholeCapFails ? 1 : 0);
      const issuedKeys = new Set(cap.sim.issued.map((c) => c.accessKeyId));
      for (const [file, target] of [
        ['faulty.yaml', faulty],
        ['healthy.yaml', healthy],
      ] as const) {
        if (target.result === 'failed') {
          expect(after[file], `${file} must be byte-identical`).toBe(before[file]);
        } else {
          const doc = parse(after[file]!) as {
            stringData: Record<string, string>;
            data: Record<string, string>;
            metadata: { annotations: Record<string, string> };
          };
          expect(issuedKeys.has(doc.stringData.aws_access_key_id!)).toBe(true);
          expect(doc.data).toEqual({ 'keep-me': 'a2VlcA==' });
          expect(doc.metadata.annotations['example.com/keep']).toBe('yes');
          expect(doc.metadata.annotations['cap-token-refresh/expiration']).toBe(target.expiration);
        }
      }
      if (f.calls !== undefined) expect(cap.sim.calls.filter((c) => c.role === role)).toHaveLength(f.calls);
      if (f.atLeastMs !== undefined) expect(elapsed).toBeGreaterThanOrEqual(f.atLeastMs);

      // 2. The message names the target (its report entry) and the cure; never the URL's query.
      const logs = r.stderr
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      if (f.attempts !== undefined) {
        const retried = logs.filter((l) => l.role === role && (l.msg ?? l.message) === 'CAP request failed, retrying').map((l) => l.attempt);
        expect(retried).toEqual(Array.from({ length: f.attempts - 1 }, (_, i) => i + 1));
        expect(cap.sim.calls.filter((c) => c.role === role).length).toBeLessThanOrEqual(f.attempts);
      }
      if (f.outcome === 'failed') {
        expect(faulty.error).toMatch(f.message);
        expect(faulty.error).not.toMatch(/agency=|mission=|role=/);
        expect(logs.some((l) => l.level === 'error' && l.role === role && l.error === faulty.error)).toBe(true);
      } else {
        const retries = logs.filter((l) => l.msg === 'CAP request failed, retrying' || l.message === 'CAP request failed, retrying');
        expect(retries).toHaveLength(1);
        expect(retries[0]).toMatchObject({ level: 'warn', role, attempt: 1 });
        expect(String(retries[0]!.reason)).toMatch(f.message);
      }

      // 3. No secret in the output or in the files' annotations.
      expectNoSecret('stdout', r.stdout);
      expectNoSecret('stderr', r.stderr);
      for (const file of Object.values(after)) expectNoSecret('annotations', JSON.stringify((parse(file) as { metadata: unknown }).metadata));
    } finally {
      await setup.stop?.();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CAP faults, cluster mode: every per-role fault in one run', () => {
  let kube: KubeApiServer;
  let dir: string;

  beforeAll(async () => {
    kube = await startKubeApiServer();
    dir = await makeTempDir('ctr-fault-cap-');
  });
  afterAll(async () => {
    await kube?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails exactly the faulty Secrets, with a Warning Event each that names the cure and carries no secret', async () => {
    const perRole = FAULTS.filter((f) => f.behaviour);
    expect(perRole.length).toBeGreaterThanOrEqual(14);
    const rows = perRole.map((f) => ({ f, role: `cluster-${slug(f.fault)}`, name: `creds-${slug(f.fault)}` }));
    for (const { f, role } of rows) cap.sim.setBehaviour(role, f.behaviour!);
    const healthy = ['cluster-ok-1', 'cluster-ok-2'].map((role) => ({ role, name: `creds-${role}` }));
    const seeded = new Map<string, KubeObject>();
    for (const { role, name } of [...rows, ...healthy]) {
      seeded.set(
        name,
        kube.putSecret({
          metadata: { namespace: 'cap-faults', name, annotations: { 'cap-token-refresh/role': role } },
          type: 'Opaque',
          data: { unrelated: Buffer.from('keep-me').toString('base64') },
        }),
      );
    }
    const kubeconfig = await kube.writeKubeconfig(dir);
    const r = await runCli(
      [
        'refresh',
        '--kubeconfig',
        kubeconfig,
        '--output',
        'json',
        '--log-format',
        'json',
        '--timeout',
        '300ms',
        '--key',
        cap.files.encryptedKey,
        '--key-passphrase-file',
        cap.files.keyPassphrase,
        ...[...seeded.keys()].flatMap((n) => ['--target', `cap-faults/${n}`]),
      ],
      { env: cap.env },
    );
    outputs.push(r);
    expect(r.code).toBe(1);
    const byName = new Map(report(r).targets.map((t) => [t.name, t]));
    const events = kube.listEvents('cap-faults');

    for (const { f, role, name } of rows) {
      const entry = byName.get(name)!;
      const secret = kube.getSecret('cap-faults', name)!;
      expect(entry.result, f.fault).toBe(f.outcome);
      const own = events.filter((e) => (e.involvedObject as { name: string }).name === name);
      expect(own, f.fault).toHaveLength(1);
      if (f.outcome === 'failed') {
        expect(secret.metadata.resourceVersion, f.fault).toBe(seeded.get(name)!.metadata.resourceVersion);
        expect(entry.error, f.fault).toMatch(new RegExp(f.message.source.replaceAll('fault-', 'cluster-')));
        expect(own[0]).toMatchObject({ type: 'Warning', reason: 'CredentialsRefreshFailed' });
        expect(String(own[0]!.message)).toBe(`Could not refresh AWS credentials for role ${role}: ${entry.error}`);
      } else {
        expect(secret.metadata.resourceVersion, f.fault).not.toBe(seeded.get(name)!.metadata.resourceVersion);
        expect(own[0]).toMatchObject({ type: 'Normal', reason: 'CredentialsRefreshed' });
      }
    }
    for (const { name } of healthy) {
      expect(byName.get(name)!.result).toBe('refreshed');
      expect(kube.getSecret('cap-faults', name)!.metadata.resourceVersion).not.toBe(seeded.get(name)!.metadata.resourceVersion);
    }
    expectNoSecret('stdout', r.stdout);
    expectNoSecret('stderr', r.stderr);
    expectNoSecret('Events', JSON.stringify(events));
    expectNoSecret('annotations', JSON.stringify(kube.listSecrets('cap-faults').map((s) => s.metadata.annotations)));
  }, 60_000);
});

describe('no secret leaves the process', () => {
  it('no output of this file holds an issued credential, a planted value, a passphrase or the key', () => {
    expect(outputs.length).toBe(FAULTS.length + 1);
    expect(cap.sim.issued.length).toBeGreaterThan(FAULTS.length);
    for (const r of outputs) {
      expectNoSecret('stdout', r.stdout);
      expectNoSecret('stderr', r.stderr);
    }
  });
});
