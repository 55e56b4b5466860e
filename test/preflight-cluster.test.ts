// `cap-token-refresh preflight` against a cluster: the command, run in process, and the Kubernetes API test server,
// which holds the current release's CredentialsRequests, the Secrets and RBAC generate wrote, and the CCO config.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type KubeApiServer, type KubeObject, startKubeApiServer } from './support/kube-api-server.js';
import { FIXTURES } from './support/fixtures.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

const requests = join(FIXTURES, 'credentials-requests');
const UPGRADEABLE_TO = 'cloudcredential.openshift.io/upgradeable-to';
let kube: KubeApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startKubeApiServer();
  dir = await makeTempDir('cap-preflight-cluster-');
  kubeconfig = await kube.writeKubeconfig(dir);
});
afterAll(async () => {
  await kube.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => kube.reset());

async function objectsOf(files: string[]): Promise<KubeObject[]> {
  const texts = await Promise.all(files.map((file) => readFile(file, 'utf8')));
  return texts.flatMap((text) => parseAllDocuments(text).map((doc) => doc.toJS() as KubeObject | null)).filter((o): o is KubeObject => o !== null);
}

/** A cluster running `from`: its AWS CredentialsRequests, and what generate wrote for them applied. next/ holds `to`. */
async function cluster(from: string[], to: string[], annotation?: string, ...generateFlags: string[]): Promise<string> {
  const work = await mkdtemp(join(dir, 'run-'));
  await mkdir(join(work, 'from'));
  await mkdir(join(work, 'next'));
  for (const file of from) await copyFile(join(requests, file), join(work, 'from', file));
  for (const file of to) await copyFile(join(requests, file), join(work, 'next', file));
  const generated = await runInProcess(['generate', '--credentials-requests', 'from', '--out', 'manifests', '--cluster-name', 'c1', ...generateFlags], {
    cwd: work,
  });
  expect(generated.code).toBe(0);
  for (const object of await objectsOf(from.map((f) => join(work, 'from', f)))) {
    if (object.kind === 'CredentialsRequest' && (object.spec as { providerSpec?: { kind?: string } }).providerSpec?.kind === 'AWSProviderSpec') {
      kube.putCredentialsRequest(object);
    }
  }
  const manifests = (await readdir(join(work, 'manifests'))).map((f) => join(work, 'manifests', f));
  for (const object of await objectsOf(manifests)) {
    if (['Secret', 'Role', 'RoleBinding'].includes(object.kind ?? '')) kube.putObject(object as KubeObject & { kind: string });
  }
  kube.putObject({
    apiVersion: 'operator.openshift.io/v1',
    kind: 'CloudCredential',
    metadata: { name: 'cluster', ...(annotation ? { annotations: { [UPGRADEABLE_TO]: annotation } } : {}) },
    spec: { credentialsMode: 'Manual' },
  } as KubeObject & { kind: string });
  return work;
}

const RELEASE_PAIRS = [
  {
    from: 'machine-api-operator.release-4.8.yaml',
    to: 'machine-api-operator.release-4.12.yaml',
    secret: 'aws-cloud-credentials',
    added: ['ec2:DescribeRegions'],
    removed: [],
    flags: [] as string[],
    generate: [] as string[],
  },
  {
    from: 'machine-api-operator.release-4.12.yaml',
    to: 'machine-api-operator.yaml',
    secret: 'aws-cloud-credentials',
    added: ['ec2:AllocateHosts'],
    removed: [],
    flags: [],
    generate: [],
  },
  {
    from: 'aws-ebs-csi-driver-operator.release-4.10.yaml',
    to: 'aws-ebs-csi-driver-operator.yaml',
    secret: 'ebs-cloud-credentials',
    added: ['ec2:LockSnapshot'],
    removed: [],
    flags: [],
    generate: [],
  },
  {
    from: 'cluster-api.release-4.16.yaml',
    to: 'cluster-api.yaml',
    secret: 'capa-manager-bootstrap-credentials',
    added: ['ec2:AllocateHosts'],
    removed: ['iam:CreateServiceLinkedRole'],
    flags: ['--include-tech-preview', '--feature-gates', 'ClusterAPIMachineManagement,ClusterAPIMachineManagementAWS'],
    generate: ['--include-tech-preview'],
  },
];

interface Entry {
  secret: { namespace: string; name: string };
  change: string;
  role: string | null;
  added?: string[];
  removed?: string[];
  blocker: boolean;
  action?: string;
}

async function preflight(work: string, ...flags: string[]) {
  const run = await runInProcess(['preflight', '--to', 'next', '--kubeconfig', kubeconfig, '--cluster-name', 'c1', '-o', 'json', ...flags], { cwd: work });
  const report = run.stdout ? (JSON.parse(run.stdout) as { requests: Entry[]; blockers: number }) : undefined;
  return { ...run, report, bySecret: (name: string) => report?.requests.find((e) => e.secret.name === name) };
}

const annotation = () => kube.getObject('CloudCredential', undefined, 'cluster')?.metadata.annotations?.[UPGRADEABLE_TO];

describe('cap-token-refresh preflight (cluster)', () => {
  it('added actions block --apply; with --policies-updated it sets the annotation', async () => {
    const work = await cluster(['machine-api-operator.release-4.12.yaml'], ['machine-api-operator.yaml']);
    const blocked = await preflight(work, '--apply', '--to-version', '4.17');
    expect(blocked.code).toBe(1);
    expect(blocked.bySecret('aws-cloud-credentials')).toMatchObject({
      change: 'changed',
      role: 'c1-openshift-machine-api-aws-cloud-credentials',
      added: ['ec2:AllocateHosts', 'ec2:ReleaseHosts', 'kms:ReEncrypt*'],
      blocker: true,
    });
    expect(blocked.stderr).toContain('left unset');
    expect(annotation()).toBeUndefined();

    const applied = await preflight(work, '--apply', '--to-version', '4.17', '--policies-updated');
    expect(applied.report?.requests.filter((e) => e.blocker)).toEqual([]);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toContain('set cloudcredential.openshift.io/upgradeable-to: "4.17"');
    expect(annotation()).toBe('4.17');
    expect(kube.getObject('CloudCredential', undefined, 'cluster')?.spec).toEqual({ credentialsMode: 'Manual' });
  });

  it('never lowers an annotation that is already higher', async () => {
    const work = await cluster(['machine-api-operator.yaml'], ['machine-api-operator.yaml'], '4.18');
    const run = await preflight(work, '--apply', '--to-version', '4.17');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('already "4.18", not lowered');
    expect(annotation()).toBe('4.18');
  });

  it('a new request: blocker without Secret, then without RBAC (SubjectAccessReview), clear with both', async () => {
    const work = await cluster(['machine-api-operator.yaml'], ['machine-api-operator.yaml', 'ingress.yaml']);
    kube.putSecret({ metadata: { namespace: 'openshift-ingress-operator', name: 'unrelated' } });
    const none = await preflight(work);
    expect(none.code).toBe(1);
    expect(none.bySecret('cloud-credentials')).toMatchObject({ change: 'new', blocker: true });
    expect(none.bySecret('cloud-credentials')?.action).toContain('create Secret');

    kube.putSecret({
      metadata: { namespace: 'openshift-ingress-operator', name: 'cloud-credentials', annotations: { 'cap-token-refresh/role': 'c1-ingress' } },
    });
    const noRbac = await preflight(work);
    expect(noRbac.bySecret('cloud-credentials')).toMatchObject({ change: 'new', role: 'c1-ingress', blocker: true });
    expect(noRbac.bySecret('cloud-credentials')?.action).toContain('let the job get and update');
    expect(kube.requests.some((r) => r.resource === 'subjectaccessreviews')).toBe(true);

    const rbac = { apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { namespace: 'openshift-ingress-operator', name: 'cap-token-refresh' } };
    kube.putObject({
      ...rbac,
      kind: 'Role',
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['cloud-credentials'], verbs: ['get', 'update'] }],
    } as never);
    kube.putObject({
      ...rbac,
      kind: 'RoleBinding',
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cap-token-refresh' },
      subjects: [{ kind: 'ServiceAccount', name: 'cap-token-refresh', namespace: 'cap-token-refresh' }],
    } as never);
    const both = await preflight(work);
    expect(both.bySecret('cloud-credentials')).toMatchObject({ change: 'new', blocker: false });
    expect(both.code).toBe(0);
  });

  it("a Secret's namespace that does not exist is a blocker", async () => {
    const work = await cluster(['machine-api-operator.yaml'], ['machine-api-operator.yaml', 'image-registry.yaml']);
    const run = await preflight(work);
    expect(run.code).toBe(1);
    const entry = run.report?.requests.find((e) => e.change === 'namespace-missing');
    expect(entry?.blocker).toBe(true);
    expect(entry?.action).toContain(`create namespace ${entry?.secret.namespace}`);
  });

  it('a refused kubeconfig is a configuration error that names the permissions', async () => {
    const work = await cluster(['machine-api-operator.yaml'], ['machine-api-operator.yaml']);
    kube.deny({ resource: 'credentialsrequests' });
    const run = await preflight(work);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('preflight needs list on credentialsrequests');
  });

  it.each(RELEASE_PAIRS)('$from to $to: added actions block until --policies-updated, removed ones only inform', async (pair) => {
    const work = await cluster([pair.from], [pair.to], undefined, ...pair.generate);
    const before = await preflight(work, ...pair.flags);
    const entry = before.bySecret(pair.secret);
    expect(entry).toMatchObject({ change: 'changed', blocker: true });
    expect(entry?.added).toEqual(expect.arrayContaining(pair.added));
    expect(entry?.removed ?? []).toEqual(expect.arrayContaining(pair.removed));
    expect(before.code).toBe(1);
    const after = await preflight(work, ...pair.flags, '--policies-updated');
    expect(after.bySecret(pair.secret)?.blocker).toBe(false);
    expect(after.code).toBe(0);
  });
});
