// The job as the CronJob starts it (manifests/cap-cronjob.yaml: its args and env, the certs
// Secret "mounted" as files), against a cluster holding the Secrets of manifests/ and the
// CredentialsRequests a default cluster has: it keeps every Secret fresh and never rewrites
// one that is not due. Then the in-cluster connection (service account token files), in process.

import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/errors.js';
import { refreshCluster } from '../src/refresh/refresh-cluster.js';
import { Redactor } from '../src/log/redactor.js';
import { silentLogger } from '../src/log/logger.js';
import type { CommandContext } from '../src/commands/context.js';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './support/kube-api-server.js';
import { FIXTURES, REPO_ROOT, runCli, type CliResult } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';

interface Container {
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

const MANIFESTS = join(REPO_ROOT, 'manifests');

let cap: CapFixture;
let kube: KubeApiServer;
let work: string;
let container: Container;
let jobEnv: Record<string, string>;
let managed: { namespace: string; name: string; role: string }[];
const outputs: CliResult[] = [];
let trustedDir: string;

/** A Secret or ConfigMap volume as the kubelet lays it out: each key a symlink into ..data, a symlink to a timestamped folder. */
async function mountLikeKubelet(dir: string, files: Record<string, string>, mode: number): Promise<void> {
  const stamp = join(dir, '..2026_12_02_08_00_00.000000001');
  await mkdir(stamp, { recursive: true });
  for (const [key, content] of Object.entries(files)) {
    await writeFile(join(stamp, key), content);
    await chmod(join(stamp, key), mode);
  }
  await symlink('..2026_12_02_08_00_00.000000001', join(dir, '..data'));
  for (const key of Object.keys(files)) await symlink(join('..data', key), join(dir, key));
}

/** Runs the built command with exactly the container's args and env; KUBECONFIG stands in for the pod's service account. */
async function runJob(): Promise<CliResult> {
  const result = await runCli(container.args ?? [], { env: jobEnv });
  outputs.push(result);
  return result;
}

/** Moves a Secret's expiration and refreshed-at annotations back by MINUTES, as if that much time had passed. */
function ageSecret(ref: { namespace: string; name: string }, minutes: number): void {
  const secret = kube.getSecret(ref.namespace, ref.name)!;
  const annotations = { ...secret.metadata.annotations };
  for (const key of ['cap-token-refresh/expiration', 'cap-token-refresh/refreshed-at']) {
    annotations[key] = new Date(Date.parse(annotations[key]!) - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  kube.putSecret({ ...secret, metadata: { ...secret.metadata, annotations } });
}

const results = (r: CliResult) =>
  r.stdout
    .split('\n')
    .filter((l) => / (refreshed|fresh|failed) /.test(l))
    .map((l) => l.split(/\s+/).slice(0, 3).join(' '));

beforeAll(async () => {
  cap = await startCapFixture();
  kube = await startKubeApiServer();
  work = await makeTempDir('ctr-cronjob-');

  const cronJob = parseYaml(await readFile(join(MANIFESTS, 'cap-cronjob.yaml'), 'utf8')) as {
    spec: { jobTemplate: { spec: { template: { spec: { containers: Container[] } } } } };
  };
  container = cronJob.spec.jobTemplate.spec.template.spec.containers[0]!;

  // The certs Secret, mounted where the CronJob mounts it, with the keys docs/DESIGN.md names.
  const mountPath = container.volumeMounts?.find((m) => m.name === 'cap-certs')?.mountPath ?? '/etc/cap-certs';
  const certsDir = join(work, 'cap-certs');
  await mkdir(certsDir);
  await writeFile(join(certsDir, 'tls.crt'), cap.pki.client.certPem);
  await writeFile(join(certsDir, 'tls.key'), cap.pki.client.keyPem, { mode: 0o600 });
  await writeFile(join(certsDir, 'ca.crt'), cap.pki.ca.certPem);
  const trustedMountPath = container.volumeMounts?.find((m) => m.name === 'trusted-ca')?.mountPath ?? '/etc/cap-trusted-ca';
  trustedDir = join(work, 'cap-trusted-ca');
  await mkdir(trustedDir);
  const placeholders: Record<string, string> = { CAP_URL: cap.sim.url, AGENCY: 'TEST-AGENCY', MISSION: 'TEST-MISSION' };
  jobEnv = {
    HOME: work,
    KUBECONFIG: await kube.writeKubeconfig(work),
    ...Object.fromEntries(
      (container.env ?? []).map((e) => [
        e.name,
        placeholders[e.name] ??
          String(e.value ?? '')
            .replace(mountPath, certsDir)
            .replace(trustedMountPath, trustedDir),
      ]),
    ),
  };
});

afterAll(async () => {
  await kube?.stop();
  await cap?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  kube.reset();
  // The CredentialsRequests of a default cluster: the release's, without the feature-gated ones.
  for (const file of await readdir(join(FIXTURES, 'oc-extract-aws'))) {
    for (const doc of parseAllDocuments(await readFile(join(FIXTURES, 'oc-extract-aws', file), 'utf8'))) {
      const object = doc.toJS() as KubeObject | null;
      if (object?.kind !== 'CredentialsRequest' || object.metadata.annotations?.['release.openshift.io/feature-gate']) continue;
      kube.putCredentialsRequest(object);
    }
  }
  // The operator Secrets exactly as manifests/ installs them, the role placeholder filled in.
  managed = [];
  for (const file of (await readdir(MANIFESTS)).filter((f) => /^cap-.*-secret\.yaml$/.test(f) && f !== 'cap-certs-secret.yaml')) {
    const secret = parseYaml((await readFile(join(MANIFESTS, file), 'utf8')).replace(/CLUSTER_NAME/g, 'test')) as KubeObject;
    kube.putSecret(secret);
    managed.push({ namespace: secret.metadata.namespace!, name: secret.metadata.name!, role: secret.metadata.annotations!['cap-token-refresh/role']! });
  }
  managed.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
});

describe('the job, started as the CronJob starts it', () => {
  it('runs `refresh` with the certs from /etc/cap-certs and CAP settings from env', () => {
    expect(container.args).toEqual(['refresh', '--renew-before', '30m', '--retry-for', '20m']);
    expect(jobEnv.CAP_CERTS_DIR).toBe(join(work, 'cap-certs'));
    expect(jobEnv.CAP_CERT_FILE).toBeUndefined();
    expect(jobEnv.CAP_URL).toBe(cap.sim.url);
  });

  it.each([
    ['a PKCS#12 bundle and its passphrase', { 'client.p12': 'p12', passphrase: 'p12pass', 'tls.crt': '', 'tls.key': '' }],
    ['an encrypted key and its passphrase', { 'tls.crt': 'cert', 'tls.key': 'encryptedKey', passphrase: 'keypass' }],
  ] as const)('takes %s from the certs Secret, with no change to the CronJob', async (_, layout) => {
    const dir = await mkdtemp(join(work, 'certs-'));
    const contents: Record<string, string | Buffer> = {
      p12: await readFile(cap.files.p12),
      p12pass: await readFile(cap.files.p12Passphrase),
      cert: cap.pki.client.certPem,
      encryptedKey: await readFile(cap.files.encryptedKey),
      keypass: await readFile(cap.files.keyPassphrase),
    };
    // An empty key in the Secret is an empty file in the mount.
    for (const [key, what] of Object.entries(layout)) await writeFile(join(dir, key), what === '' ? '' : contents[what]!, { mode: 0o600 });
    await writeFile(join(dir, 'ca.crt'), cap.pki.ca.certPem);
    const result = await runCli([...(container.args ?? []), '--target', `${managed[0]!.namespace}/${managed[0]!.name}`, '--force', '--output', 'json'], {
      env: { ...jobEnv, CAP_CERTS_DIR: dir },
    });
    expect(result.stderr).not.toMatch(/"level":"error"/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).targets[0].result).toBe('refreshed');
    expect(result.stdout + result.stderr).not.toContain(KEY_PASSPHRASE);
    expect(result.stdout + result.stderr).not.toContain(P12_PASSPHRASE);
  });

  it('verifies CAP against the trusted bundle together with ca.crt, mounted as the kubelet mounts them; no key warning', async () => {
    const certs = await mkdtemp(join(work, 'kubelet-certs-'));
    const trusted = await mkdtemp(join(work, 'kubelet-trusted-'));
    // ca.crt holds a CA that did not sign CAP's certificate; the cluster's bundle holds the one that did.
    const files = { 'tls.crt': cap.pki.client.certPem, 'tls.key': cap.pki.client.keyPem, 'ca.crt': await readFile(cap.files.wrongCa, 'utf8') };
    await mountLikeKubelet(certs, files, 0o440);
    await mountLikeKubelet(trusted, { 'ca-bundle.crt': cap.pki.ca.certPem }, 0o644);
    const target = `${managed[0]!.namespace}/${managed[0]!.name}`;
    const env = { ...jobEnv, CAP_CERTS_DIR: certs, CAP_TRUSTED_CA_BUNDLE: String(jobEnv.CAP_TRUSTED_CA_BUNDLE).replace(trustedDir, trusted) };
    const ok = await runCli([...(container.args ?? []), '--target', target, '--force', '--output', 'json'], { env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).targets[0].result).toBe('refreshed');
    expect(ok.stderr).not.toMatch(/readable by every user/);

    // Without the bundle, the failure names both places a CA can go.
    const empty = await mkdtemp(join(work, 'kubelet-empty-'));
    const refused = await runCli([...(container.args ?? []), '--target', target, '--force', '--output', 'json'], {
      env: { ...env, CAP_TRUSTED_CA_BUNDLE: join(empty, 'ca-bundle.crt') },
    });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).targets[0].error).toMatch(
      /not signed by a trusted CA .*add the CA that issued it to ca\.crt of the cap-certs Secret .*or to the cluster's trusted bundle .*ConfigMap cap-trusted-ca-bundle/,
    );
    expect(refused.stderr).toMatch(/CAP_TRUSTED_CA_BUNDLE names \S+ca-bundle\.crt, which cannot be read/);

    // NODE_EXTRA_CA_CERTS is honoured too, not replaced by the given CA list.
    const extra = await runCli([...(container.args ?? []), '--target', target, '--force', '--output', 'json'], {
      env: { ...env, CAP_TRUSTED_CA_BUNDLE: '', NODE_EXTRA_CA_CERTS: join(trusted, 'ca-bundle.crt') },
    });
    expect(extra.code).toBe(0);
  });

  it('still warns when the key file itself (not its symlink) is readable by every user, worded for a pod', async () => {
    const certs = await mkdtemp(join(work, 'kubelet-loose-'));
    await mountLikeKubelet(certs, { 'tls.crt': cap.pki.client.certPem, 'tls.key': cap.pki.client.keyPem, 'ca.crt': cap.pki.ca.certPem }, 0o644);
    const r = await runCli([...(container.args ?? []), '--target', `${managed[0]!.namespace}/${managed[0]!.name}`, '--output', 'json'], {
      env: { ...jobEnv, CAP_CERTS_DIR: certs },
    });
    expect(r.stderr).toMatch(/tls\.key .*is readable by every user.*in a pod, mount the certs Secret with defaultMode 0440/);
  });

  it('keeps every managed Secret fresh over successive runs, and never rewrites one that is not due', async () => {
    expect(managed.length).toBe(6);

    // Run 1: every Secret (installed with empty keys) is due.
    const first = await runJob();
    expect(first.code).toBe(0);
    expect(results(first)).toEqual(managed.map((m) => `${m.namespace}/${m.name} ${m.role} refreshed`));
    const afterFirst = new Map(managed.map((m) => [m.name + m.namespace, kube.getSecret(m.namespace, m.name)!]));
    for (const s of afterFirst.values()) {
      const data = s.data as Record<string, string>;
      expect(Buffer.from(data.credentials!, 'base64').toString()).toMatch(
        /^\[default\]\naws_access_key_id = ASIA\w+\naws_secret_access_key = \S+\naws_session_token = FwoGZXIvYXdzE\S+\n$/,
      );
    }

    // Run 2, moments later: nothing is due, nothing is written, CAP is not called.
    const calls = cap.sim.calls.length;
    kube.clearRequests();
    const second = await runJob();
    expect(second.code).toBe(0);
    expect(results(second)).toEqual(managed.map((m) => `${m.namespace}/${m.name} ${m.role} fresh`));
    expect(cap.sim.calls.length).toBe(calls);
    expect(kube.requests.filter((q) => q.verb !== 'get' && q.verb !== 'list')).toEqual([]);

    // Run 3, as if 41 minutes had passed (both time annotations moved back; no waiting on the
    // wall clock): less than a third of the one-hour lifetime is left, so every Secret is due.
    for (const m of managed) ageSecret(m, 41);
    const third = await runJob();
    expect(third.code).toBe(0);
    expect(results(third)).toEqual(managed.map((m) => `${m.namespace}/${m.name} ${m.role} refreshed`));
    expect(cap.sim.calls.length).toBe(calls + managed.length);
    for (const m of managed) {
      const before = afterFirst.get(m.name + m.namespace)!;
      const now = kube.getSecret(m.namespace, m.name)!;
      // New credentials (CAP issues a new key every call); the expiration alone has whole
      // seconds, and runs 1 and 3 may well fall in the same second.
      expect((now.data as Record<string, string>).aws_access_key_id).not.toBe((before.data as Record<string, string>).aws_access_key_id);
      expect(now.metadata.annotations!['cap-token-refresh/expiration']).not.toBe(
        new Date(Date.parse(before.metadata.annotations!['cap-token-refresh/expiration']!) - 41 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      );
      expect(Date.parse(now.metadata.annotations!['cap-token-refresh/expiration']!)).toBeGreaterThan(Date.now());
    }
    // Runs 2 and 3 wrote each Secret once (run 3); every refresh of runs 1 and 3 left one Event.
    const writes = kube.requests.filter((q) => q.resource === 'secrets' && q.verb === 'update');
    expect(writes.map((w) => `${w.namespace}/${w.name}`).sort()).toEqual(managed.map((m) => `${m.namespace}/${m.name}`));
    const events = kube.listEvents().filter((e) => e.reason === 'CredentialsRefreshed');
    for (const m of managed)
      expect(
        events.filter(
          (e) =>
            (e.involvedObject as { name: string; namespace: string }).name === m.name && (e.involvedObject as { namespace: string }).namespace === m.namespace,
        ),
      ).toHaveLength(2);
    expect(events).toHaveLength(2 * managed.length);
  }, 30_000);

  it('leaks no credential into its output', () => {
    const text = JSON.stringify(outputs);
    expect(cap.sim.issued.length).toBeGreaterThanOrEqual(12);
    for (const c of cap.sim.issued) {
      expect(text).not.toContain(c.accessKeyId);
      expect(text).not.toContain(c.secretAccessKey);
      expect(text).not.toContain(c.sessionToken);
    }
  });
});

describe('in a pod: the service account token files', () => {
  function context(env: Record<string, string>): CommandContext {
    return {
      env,
      cwd: work,
      stdout: () => undefined,
      stderr: () => undefined,
      stderrIsTTY: false,
      now: () => new Date(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
      redactor: new Redactor(),
      readStdin: async () => Buffer.alloc(0),
    };
  }

  async function serviceAccountDir(): Promise<string> {
    const dir = await mkdtemp(join(work, 'serviceaccount-'));
    await writeFile(join(dir, 'token'), kube.token);
    await writeFile(join(dir, 'ca.crt'), kube.caPem);
    await writeFile(join(dir, 'namespace'), 'cap-token-refresh');
    return dir;
  }

  const settings = { policy: { renewBeforeMs: 0, force: false }, concurrency: 4, agency: 'A', mission: 'M' };
  const fakeCreds = {
    accessKeyId: 'ASIAINCLUSTERTEST0001',
    secretAccessKey: 'in-cluster-secret-key',
    sessionToken: 'in-cluster-session-token',
    expiration: new Date(Date.now() + 3_600_000),
  };

  it('connects with the mounted token and CA, with no kubeconfig anywhere', async () => {
    const saDir = await serviceAccountDir();
    const { port } = new URL(kube.url);
    const asked: string[] = [];
    const report = await refreshCluster(
      { target: ['openshift-machine-api/aws-cloud-credentials'] },
      settings,
      {
        fetchCredentials: async (q) => {
          asked.push(q.role);
          return fakeCreds;
        },
        now: () => new Date(),
        logger: silentLogger,
      },
      context({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port, HOME: join(work, 'no-home') }),
      { serviceAccountDir: saDir },
    );
    expect(report.targets).toEqual([
      {
        namespace: 'openshift-machine-api',
        name: 'aws-cloud-credentials',
        role: 'test-openshift-machine-api-aws-cloud-credentials',
        result: 'refreshed',
        expiration: fakeCreds.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    ]);
    expect(asked).toEqual(['test-openshift-machine-api-aws-cloud-credentials']);
    const data = kube.getSecret('openshift-machine-api', 'aws-cloud-credentials')!.data as Record<string, string>;
    expect(Buffer.from(data.aws_access_key_id!, 'base64').toString()).toBe('ASIAINCLUSTERTEST0001');
  });

  it('a mounted token without KUBERNETES_SERVICE_HOST is a configuration error naming both', async () => {
    const saDir = await serviceAccountDir();
    const attempt = refreshCluster(
      {},
      settings,
      { fetchCredentials: async () => fakeCreds, now: () => new Date(), logger: silentLogger },
      context({ HOME: join(work, 'no-home') }),
      { serviceAccountDir: saDir },
    );
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(`a service account token is mounted in ${saDir} but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set`);
    expect(kube.requests).toEqual([]);
  });
});
