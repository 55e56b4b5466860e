// `status` against the Kubernetes API test server, run in process
// (test/support/run-in-process.ts; the last test spawns the built command to see which of its chunks load): targets discovered from CredentialsRequests or named with
// --target, verdicts and exit codes, reads only, no CAP call, no secret value printed.

import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CapFixture } from './support/cap-fixture.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import type { KubeApiServer } from './support/kube-api-server.js';
import { refreshCronJob, refreshJob } from './support/refresh-cron-job.js';
import { REPO_ROOT, runCli, type CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';

interface StatusTargetJson {
  namespace: string;
  name: string;
  role: string | null;
  result: 'fresh' | 'failed';
  expiration: string | null;
  error?: string;
  verdict: 'ok' | 'due' | 'expired' | 'unmanaged';
  timeLeftSeconds: number | null;
  refreshedAt: string | null;
  note?: string;
  file?: string;
}

const CCO = 'openshift-cloud-credential-operator';
const NS = 'openshift-status-test';
const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Credentials planted in every Secret's data: status must never print them, plain or base64. */
const PLANTED = { accessKeyId: 'ASIAPLANTEDCLUSTER9', secret: 'planted-cluster-secret-access-key', token: 'FwoGplanted-cluster-session-token' };
const PLANTED_TEXTS = [...Object.values(PLANTED), ...Object.values(PLANTED).map(b64), b64('keep-me-unrelated')];

/** One Secret per verdict, by short name; `missing` is named by a CredentialsRequest but never created. */
const SECRETS = {
  fresh: { role: 'role-fresh', annotations: () => ({ 'cap-token-refresh/refreshed-at': at(-10), 'cap-token-refresh/expiration': at(50) }) },
  due: { role: 'role-due', annotations: () => ({ 'cap-token-refresh/refreshed-at': at(-50), 'cap-token-refresh/expiration': at(10) }) },
  never: { role: 'role-never', annotations: () => ({}) },
  expired: { role: 'role-expired', annotations: () => ({ 'cap-token-refresh/refreshed-at': at(-70), 'cap-token-refresh/expiration': at(-10) }) },
  'no-role': { role: undefined, annotations: () => ({ 'cap-token-refresh/refreshed-at': at(-10), 'cap-token-refresh/expiration': at(50) }) },
  'empty-role': { role: '', annotations: () => ({ 'cap-token-refresh/refreshed-at': at(-10), 'cap-token-refresh/expiration': at(50) }) },
  missing: undefined,
} as const;
type Kind = keyof typeof SECRETS;
const ALL = Object.keys(SECRETS) as Kind[];

let cap: CapFixture;
let kube: KubeApiServer;
let dir: string;
let kubeconfig: string;

function seed(kinds: readonly Kind[]): void {
  for (const kind of kinds) {
    const spec = SECRETS[kind];
    if (!spec) continue;
    kube.putSecret({
      metadata: {
        namespace: NS,
        name: kind,
        annotations: {
          ...(spec.role !== undefined ? { 'cap-token-refresh/role': spec.role } : {}),
          ...(spec.role ? { 'cap-token-refresh/issued-role': spec.role } : {}),
          ...spec.annotations(),
        },
      },
      type: 'Opaque',
      data: {
        aws_access_key_id: b64(PLANTED.accessKeyId),
        aws_secret_access_key: b64(PLANTED.secret),
        credentials: b64(
          `[default]\naws_access_key_id = ${PLANTED.accessKeyId}\naws_secret_access_key = ${PLANTED.secret}\naws_session_token = ${PLANTED.token}\n`,
        ),
        unrelated: b64('keep-me-unrelated'),
      },
    });
  }
}

/** An AWS CredentialsRequest naming each Secret, plus one for another cloud that status must not show. */
function requestsFor(kinds: readonly Kind[]): void {
  for (const kind of kinds) {
    kube.putCredentialsRequest({
      apiVersion: 'cloudcredential.openshift.io/v1',
      kind: 'CredentialsRequest',
      metadata: { namespace: CCO, name: `request-${kind}` },
      spec: {
        secretRef: { namespace: NS, name: kind },
        providerSpec: { apiVersion: 'cloudcredential.openshift.io/v1', kind: 'AWSProviderSpec', statementEntries: [] },
      },
    });
  }
  kube.putCredentialsRequest({
    apiVersion: 'cloudcredential.openshift.io/v1',
    kind: 'CredentialsRequest',
    metadata: { namespace: CCO, name: 'request-gcp' },
    spec: { secretRef: { namespace: NS, name: 'gcp-credentials' }, providerSpec: { apiVersion: 'cloudcredential.openshift.io/v1', kind: 'GCPProviderSpec' } },
  });
}

/** status with the CAP settings and identity in the environment, as the CronJob has them: it must not use them. */
function status(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  // A fake clock set at the call: the verdicts are those of the wall clock, and the API
  // client's retry back-off (a failing API server) takes no time.
  return runInProcess(['status', '--log-format', 'json', ...args], { env: { ...cap.env, ...env }, now: new Date() });
}

const inCluster = (args: string[] = []) => status(['--kubeconfig', kubeconfig, ...args]);
const targets = (r: CliResult) => (JSON.parse(r.stdout) as { targets: StatusTargetJson[] }).targets;
const byName = (r: CliResult) => Object.fromEntries(targets(r).map((t) => [t.name, t]));
const targetFlags = (kinds: readonly Kind[]) => kinds.flatMap((k) => ['--target', `${NS}/${k}`]);

function expectNoSecrets(r: CliResult): void {
  for (const s of PLANTED_TEXTS) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
  expect(r.stdout + r.stderr).not.toContain(kube.token);
}

/** Every request status made was a read, and nothing in the cluster changed. */
function expectReadsOnly(versionBefore: string): void {
  expect(kube.requests.length).toBeGreaterThan(0);
  expect(kube.requests.filter((q) => q.method !== 'GET' || (q.resource !== undefined && q.verb !== 'get' && q.verb !== 'list'))).toEqual([]);
  expect(kube.resourceVersion).toBe(versionBefore);
  expect(kube.listEvents()).toEqual([]);
}

let fixture: ClusterFixture | undefined;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-status-cluster-');
  ({ cap, kube, dir, kubeconfig } = fixture);
});

afterAll(async () => {
  await fixture?.stop();
});

/** The refresh CronJob, healthy: its newest Job succeeded 3 minutes ago (status judges it as the alerts do). */
function healthyCronJob(): void {
  const now = new Date();
  kube.putObject(refreshCronJob(now, { lastScheduleMinutesAgo: 4, lastSuccessfulMinutesAgo: 3 }));
  kube.putObject(refreshJob(now, 'cap-token-refresh-1', 3, 'succeeded'));
}

beforeEach(() => {
  kube.reset();
  healthyCronJob();
});

describe('status in a cluster, targets discovered from CredentialsRequests', () => {
  it("shows every AWS request's Secret with its verdict in the docs/DESIGN.md JSON object; exit 1", async () => {
    seed(ALL);
    requestsFor(ALL);
    const r = await inCluster(['--output', 'json']);
    expect(r.code).toBe(1);
    const all = targets(r);
    // Discovery order (sorted by namespace/name); the GCP request's Secret is not a target.
    expect(all.map((t) => t.name)).toEqual([...ALL].sort());
    const t = byName(r);
    for (const target of all) {
      expect(target.namespace).toBe(NS);
      expect(target.file).toBeUndefined();
      expect(Object.keys(target)).toEqual(
        expect.arrayContaining(['namespace', 'name', 'role', 'result', 'expiration', 'verdict', 'timeLeftSeconds', 'refreshedAt']),
      );
    }
    expect(t.fresh).toMatchObject({ role: 'role-fresh', result: 'fresh', verdict: 'ok', expiration: expect.stringMatching(/Z$/) });
    expect(t.fresh!.error).toBeUndefined();
    expect(t.fresh!.timeLeftSeconds).toBeGreaterThan(49 * 60);
    expect(t.fresh!.timeLeftSeconds).toBeLessThanOrEqual(50 * 60);
    expect(Date.parse(t.fresh!.refreshedAt!)).toBeLessThan(Date.now());
    expect(t.due).toMatchObject({ role: 'role-due', result: 'fresh', verdict: 'due', note: expect.stringContaining('less than a third of its lifetime') });
    expect(t.never).toMatchObject({ role: 'role-never', result: 'fresh', verdict: 'due', expiration: null, timeLeftSeconds: null, refreshedAt: null });
    expect(t.expired).toMatchObject({ role: 'role-expired', result: 'failed', verdict: 'expired', error: expect.stringContaining('expired at') });
    expect(t.expired!.timeLeftSeconds).toBeLessThan(0);
    expect(t['no-role']).toMatchObject({ role: null, result: 'failed', verdict: 'unmanaged', expiration: null, timeLeftSeconds: null });
    expect(t['no-role']!.error).toMatch(/Secret openshift-status-test\/no-role has no cap-token-refresh\/role annotation.*oc annotate secret/);
    expect(t['empty-role']).toMatchObject({
      role: null,
      result: 'failed',
      verdict: 'unmanaged',
      error: expect.stringContaining('annotation of Secret openshift-status-test/empty-role is empty'),
    });
    expect(t.missing).toMatchObject({ role: null, result: 'failed', verdict: 'unmanaged', expiration: null, refreshedAt: null });
    expect(t.missing!.error).toMatch(/Secret openshift-status-test\/missing does not exist/);
    expectNoSecrets(r);
  });

  it('lists the CredentialsRequests and reads each Secret, with GETs only: no write, no Event, no CAP call', async () => {
    seed(ALL);
    requestsFor(ALL);
    const before = structuredClone(kube.listSecrets(NS));
    const version = kube.resourceVersion;
    const callsBefore = cap.sim.calls.length;
    const r = await inCluster();
    expect(r.code).toBe(1);
    expectReadsOnly(version);
    expect(kube.listSecrets(NS)).toEqual(before);
    expect(cap.sim.calls.length).toBe(callsBefore);
    const resourceRequests = kube.requests.filter((q) => q.resource !== undefined);
    expect(resourceRequests.filter((q) => q.resource === 'credentialsrequests')).toEqual([
      expect.objectContaining({
        verb: 'list',
        namespace: CCO,
        path: `/apis/cloudcredential.openshift.io/v1/namespaces/${CCO}/credentialsrequests`,
        status: 200,
      }),
    ]);
    expect(
      resourceRequests
        .filter((q) => q.resource === 'secrets')
        .map((q) => [q.verb, q.name])
        .sort(),
    ).toEqual(ALL.map((k) => ['get', k]).sort());
    expectNoSecrets(r);
  });

  it('the table: one row per target, then why each non-ok target is so; no secret value', async () => {
    seed(ALL);
    requestsFor(ALL);
    const r = await inCluster();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^TARGET\s+ROLE\s+VERDICT\s+EXPIRATION\s+TIME LEFT\s+LAST REFRESH$/m);
    expect(r.stdout).toMatch(/^openshift-status-test\/fresh\s+role-fresh\s+ok\s+\S+Z\s+(49|50)m\s+10m ago$/m);
    expect(r.stdout).toMatch(/^openshift-status-test\/due\s+role-due\s+due\s+\S+Z\s+(9|10)m\s+50m ago$/m);
    expect(r.stdout).toMatch(/^openshift-status-test\/never\s+role-never\s+due\s+-\s+-\s+-$/m);
    expect(r.stdout).toMatch(/^openshift-status-test\/expired\s+role-expired\s+expired\s+\S+Z\s+-(10|11)m\s+1h10m ago$/m);
    expect(r.stdout).toMatch(/^openshift-status-test\/no-role\s+-\s+unmanaged/m);
    expect(r.stdout).toMatch(/^openshift-status-test\/missing\s+-\s+unmanaged\s+-\s+-\s+-$/m);
    expect(r.stdout).toMatch(/^unmanaged: openshift-status-test\/missing: Secret openshift-status-test\/missing does not exist/m);
    expect(r.stdout).toMatch(/^unmanaged: openshift-status-test\/no-role: .*no cap-token-refresh\/role annotation/m);
    expect(r.stdout).toMatch(/^expired: openshift-status-test\/expired: the credentials expired at/m);
    expect(r.stdout).not.toContain('gcp-credentials');
    expectNoSecrets(r);
  });

  it('only fresh and due Secrets: exit 0', async () => {
    seed(['fresh', 'due', 'never']);
    requestsFor(['fresh', 'due', 'never']);
    const r = await inCluster(['-o', 'json']);
    expect(r.code).toBe(0);
    expect(targets(r).map((t) => [t.name, t.verdict])).toEqual([
      ['due', 'due'],
      ['fresh', 'ok'],
      ['never', 'due'],
    ]);
  });

  it('a cluster without AWS CredentialsRequests: no targets, exit 0, a warning naming --target', async () => {
    const r = await inCluster();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No managed targets found\.\n/);
    expect(r.stdout).not.toMatch(/^TARGET/m);
    expect(r.stderr).toMatch(/no AWS CredentialsRequest found in openshift-cloud-credential-operator; name the Secrets with --target/);
  });
});

describe('status in a cluster with --target', () => {
  it.each<[string, number, Kind[]]>([
    ['a fresh Secret', 0, ['fresh']],
    ['fresh and due Secrets', 0, ['fresh', 'due', 'never']],
    ['an expired Secret', 1, ['fresh', 'expired']],
    ['a missing Secret', 1, ['fresh', 'missing']],
    ['a Secret without a role', 1, ['fresh', 'no-role']],
    ['a Secret with an empty role', 1, ['fresh', 'empty-role']],
  ])('%s: exit %i', async (_name, code, kinds) => {
    seed(ALL);
    requestsFor(ALL);
    const version = kube.resourceVersion;
    const r = await inCluster([...targetFlags(kinds), '--output', 'json']);
    expect(r.code).toBe(code);
    // Exactly the named Secrets, in the order given; the CredentialsRequests are not consulted.
    expect(targets(r).map((t) => t.name)).toEqual(kinds);
    expect(byName(r).fresh).toMatchObject({ verdict: 'ok', result: 'fresh', role: 'role-fresh' });
    expect(kube.requests.some((q) => q.resource === 'credentialsrequests')).toBe(false);
    expectReadsOnly(version);
    expectNoSecrets(r);
  });

  it('a Secret that cannot be read is unmanaged with the reason and the cure; the others are still shown', async () => {
    seed(['fresh', 'due']);
    kube.deny({ namespace: NS, name: 'due', resource: 'secrets' });
    const r = await inCluster([...targetFlags(['fresh', 'due']), '-o', 'json']);
    expect(r.code).toBe(1);
    expect(byName(r).fresh).toMatchObject({ verdict: 'ok' });
    expect(byName(r).due).toMatchObject({
      verdict: 'unmanaged',
      result: 'failed',
      role: null,
      error: expect.stringMatching(/^not allowed to read Secret openshift-status-test\/due \(HTTP 403 Forbidden\): .*Role in namespace openshift-status-test/),
    });
  });

  it('an API server failure reading a Secret is unmanaged with the message, not a crash', async () => {
    seed(['fresh']);
    kube.failNext({ status: 503, count: Number.POSITIVE_INFINITY, match: (q) => q.resource === 'secrets' });
    const r = await inCluster([...targetFlags(['fresh']), '-o', 'json']);
    expect(r.code).toBe(1);
    expect(byName(r).fresh).toMatchObject({ verdict: 'unmanaged', error: expect.stringContaining('the API server failed (HTTP 503') });
  });

  it('--context picks the kubeconfig context; an unknown one is a configuration error before any request', async () => {
    seed(['fresh']);
    const ok = await inCluster(['--context', 'test', ...targetFlags(['fresh'])]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^openshift-status-test\/fresh\s+role-fresh\s+ok/m);
    kube.clearRequests();
    const bad = await inCluster(['--context', 'elsewhere', ...targetFlags(['fresh'])]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/the context elsewhere \(--context\) is not in the kubeconfig/);
    expect(kube.requests).toEqual([]);
  });
});

describe('status in a cluster says what the alerts would fire on, and exits 1 for it', () => {
  const json = (r: CliResult) =>
    JSON.parse(r.stdout) as { cronJob?: { findings: { alert: string; severity: string; description: string }[]; notes: string[] } };

  it('a healthy CronJob: exit 0, the table says no alert would fire, the CronJob and Jobs are only read', async () => {
    seed(['fresh']);
    const version = kube.resourceVersion;
    const r = await inCluster(targetFlags(['fresh']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CronJob cap-token-refresh\/cap-token-refresh: no alert would fire\.$/m);
    expectReadsOnly(version);
    const paths = kube.requests.map((q) => q.path);
    expect(paths).toContain('/apis/batch/v1/namespaces/cap-token-refresh/cronjobs/cap-token-refresh');
    expect(paths).toContain('/apis/batch/v1/namespaces/cap-token-refresh/jobs');
    expect(json(await inCluster([...targetFlags(['fresh']), '-o', 'json'])).cronJob).toEqual({ findings: [], notes: [] });
  });

  it.each<[string, () => void, string]>([
    ['the newest Job failed', () => kube.putObject(refreshJob(new Date(), 'cap-token-refresh-2', 1, 'failed')), 'CapTokenRefreshRunFailed'],
    ['no success for an hour', () => kube.putObject(refreshJob(new Date(), 'cap-token-refresh-1', 60, 'succeeded')), 'CapTokenRefreshNoRecentSuccess'],
    [
      'the CronJob is suspended',
      () => kube.putObject(refreshCronJob(new Date(), { suspend: true, lastSuccessfulMinutesAgo: 3 })),
      'CapTokenRefreshCronJobSuspended',
    ],
    [
      'the CronJob never succeeded',
      () => {
        kube.reset();
        kube.putObject(refreshCronJob(new Date(), { createdMinutesAgo: 120 }));
      },
      'CapTokenRefreshNeverSucceeded',
    ],
    ['the CronJob is gone', () => kube.reset(), 'CapTokenRefreshCronJobAbsent'],
  ])('%s: exit 1, the alert named with what to do, even when every Secret is fresh', async (_name, breakIt, alert) => {
    breakIt();
    seed(['fresh']);
    const r = await inCluster(targetFlags(['fresh']));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^openshift-status-test\/fresh\s+role-fresh\s+ok/m);
    expect(r.stdout).toMatch(new RegExp(`^ALERT ${alert} \\((warning|critical)\\): .+\n  .+`, 'm'));
    const report = json(await inCluster([...targetFlags(['fresh']), '-o', 'json']));
    expect(report.cronJob!.findings.map((f) => f.alert)).toEqual([alert]);
    expectNoSecrets(r);
  });

  it('a CronJob status may not read: a warning, the alerts unchecked, the exit decided by the Secrets alone', async () => {
    seed(['fresh']);
    kube.deny({ resource: 'cronjobs' });
    const r = await inCluster([...targetFlags(['fresh']), '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /could not read the CronJob cap-token-refresh\/cap-token-refresh \(HTTP 403 Forbidden\); what the alerts would say is not checked/,
    );
    expect(json(r).cronJob).toBeUndefined();
  });

  it('Jobs status may not list: judged from the CronJob status, with a note', async () => {
    seed(['fresh']);
    kube.deny({ resource: 'jobs' });
    const r = await inCluster([...targetFlags(['fresh']), '-o', 'json']);
    expect(r.code).toBe(0);
    expect(json(r).cronJob).toEqual({ findings: [], notes: [expect.stringContaining('could not be listed')] });
  });
});

describe('status in a cluster: usage and configuration errors', () => {
  it('a bad --target, or --target with --manifests, is a usage error before any request', async () => {
    const bad = await inCluster(['--target', 'not-a-target']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--target "not-a-target" is not NAMESPACE\/NAME/);
    const mixed = await status(['--manifests', dir, '--target', `${NS}/fresh`]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--target names Secrets in a cluster; it cannot be combined with --manifests/);
    expect(kube.requests).toEqual([]);
  });

  it('without --manifests and with no Kubernetes configuration: exit 3 saying how to point at a cluster', async () => {
    const home = await mkdtemp(join(dir, 'home-'));
    const r = await status([], { HOME: home });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no Kubernetes configuration found/);
    expect(r.stderr).toMatch(/--kubeconfig FILE/);
    const missing = await status(['--kubeconfig', join(dir, 'nope')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/the kubeconfig .*nope \(--kubeconfig\) does not exist/);
  });

  it('KUBECONFIG is honoured as refresh honours it', async () => {
    seed(['fresh']);
    const r = await status([...targetFlags(['fresh'])], { KUBECONFIG: kubeconfig, HOME: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^openshift-status-test\/fresh\s+role-fresh\s+ok/m);
  });

  it('a denied CredentialsRequests list is a configuration error naming the Role to add', async () => {
    kube.deny({ resource: 'credentialsrequests' });
    const r = await inCluster();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot list the CredentialsRequests in openshift-cloud-credential-operator .*HTTP 403 Forbidden/);
  });
});

describe('status loads the Kubernetes client only for a cluster', () => {
  /** Runs status with a loader hook that logs every module URL the process loads. */
  async function loadedModules(args: string[], name: string): Promise<{ r: CliResult; urls: string[] }> {
    const log = join(dir, `${name}.log`);
    const hooks = join(dir, 'hooks.mjs');
    const register = join(dir, 'register.mjs');
    await writeFile(
      hooks,
      "import { appendFileSync } from 'node:fs';\nlet log;\nexport function initialize(data) { log = data.log; }\nexport async function load(url, context, next) { appendFileSync(log, url + '\\n'); return next(url, context); }\n",
    );
    await writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log: process.env.CTR_LOAD_LOG } });\n`,
    );
    await writeFile(log, '');
    const r = await runCli(['status', '--log-format', 'json', ...args], {
      env: { ...cap.env, NODE_OPTIONS: `--import ${pathToFileURL(register).href}`, CTR_LOAD_LOG: log },
    });
    return { r, urls: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
  }

  /** The built chunks that hold @kubernetes/client-node code, found through their source maps. */
  async function clientNodeChunks(): Promise<string[]> {
    const chunks = join(REPO_ROOT, 'dist', 'chunks');
    const found: string[] = [];
    for (const file of (await readdir(chunks)).filter((f) => f.endsWith('.js.map'))) {
      const map = JSON.parse(await readFile(join(chunks, file), 'utf8')) as { sources: string[] };
      if (map.sources.some((s) => s.includes('node_modules/@kubernetes/client-node/')))
        found.push(pathToFileURL(join(chunks, file.replace(/\.map$/, ''))).href);
    }
    return found;
  }

  it('status --manifests never loads it; status in a cluster does', async () => {
    const library = await clientNodeChunks();
    expect(library.length).toBeGreaterThan(0);
    const manifests = await mkdtemp(join(dir, 'manifests-'));
    const onDisk = await loadedModules(['--manifests', manifests], 'manifests');
    expect(onDisk.r.code).toBe(0);
    expect(onDisk.urls.some((u) => u.endsWith('/dist/cap-token-refresh.js'))).toBe(true);
    expect(onDisk.urls.some((u) => /\/dist\/chunks\/status-[^/]+\.js$/.test(u))).toBe(true);
    expect(onDisk.urls.filter((u) => library.includes(u))).toEqual([]);

    seed(['fresh']);
    const cluster = await loadedModules(['--kubeconfig', kubeconfig, ...targetFlags(['fresh'])], 'cluster');
    expect(cluster.r.code).toBe(0);
    expect(cluster.urls.filter((u) => library.includes(u)).length).toBeGreaterThan(0);
  });
});
