// End-to-end: the built command (`npm run build` first) refreshing Secrets in a cluster, against
// the CAP simulator (mutual TLS) and the Kubernetes API test server, in real temporary folders.

import type { TargetReport as ReportTarget } from '../src/core/report.js';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { parseAllDocuments } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CapFixture } from './support/cap-fixture.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import type { KubeApiServer, KubeObject } from './support/kube-api-server.js';
import { FIXTURES, runCli, type CliResult } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';

const CCO = 'openshift-cloud-credential-operator';
/** The Secrets the release's AWS CredentialsRequests name (fixtures/oc-extract-aws), with a role each. */
const RELEASE_SECRETS = [
  { namespace: 'openshift-cloud-credential-operator', name: 'cloud-credential-operator-iam-ro-creds', role: 'ocp-cco-ro' },
  { namespace: 'openshift-cloud-network-config-controller', name: 'cloud-credentials', role: 'ocp-cncc' },
  { namespace: 'openshift-cluster-api', name: 'capa-manager-bootstrap-credentials', role: 'ocp-capa' },
  { namespace: 'openshift-cluster-csi-drivers', name: 'ebs-cloud-credentials', role: 'ocp-ebs' },
  { namespace: 'openshift-image-registry', name: 'installer-cloud-credentials', role: 'ocp-registry' },
  { namespace: 'openshift-ingress-operator', name: 'cloud-credentials', role: 'ocp-ingress' },
  { namespace: 'openshift-machine-api', name: 'aws-cloud-credentials', role: 'ocp-machine-api' },
];

let cap: CapFixture;
let kube: KubeApiServer;
let dir: string;
let kubeconfig: string;
const outputs: CliResult[] = [];
const eventsSeen: KubeObject[] = [];
const annotationsSeen: Record<string, string>[] = [];

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');
const report = (r: CliResult) => JSON.parse(r.stdout) as { targets: ReportTarget[] };
const key = (t: { namespace: string; name: string }) => `${t.namespace}/${t.name}`;

async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(['refresh', '--kubeconfig', kubeconfig, '--log-format', 'json', ...args], { env: { ...cap.env, ...env } });
  outputs.push(result);
  return result;
}

/** Every CredentialsRequest document of every fixture file, loaded as the cluster would hold it. */
async function loadCredentialsRequests(...folders: string[]): Promise<number> {
  let count = 0;
  for (const folder of folders) {
    for (const file of (await readdir(folder)).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of parseAllDocuments(await readFile(join(folder, file), 'utf8'))) {
        const object = doc.toJS() as KubeObject | null;
        if (object?.kind !== 'CredentialsRequest') continue;
        kube.putCredentialsRequest(object);
        count++;
      }
    }
  }
  return count;
}

function seedSecret(
  ref: { namespace: string; name: string; role?: string | undefined },
  extra: { annotations?: Record<string, string>; data?: Record<string, string> } = {},
): KubeObject {
  return kube.putSecret({
    metadata: {
      namespace: ref.namespace,
      name: ref.name,
      labels: { 'app.kubernetes.io/part-of': 'cluster', keep: 'label' },
      annotations: { 'keep.example.com/note': 'annotation', ...(ref.role ? { 'cap-token-refresh/role': ref.role } : {}), ...extra.annotations },
    },
    type: 'Opaque',
    data: { unrelated: b64('keep-me'), ...extra.data },
  });
}

function freshAnnotations(now = Date.now()): Record<string, string> {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { 'cap-token-refresh/refreshed-at': iso(now - 5 * 60_000), 'cap-token-refresh/expiration': iso(now + 55 * 60_000) };
}

/** A Secret as a refresh for its own role left it: fresh annotations, the issued role and data that serves. */
function refreshedFor(role: string | undefined, now = Date.now()): { annotations: Record<string, string>; data: Record<string, string> } {
  const ini = '[default]\naws_access_key_id = ASIAEARLIERWRITE0001\naws_secret_access_key = earlier\naws_session_token = earlier\n';
  return {
    annotations: { ...freshAnnotations(now), ...(role ? { 'cap-token-refresh/issued-role': role } : {}) },
    data: { aws_access_key_id: b64('ASIAEARLIERWRITE0001'), aws_secret_access_key: b64('earlier'), credentials: b64(ini) },
  };
}

const writes = () => kube.requests.filter((r) => r.resource === 'secrets' && (r.verb === 'update' || r.verb === 'patch'));

async function credentialsIni(secret: KubeObject): Promise<Record<string, string | undefined>> {
  const file = join(dir, `credentials-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, unb64((secret.data as Record<string, string>).credentials));
  const { credentialsFile } = await loadSharedConfigFiles({ filepath: file, configFilepath: join(dir, 'no-config'), ignoreCache: true });
  return (credentialsFile as Record<string, Record<string, string | undefined>>).default ?? {};
}

let fixture: ClusterFixture | undefined;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-cluster-');
  ({ cap, kube, dir, kubeconfig } = fixture);
});

afterAll(async () => {
  await fixture?.stop();
});

beforeEach(() => {
  kube.reset();
});

afterEach(() => {
  eventsSeen.push(...kube.listEvents());
  for (const s of kube.listSecrets()) annotationsSeen.push(s.metadata.annotations ?? {});
});

describe('targets discovered from CredentialsRequests', () => {
  it('reads every fixture CredentialsRequest and keeps the AWS ones not being deleted, each Secret once', async () => {
    const loaded = await loadCredentialsRequests(join(FIXTURES, 'credentials-requests'), join(FIXTURES, 'oc-extract-aws'));
    expect(loaded).toBeGreaterThan(40);
    kube.putCredentialsRequest({
      apiVersion: 'cloudcredential.openshift.io/v1',
      kind: 'CredentialsRequest',
      metadata: { namespace: CCO, name: 'removed-by-release', annotations: { 'release.openshift.io/delete': 'true' } },
      spec: {
        secretRef: { namespace: 'openshift-old', name: 'old-credentials' },
        providerSpec: { apiVersion: 'cloudcredential.openshift.io/v1', kind: 'AWSProviderSpec', statementEntries: [] },
      },
    });
    const secrets = [
      ...RELEASE_SECRETS,
      { namespace: 'openshift-cloud-controller-manager', name: 'cloud-controller-manager-credentials', role: 'ocp-ccm' },
      { namespace: 'openshift-cluster-csi-drivers', name: 'node-aws-efs-cloud-credentials', role: 'ocp-efs-node' },
    ];
    for (const s of secrets) seedSecret(s);

    const r = await run(['--output', 'json']);
    const targets = report(r).targets;
    expect(targets.map(key)).toEqual([
      '${NAMESPACE}/aws-efs-cloud-credentials',
      'openshift-cloud-controller-manager/cloud-controller-manager-credentials',
      'openshift-cloud-credential-operator/cloud-credential-operator-iam-ro-creds',
      'openshift-cloud-network-config-controller/cloud-credentials',
      'openshift-cluster-api/capa-manager-bootstrap-credentials',
      'openshift-cluster-csi-drivers/ebs-cloud-credentials',
      'openshift-cluster-csi-drivers/node-aws-efs-cloud-credentials',
      'openshift-image-registry/installer-cloud-credentials',
      'openshift-ingress-operator/cloud-credentials',
      'openshift-machine-api/aws-cloud-credentials',
    ]);
    // GCP, Azure, OpenStack, ... requests name Secrets too (azure-cloud-credentials, ...): none is a target.
    expect(targets.some((t) => t.name.includes('azure') || t.name.includes('gcp') || t.namespace === 'openshift-old')).toBe(false);
    const templated = targets[0]!;
    expect(templated.result).toBe('failed');
    expect(templated.error).toContain(
      'the CredentialsRequest openshift-aws-efs-csi-driver names the Secret "${NAMESPACE}/aws-efs-cloud-credentials" in spec.secretRef',
    );
    expect(targets.slice(1).map((t) => t.result)).toEqual(Array(9).fill('refreshed'));
    expect(r.code).toBe(1);
    // One CAP call per role; the list went to the operator's namespace, through the real API path.
    expect(
      cap.sim.calls
        .slice(-9)
        .map((c) => c.role)
        .sort(),
    ).toEqual(secrets.map((s) => s.role).sort());
    expect(kube.requests.find((q) => q.resource === 'credentialsrequests')).toMatchObject({
      verb: 'list',
      namespace: CCO,
      path: `/apis/cloudcredential.openshift.io/v1/namespaces/${CCO}/credentialsrequests`,
      status: 200,
    });
  });
});

describe('refreshing the release Secrets', () => {
  beforeEach(async () => {
    await loadCredentialsRequests(join(FIXTURES, 'oc-extract-aws'));
  });

  it('writes every due Secret: the three keys, the annotations and the label; everything else as it was', async () => {
    const before = RELEASE_SECRETS.map((s) => seedSecret(s));
    const callsBefore = cap.sim.calls.length;
    const issuedBefore = cap.sim.issued.length;
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(0);
    const targets = report(r).targets;
    expect(targets.map((t) => [key(t), t.role, t.result])).toEqual(RELEASE_SECRETS.map((s) => [key(s), s.role, 'refreshed']));
    expect(cap.sim.calls.length - callsBefore).toBe(RELEASE_SECRETS.length);
    const issued = cap.sim.issued.slice(issuedBefore);
    const calls = cap.sim.calls.slice(callsBefore);
    expect(calls.every((c) => c.agency === 'TEST-AGENCY' && c.mission === 'TEST-MISSION')).toBe(true);

    for (const [i, ref] of RELEASE_SECRETS.entries()) {
      const secret = kube.getSecret(ref.namespace, ref.name)!;
      const creds = issued[calls.findIndex((c) => c.role === ref.role)]!;
      const data = secret.data as Record<string, string>;
      expect(Object.keys(data).sort()).toEqual(['aws_access_key_id', 'aws_secret_access_key', 'credentials', 'unrelated']);
      expect(unb64(data.unrelated)).toBe('keep-me');
      expect(unb64(data.aws_access_key_id)).toBe(creds.accessKeyId);
      expect(unb64(data.aws_secret_access_key)).toBe(creds.secretAccessKey);
      expect(await credentialsIni(secret)).toEqual({
        aws_access_key_id: creds.accessKeyId,
        aws_secret_access_key: creds.secretAccessKey,
        aws_session_token: creds.sessionToken,
      });
      expect(secret.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'cluster', keep: 'label', 'cap-token-refresh/managed': 'true' });
      const { 'cap-token-refresh/refreshed-at': refreshedAt, ...annotations } = secret.metadata.annotations ?? {};
      expect(annotations).toEqual({
        'keep.example.com/note': 'annotation',
        'cap-token-refresh/role': ref.role,
        'cap-token-refresh/issued-role': ref.role,
        'cap-token-refresh/expiration': creds.expiration,
      });
      expect(Math.abs(Date.parse(refreshedAt!) - Date.now())).toBeLessThan(60_000);
      expect(targets[i]!.expiration).toBe(creds.expiration);
      expect(secret.metadata.uid).toBe(before[i]!.metadata.uid);
      expect(secret.type).toBe('Opaque');
    }
    // Each update carried the resourceVersion that was read: one PUT per Secret, no conflict.
    expect(writes().map((w) => [w.method, w.status])).toEqual(RELEASE_SECRETS.map(() => ['PUT', 200]));
  });

  it('records a Normal Event per refreshed Secret, naming the role and the last four characters of the key only', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    const issuedBefore = cap.sim.issued.length;
    const r = await run([]);
    expect(r.code).toBe(0);
    const events = kube.listEvents();
    expect(events).toHaveLength(RELEASE_SECRETS.length);
    for (const ref of RELEASE_SECRETS) {
      const secret = kube.getSecret(ref.namespace, ref.name)!;
      const keyId = unb64((secret.data as Record<string, string>).aws_access_key_id);
      const event = events.find(
        (e) =>
          (e.involvedObject as { namespace: string; name: string }).namespace === ref.namespace && (e.involvedObject as { name: string }).name === ref.name,
      )!;
      expect(event).toMatchObject({
        type: 'Normal',
        reason: 'CredentialsRefreshed',
        involvedObject: { kind: 'Secret', apiVersion: 'v1', namespace: ref.namespace, name: ref.name, uid: secret.metadata.uid },
        source: { component: 'cap-token-refresh' },
        metadata: { namespace: ref.namespace },
      });
      expect(event.message).toBe(
        `Refreshed AWS credentials for role ${ref.role} (access key …${keyId.slice(-4)}); they expire at ${secret.metadata.annotations?.['cap-token-refresh/expiration']}`,
      );
    }
    const issued = cap.sim.issued.slice(issuedBefore);
    const text = JSON.stringify(events);
    for (const c of issued) {
      expect(text).not.toContain(c.accessKeyId);
      expect(text).not.toContain(c.secretAccessKey);
      expect(text).not.toContain(c.sessionToken);
    }
  });

  it('a second run with nothing due changes nothing and calls CAP zero times', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    const first = await run([]);
    expect(first.code).toBe(0);
    const versions = RELEASE_SECRETS.map((s) => kube.getSecret(s.namespace, s.name)!.metadata.resourceVersion);
    const globalVersion = kube.resourceVersion;
    const callsBefore = cap.sim.calls.length;
    kube.clearRequests();

    const second = await run(['--output', 'json']);
    expect(second.code).toBe(0);
    expect(report(second).targets.map((t) => t.result)).toEqual(RELEASE_SECRETS.map(() => 'fresh'));
    expect(cap.sim.calls.length).toBe(callsBefore);
    expect(RELEASE_SECRETS.map((s) => kube.getSecret(s.namespace, s.name)!.metadata.resourceVersion)).toEqual(versions);
    expect(kube.resourceVersion).toBe(globalVersion); // no write of any kind, Events included
    expect(kube.requests.filter((q) => q.verb !== 'get' && q.verb !== 'list')).toEqual([]);
  });

  it('refreshes only the Secret whose last third of lifetime has begun', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const s of RELEASE_SECRETS) seedSecret(s, refreshedFor(s.role, now));
    const [dueRef] = RELEASE_SECRETS;
    const seeded = refreshedFor(dueRef!.role, now);
    seedSecret(dueRef!, {
      ...seeded,
      annotations: { ...seeded.annotations, 'cap-token-refresh/refreshed-at': iso(now - 50 * 60_000), 'cap-token-refresh/expiration': iso(now + 10 * 60_000) },
    });
    const callsBefore = cap.sim.calls.length;
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(0);
    expect(
      report(r)
        .targets.filter((t) => t.result === 'refreshed')
        .map(key),
    ).toEqual([key(dueRef!)]);
    expect(cap.sim.calls.slice(callsBefore).map((c) => c.role)).toEqual([dueRef!.role]);
    expect(writes()).toHaveLength(1);
  });

  it('refreshes Secrets that only look fresh: emptied, seeded by fill, re-roled; then leaves them alone', async () => {
    const now = Date.now();
    for (const s of RELEASE_SECRETS) seedSecret(s, refreshedFor(s.role, now));
    const [emptied, seededRef, reroled] = RELEASE_SECRETS;
    const fresh = refreshedFor(emptied!.role, now);
    // Applying the generated manifests again empties the data and keeps the annotations.
    seedSecret(emptied!, { annotations: fresh.annotations, data: { aws_access_key_id: '', aws_secret_access_key: '', credentials: '' } });
    const { 'cap-token-refresh/issued-role': _, ...seededAnnotations } = refreshedFor(seededRef!.role, now).annotations;
    seedSecret(seededRef!, { ...refreshedFor(seededRef!.role, now), annotations: seededAnnotations });
    seedSecret(reroled!, { ...refreshedFor(reroled!.role, now), annotations: { ...refreshedFor('the-seed-role', now).annotations } });
    const callsBefore = cap.sim.calls.length;
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(0);
    const due = [emptied!, seededRef!, reroled!];
    expect(
      report(r)
        .targets.filter((t) => t.result === 'refreshed')
        .map(key)
        .sort(),
    ).toEqual(due.map(key).sort());
    expect(
      cap.sim.calls
        .slice(callsBefore)
        .map((c) => c.role)
        .sort(),
    ).toEqual(due.map((d) => d.role).sort());
    for (const d of due) expect(kube.getSecret(d.namespace, d.name)!.metadata.annotations?.['cap-token-refresh/issued-role']).toBe(d.role);
    const second = await run(['--output', 'json']);
    expect(report(second).targets.map((t) => t.result)).toEqual(RELEASE_SECRETS.map(() => 'fresh'));
  });
});

describe('conflicts', () => {
  const target = RELEASE_SECRETS[6]!; // openshift-machine-api/aws-cloud-credentials

  it('retries a 409 caused by a concurrent writer on the Secret as it is now, keeping that writer’s change', async () => {
    seedSecret(target);
    let bumped = 0;
    kube.onBeforeWrite((req) => {
      if (req.resource !== 'secrets' || bumped > 0) return;
      bumped++;
      const current = kube.getSecret(target.namespace, target.name)!;
      kube.putSecret({ ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, 'other-writer': 'was-here' } } });
    });
    const r = await run(['--target', key(target), '--output', 'json']);
    expect(r.code).toBe(0);
    expect(report(r).targets).toEqual([
      { namespace: target.namespace, name: target.name, role: target.role, result: 'refreshed', expiration: expect.any(String) },
    ]);
    expect(writes().map((w) => w.status)).toEqual([409, 200]);
    const secret = kube.getSecret(target.namespace, target.name)!;
    expect(secret.metadata.labels?.['other-writer']).toBe('was-here');
    expect(unb64((secret.data as Record<string, string>).aws_access_key_id)).toBe(cap.sim.issued.at(-1)!.accessKeyId);
  });

  it('does not write a Secret that another writer refreshed meanwhile (never twice for one due period)', async () => {
    seedSecret(target);
    let bumped = 0;
    const { annotations: theirs, data: theirData } = refreshedFor(target.role);
    kube.onBeforeWrite((req) => {
      if (req.resource !== 'secrets' || bumped > 0) return;
      bumped++;
      const current = kube.getSecret(target.namespace, target.name)!;
      kube.putSecret({
        ...current,
        metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, ...theirs } },
        data: { ...(current.data as Record<string, string>), ...theirData, aws_access_key_id: b64('ASIAOTHERWRITER0001') },
      });
    });
    const r = await run(['--target', key(target), '--output', 'json']);
    expect(r.code).toBe(0);
    const [entry] = report(r).targets;
    expect(entry!.result).toBe('fresh');
    expect(entry!.expiration).toBe(theirs['cap-token-refresh/expiration']);
    expect(writes().map((w) => w.status)).toEqual([409]);
    expect(unb64((kube.getSecret(target.namespace, target.name)!.data as Record<string, string>).aws_access_key_id)).toBe('ASIAOTHERWRITER0001');
    expect(kube.listEvents()).toEqual([]);
  });

  it('fails a Secret whose role annotation changed meanwhile, leaves it as it is, with a Warning Event (as on disk)', async () => {
    seedSecret(target);
    kube.onBeforeWrite((req) => {
      if (req.resource !== 'secrets' || writes().length > 1) return;
      const current = kube.getSecret(target.namespace, target.name)!;
      kube.putSecret({
        ...current,
        metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, 'cap-token-refresh/role': 'ocp-new-role' } },
      });
    });
    const r = await run(['--target', key(target), '--output', 'json']);
    expect(r.code).toBe(1);
    expect(report(r).targets).toEqual([
      {
        namespace: target.namespace,
        name: target.name,
        role: target.role,
        result: 'failed',
        expiration: null,
        error:
          'the cap-token-refresh/role annotation of Secret openshift-machine-api/aws-cloud-credentials changed while it was being refreshed (now "ocp-new-role"); ' +
          'it was left as it is, the next run uses the new annotation',
      },
    ]);
    expect(writes().map((w) => w.status)).toEqual([409]);
    const secret = kube.getSecret(target.namespace, target.name)!;
    expect(secret.metadata.annotations?.['cap-token-refresh/expiration']).toBeUndefined();
    expect((secret.data as Record<string, string>).aws_access_key_id).toBeUndefined();
    expect(kube.listEvents().map((e) => [e.type, e.reason])).toEqual([['Warning', 'CredentialsRefreshFailed']]);
  });

  it('fails only the Secret that answers 409 on every try, with a clear message', async () => {
    await loadCredentialsRequests(join(FIXTURES, 'oc-extract-aws'));
    for (const s of RELEASE_SECRETS) seedSecret(s);
    kube.failNext({ status: 409, count: Infinity, match: (q) => q.resource === 'secrets' && q.verb === 'update' && q.namespace === target.namespace });
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(1);
    const targets = report(r).targets;
    const failed = targets.find((t) => key(t) === key(target))!;
    expect(failed.result).toBe('failed');
    expect(failed.error).toBe(
      'Secret openshift-machine-api/aws-cloud-credentials changed every time it was written (HTTP 409 Conflict on 5 attempts): another writer keeps updating it; ' +
        'check that nothing else manages it (a second cap-token-refresh job?); it was left as it is and the next run will try again',
    );
    expect(targets.filter((t) => t !== failed).map((t) => t.result)).toEqual(Array(6).fill('refreshed'));
    expect(
      writes()
        .filter((w) => w.namespace === target.namespace)
        .map((w) => w.status),
    ).toEqual([409, 409, 409, 409, 409]);
    expect(kube.getSecret(target.namespace, target.name)!.metadata.annotations?.['cap-token-refresh/expiration']).toBeUndefined();
  });
});

describe('failed targets', () => {
  beforeEach(async () => {
    await loadCredentialsRequests(join(FIXTURES, 'oc-extract-aws'));
  });

  it('a forbidden namespace fails only its target, with the RBAC cure, and a Warning Event where one can be recorded', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    kube.deny({ namespace: 'openshift-ingress-operator' });
    kube.deny({ namespace: 'openshift-image-registry', resource: 'secrets', verb: 'update' });
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(1);
    const byKey = new Map(report(r).targets.map((t) => [key(t), t]));
    expect(byKey.get('openshift-ingress-operator/cloud-credentials')).toMatchObject({
      result: 'failed',
      role: null,
      error:
        "not allowed to read Secret openshift-ingress-operator/cloud-credentials (HTTP 403 Forbidden): the job's service account needs a Role in namespace openshift-ingress-operator " +
        'allowing get and update on secrets with resourceNames [cloud-credentials], bound to it by a RoleBinding (manifests/ has them; check with: ' +
        'oc auth can-i update secret/cloud-credentials -n openshift-ingress-operator --as system:serviceaccount:cap-token-refresh:cap-token-refresh)',
    });
    expect(byKey.get('openshift-image-registry/installer-cloud-credentials')).toMatchObject({ result: 'failed', role: 'ocp-registry' });
    expect(byKey.get('openshift-image-registry/installer-cloud-credentials')!.error).toMatch(
      /^not allowed to update Secret openshift-image-registry\/installer-cloud-credentials \(HTTP 403 Forbidden\): the job's service account needs a Role in namespace openshift-image-registry allowing get and update on secrets with resourceNames \[installer-cloud-credentials\]/,
    );
    expect([...byKey.values()].filter((t) => t.result === 'refreshed')).toHaveLength(5);
    // The API server's own wording ("... is forbidden: User ... cannot ...") is never shown.
    expect(r.stdout + r.stderr).not.toMatch(/is forbidden|cannot get resource|cannot update resource/);
    const warnings = kube.listEvents().filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => (e.involvedObject as { namespace: string }).namespace)).toEqual(['openshift-image-registry']);
    expect(warnings[0]).toMatchObject({ reason: 'CredentialsRefreshFailed' });
    expect(String(warnings[0]!.message)).toMatch(/^Could not refresh AWS credentials for role ocp-registry: not allowed to update Secret/);
    // The Event that could not be recorded in the forbidden namespace is a warning in the log, nothing more.
    expect(r.stderr).toContain('could not record the CredentialsRefreshFailed Event on the Secret (HTTP 403');
  });

  it('reports a missing Secret and a Secret without a role with what to apply or annotate', async () => {
    for (const s of RELEASE_SECRETS.filter((s) => s.namespace !== 'openshift-machine-api'))
      seedSecret(s.namespace === 'openshift-image-registry' ? { ...s, role: undefined } : s);
    const unmanagedVersion = kube.getSecret('openshift-image-registry', 'installer-cloud-credentials')!.metadata.resourceVersion;
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(1);
    const byKey = new Map(report(r).targets.map((t) => [key(t), t]));
    expect(byKey.get('openshift-machine-api/aws-cloud-credentials')).toEqual({
      namespace: 'openshift-machine-api',
      name: 'aws-cloud-credentials',
      role: null,
      result: 'failed',
      expiration: null,
      error:
        'Secret openshift-machine-api/aws-cloud-credentials does not exist; apply its manifest: oc apply -f manifests/cap-machine-api*-secret.yaml (with the role filled in), ' +
        'or create it with the annotation cap-token-refresh/role: oc create secret generic aws-cloud-credentials -n openshift-machine-api && oc annotate secret -n openshift-machine-api aws-cloud-credentials cap-token-refresh/role=ROLE',
    });
    expect(byKey.get('openshift-image-registry/installer-cloud-credentials')).toEqual({
      namespace: 'openshift-image-registry',
      name: 'installer-cloud-credentials',
      role: null,
      result: 'failed',
      expiration: null,
      error:
        'Secret openshift-image-registry/installer-cloud-credentials has no cap-token-refresh/role annotation, so cap-token-refresh does not know which IAM role to ask CAP for; ' +
        'annotate it: oc annotate secret -n openshift-image-registry installer-cloud-credentials cap-token-refresh/role=ROLE',
    });
    expect([...byKey.values()].filter((t) => t.result === 'refreshed')).toHaveLength(5);
    // The unmanaged Secret was not touched.
    expect(kube.getSecret('openshift-image-registry', 'installer-cloud-credentials')!.metadata.resourceVersion).toBe(unmanagedVersion);
    expect(writes().map((w) => `${w.namespace}/${w.name}`)).not.toContain('openshift-image-registry/installer-cloud-credentials');
  });

  it('422 and 500 on update fail their targets without the server text; the others are refreshed', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    const serverText = 'SERVER-SIDE-DETAIL-that-must-not-leak';
    kube.failNext({ status: 422, match: (q) => q.verb === 'update' && q.namespace === 'openshift-machine-api', message: serverText });
    kube.failNext({
      status: 500,
      count: Number.POSITIVE_INFINITY,
      match: (q) => q.verb === 'update' && q.namespace === 'openshift-cluster-api',
      message: serverText,
    });
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(1);
    const byKey = new Map(report(r).targets.map((t) => [key(t), t]));
    expect(byKey.get('openshift-machine-api/aws-cloud-credentials')!.error).toMatch(
      /^the API server refused the update of Secret openshift-machine-api\/aws-cloud-credentials as invalid \(HTTP 422.*\); check that the Secret is not immutable/,
    );
    expect(byKey.get('openshift-cluster-api/capa-manager-bootstrap-credentials')!.error).toMatch(
      /^the API server failed \(HTTP 500.*\) while trying to update Secret openshift-cluster-api\/capa-manager-bootstrap-credentials; the next run will try again/,
    );
    expect([...byKey.values()].filter((t) => t.result === 'refreshed')).toHaveLength(5);
    expect(r.stdout + r.stderr).not.toContain(serverText);
    expect(JSON.stringify(kube.listEvents())).not.toContain(serverText);
  });

  it('a short burst (three 503s, then a 429 with Retry-After) is ridden out within the run: every target refreshed, exit 0', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    kube.failNext({ status: 503, count: 3, match: (q) => q.resource === 'credentialsrequests' });
    kube.failNext({ status: 429, count: 1, match: (q) => q.verb === 'update' && q.namespace === 'openshift-machine-api', retryAfterSeconds: 1 });
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(0);
    expect(report(r).targets.every((t) => t.result === 'refreshed')).toBe(true);
    const lists = kube.requests.filter((q) => q.resource === 'credentialsrequests');
    expect(lists.map((q) => q.status)).toEqual([503, 503, 503, 200]);
    const updates = kube.requests.filter((q) => q.verb === 'update' && q.namespace === 'openshift-machine-api');
    expect(updates.map((q) => q.status)).toEqual([429, 200]);
    expect(updates[1]!.at - updates[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('a 500 while reading fails that target only', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    kube.failNext({ status: 503, count: Number.POSITIVE_INFINITY, match: (q) => q.verb === 'get' && q.namespace === 'openshift-cluster-csi-drivers' });
    const r = await run(['--output', 'json']);
    expect(r.code).toBe(1);
    const failed = report(r).targets.filter((t) => t.result === 'failed');
    expect(failed.map(key)).toEqual(['openshift-cluster-csi-drivers/ebs-cloud-credentials']);
    expect(failed[0]!.error).toMatch(/^the API server failed \(HTTP 503.*\) while trying to read Secret openshift-cluster-csi-drivers\/ebs-cloud-credentials/);
  });
});

describe('--target', () => {
  it('refreshes exactly the Secrets named, without listing CredentialsRequests', async () => {
    for (const s of RELEASE_SECRETS) seedSecret(s);
    const [a, b] = [RELEASE_SECRETS[0]!, RELEASE_SECRETS[5]!];
    const r = await run(['--target', key(a), '--target', key(b), '--target', key(a), '--output', 'json']);
    expect(r.code).toBe(0);
    expect(report(r).targets.map((t) => [key(t), t.result])).toEqual([
      [key(a), 'refreshed'],
      [key(b), 'refreshed'],
    ]);
    expect(kube.requests.some((q) => q.resource === 'credentialsrequests')).toBe(false);
    expect(
      writes()
        .map((w) => `${w.namespace}/${w.name}`)
        .sort(),
    ).toEqual([key(a), key(b)].sort());
  });

  it('a malformed --target is a usage error before any request', async () => {
    const callsBefore = cap.sim.calls.length;
    const r = await run(['--target', 'no-slash', '--target', 'Bad/Name']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --target "no-slash" is not NAMESPACE/NAME');
    expect(r.stderr).toContain('--target "Bad/Name" is not NAMESPACE/NAME');
    expect(kube.requests).toEqual([]);
    expect(cap.sim.calls.length).toBe(callsBefore);
  });
});

describe('the report and the exit status', () => {
  it('--output json has namespace, name, role, result, expiration and, when failed, error', async () => {
    const [ok, noRole] = [RELEASE_SECRETS[0]!, RELEASE_SECRETS[1]!];
    seedSecret(ok);
    seedSecret({ ...noRole, role: undefined });
    const r = await run(['--target', key(ok), '--target', key(noRole), '--output', 'json']);
    expect(r.code).toBe(1);
    const parsed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['targets']);
    const [first, second] = report(r).targets;
    expect(Object.keys(first!).sort()).toEqual(['expiration', 'name', 'namespace', 'result', 'role']);
    expect(first).toEqual({ namespace: ok.namespace, name: ok.name, role: ok.role, result: 'refreshed', expiration: cap.sim.issued.at(-1)!.expiration });
    expect(Object.keys(second!).sort()).toEqual(['error', 'expiration', 'name', 'namespace', 'result', 'role']);
    expect(second).toMatchObject({ result: 'failed', role: null, expiration: null });
  });

  it('the table names each target and ends with the failures; exit 0 only when none failed', async () => {
    const [ok, missing] = [RELEASE_SECRETS[0]!, RELEASE_SECRETS[1]!];
    seedSecret(ok);
    const good = await run(['--target', key(ok)]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(new RegExp(`^TARGET +ROLE +RESULT +EXPIRES IN\\n${key(ok)} +${ok.role} +refreshed +`));
    const bad = await run(['--target', key(ok), '--target', key(missing)]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`1 of 2 target(s) failed:\n  ${key(missing)}: Secret ${key(missing)} does not exist`);
  });
});

describe('configuration errors come before any request', () => {
  async function expectConfigError(args: string[], env: Record<string, string>, message: string | RegExp) {
    const callsBefore = cap.sim.calls.length;
    const result = await runCli(['refresh', ...args], { env: { ...cap.env, ...env } });
    outputs.push(result);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(3);
    expect(kube.requests).toEqual([]);
    expect(cap.sim.calls.length).toBe(callsBefore);
  }

  it('a missing --kubeconfig file', async () => {
    await expectConfigError(
      ['--kubeconfig', join(dir, 'nope')],
      {},
      `error: the kubeconfig ${join(dir, 'nope')} (--kubeconfig) does not exist; pass the path of an existing kubeconfig`,
    );
  });

  it('an unknown --context lists the known ones', async () => {
    await expectConfigError(
      ['--kubeconfig', kubeconfig, '--context', 'prod'],
      {},
      `error: the context prod (--context) is not in the kubeconfig ${kubeconfig}; use one of: test`,
    );
  });

  it('a kubeconfig that is not YAML is named, without quoting it', async () => {
    const bad = join(dir, 'bad-kubeconfig');
    await writeFile(bad, 'users:\n- name: u\n  user:\n    token: TOKEN-THAT-MUST-NOT-LEAK\n   broken: [\n');
    await expectConfigError(
      [],
      { KUBECONFIG: bad },
      new RegExp(`error: the kubeconfig ${bad} \\(KUBECONFIG\\) cannot be used: it is not valid YAML \\(line \\d+\\)`),
    );
    expect(outputs.at(-1)!.stderr).not.toContain('TOKEN-THAT-MUST-NOT-LEAK');
  });

  it('a kubeconfig that skips TLS verification is refused', async () => {
    const insecure = join(dir, 'insecure-kubeconfig');
    await writeFile(insecure, (await readFile(kubeconfig, 'utf8')).replace(/certificate-authority-data: .*/, 'insecure-skip-tls-verify: true'));
    await expectConfigError(
      ['--kubeconfig', insecure],
      {},
      /sets insecure-skip-tls-verify; cap-token-refresh writes credentials only over a verified connection/,
    );
  });

  it('no configuration anywhere', async () => {
    const home = await makeTempDir('ctr-home-');
    await expectConfigError(
      [],
      { HOME: home },
      /error: no Kubernetes configuration found: not in a pod .*KUBECONFIG is not set, and .*\.kube\/config does not exist/,
    );
    await rm(home, { recursive: true, force: true });
  });

  it('~/.kube/config is used when nothing else is given', async () => {
    const home = await makeTempDir('ctr-home-');
    await mkdir(join(home, '.kube'));
    await kube.writeKubeconfig(join(home, '.kube'), 'config');
    seedSecret(RELEASE_SECRETS[0]!);
    const r = await runCli(['refresh', '--target', key(RELEASE_SECRETS[0]!), '--output', 'json'], { env: { ...cap.env, HOME: home } });
    outputs.push(r);
    expect(r.code).toBe(0);
    expect(report(r).targets[0]!.result).toBe('refreshed');
    await rm(home, { recursive: true, force: true });
  });
});

describe('no secret leaves the process', () => {
  it('no issued access key id, secret key or session token in any output, Event or annotation of this file', () => {
    expect(cap.sim.issued.length).toBeGreaterThan(30);
    const text = JSON.stringify({ outputs, eventsSeen, annotationsSeen });
    expect(eventsSeen.length).toBeGreaterThan(10);
    for (const c of cap.sim.issued) {
      expect(text).not.toContain(c.accessKeyId);
      expect(text).not.toContain(c.secretAccessKey);
      expect(text).not.toContain(c.sessionToken);
    }
  });
});
