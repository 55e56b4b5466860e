import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generate, type GenerateOptions, type GenerateResult } from '../src/commands/generate.js';
import { ManifestsError } from '../src/manifests/errors.js';
import { checkRbacCoverage } from '../src/manifests/rbac-coverage.js';
import { podSecurityViolations } from './support/pod-security.js';
import { CREDENTIALS_REQUESTS, INSTALL_CONFIGS, OC_EXTRACT_AWS } from './support/fixtures.js';
import { makeTestTempDir } from './support/temp-dir.js';

const upstreamDir = CREDENTIALS_REQUESTS;
const ocExtractDir = OC_EXTRACT_AWS;

/** A folder for one test, removed when it ends. */
const makeTempDir = () => makeTestTempDir('cap-generate-');

async function generateInto(input: string, extra: Partial<GenerateOptions> = {}): Promise<{ dir: string; result: GenerateResult }> {
  const dir = await makeTempDir();
  const result = await generate({ credentialsRequests: input, out: 'manifests', ...extra }, { cwd: dir });
  return { dir, result };
}

async function readFolder(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const)));
}

function parseOne(text: string): any {
  const docs = parseAllDocuments(text);
  expect(Array.isArray(docs) && docs.length).toBe(1);
  return (docs as any)[0].toJS();
}

async function errorOf(promise: Promise<unknown>): Promise<ManifestsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ManifestsError);
  return err as ManifestsError;
}

/** The AWS statementEntries of a fixture file, read independently of the code under test. */
async function statementsBySecret(file: string): Promise<Map<string, any[]>> {
  const docs = parseAllDocuments(await readFile(file, 'utf8')) as any[];
  const map = new Map<string, any[]>();
  for (const doc of docs.map((d) => d.toJS()).filter(Boolean)) {
    if (doc.spec?.providerSpec?.kind !== 'AWSProviderSpec') continue;
    map.set(`${doc.spec.secretRef.namespace}/${doc.spec.secretRef.name}`, doc.spec.providerSpec.statementEntries);
  }
  return map;
}

function expectedPolicy(entries: any[]): unknown {
  return {
    Version: '2012-10-17',
    Statement: entries.map((e) => ({
      Effect: e.effect,
      Action: e.action,
      Resource: e.resource,
      ...(e.policyCondition ? { Condition: e.policyCondition } : {}),
    })),
  };
}

const THE_SIX = [
  'openshift-cloud-credential-operator/cloud-credential-operator-iam-ro-creds',
  'openshift-cloud-network-config-controller/cloud-credentials',
  'openshift-cluster-csi-drivers/ebs-cloud-credentials',
  'openshift-image-registry/installer-cloud-credentials',
  'openshift-ingress-operator/cloud-credentials',
  'openshift-machine-api/aws-cloud-credentials',
];

// Every upstream fixture file, with default options: the Secrets kept, or the error.
const upstreamCases: { file: string; kept?: string[]; error?: string }[] = [
  { file: 'aws-cloud-controller-manager.PR495-unmerged.yaml', kept: ['openshift-cloud-controller-manager/cloud-controller-manager-credentials'] },
  { file: 'aws-ebs-csi-driver-operator.release-4.10.yaml', kept: ['openshift-cluster-csi-drivers/ebs-cloud-credentials'] },
  { file: 'aws-ebs-csi-driver-operator.yaml', kept: ['openshift-cluster-csi-drivers/ebs-cloud-credentials'] },
  { file: 'aws-efs-csi-driver-node.yaml', kept: ['openshift-cluster-csi-drivers/node-aws-efs-cloud-credentials'] },
  { file: 'aws-efs-csi-driver.yaml', error: 'invalid-credentials-request' },
  { file: 'cco-iam-ro.yaml', kept: ['openshift-cloud-credential-operator/cloud-credential-operator-iam-ro-creds'] },
  { file: 'cloud-network-config-controller.yaml', kept: ['openshift-cloud-network-config-controller/cloud-credentials'] },
  { file: 'cluster-api.release-4.16.yaml', error: 'no-aws-credentials-requests' },
  { file: 'cluster-api.yaml', error: 'no-aws-credentials-requests' },
  { file: 'image-registry.yaml', kept: ['openshift-image-registry/installer-cloud-credentials'] },
  { file: 'ingress.yaml', kept: ['openshift-ingress-operator/cloud-credentials'] },
  { file: 'machine-api-operator.release-4.12.yaml', kept: ['openshift-machine-api/aws-cloud-credentials'] },
  { file: 'machine-api-operator.release-4.8.yaml', kept: ['openshift-machine-api/aws-cloud-credentials'] },
  { file: 'machine-api-operator.yaml', kept: ['openshift-machine-api/aws-cloud-credentials'] },
];

/** Everything generate promises about one output: Secrets, policies equal to the requests, RBAC. */
async function expectConsistentOutput(dir: string, result: GenerateResult, inputFiles: string[], kept: string[]): Promise<void> {
  expect(result.secrets.map((s) => `${s.namespace}/${s.name}`)).toEqual(kept);
  const manifests = await readFolder(join(dir, 'manifests'));
  const objects = [...manifests.values()].map(parseOne);
  const managed = objects.filter((o) => o.kind === 'Secret' && o.metadata.labels?.['cap-token-refresh/managed'] === 'true');
  expect(managed.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual(kept);

  const statements = new Map<string, any[]>();
  for (const file of inputFiles) for (const [k, v] of await statementsBySecret(file)) statements.set(k, v);
  for (const secret of result.secrets) {
    const object = parseOne(manifests.get(secret.file)!);
    expect(object.metadata).toEqual({
      name: secret.name,
      namespace: secret.namespace,
      labels: { 'cap-token-refresh/managed': 'true' },
      annotations: { 'cap-token-refresh/role': secret.role },
    });
    expect(object.type).toBe('Opaque');
    expect(object.stringData).toEqual({ aws_access_key_id: '', aws_secret_access_key: '', credentials: '' });
    expect(secret.role.length).toBeLessThanOrEqual(64);
    expect(secret.role).toMatch(/^[\w+=,.@-]+$/);
    const policy = JSON.parse(await readFile(join(dir, 'iam', `${secret.role}-policy.json`), 'utf8'));
    expect(policy).toEqual(expectedPolicy(statements.get(`${secret.namespace}/${secret.name}`)!));
  }
  expect(new Set(result.secrets.map((s) => s.role)).size).toBe(result.secrets.length);
  expect(checkRbacCoverage(objects)).toEqual([]);
  expect(
    objects
      .filter((o) => o.kind === 'Role' && o.metadata.namespace !== 'openshift-cloud-credential-operator')
      .map((o) => o.metadata.namespace)
      .sort(),
  ).toEqual([...new Set(kept.map((k) => k.split('/')[0]))].filter((ns) => ns !== 'openshift-cloud-credential-operator').sort());
}

describe('generate on every upstream fixture file', () => {
  it('covers every fixture file in the table', async () => {
    const files = (await readdir(upstreamDir)).filter((f) => f.endsWith('.yaml')).sort();
    expect(upstreamCases.map((c) => c.file)).toEqual(files);
  });

  it.each(upstreamCases)('$file', async ({ file, kept, error }) => {
    const input = join(upstreamDir, file);
    if (error) {
      expect((await errorOf(generateInto(input))).code).toBe(error);
      return;
    }
    const { dir, result } = await generateInto(input);
    await expectConsistentOutput(dir, result, [input], kept!);
  });

  it('reports a template placeholder namespace with file, document and dotted path', async () => {
    const err = await errorOf(generateInto(join(upstreamDir, 'aws-efs-csi-driver.yaml')));
    expect(err.problems).toEqual([
      `${join(upstreamDir, 'aws-efs-csi-driver.yaml')}: document 1 (openshift-aws-efs-csi-driver): spec.secretRef.namespace: "\${NAMESPACE}" is not a valid namespace name (a template placeholder: substitute it first)`,
    ]);
  });

  it('keeps the tech-preview cluster API request only with --include-tech-preview', async () => {
    const input = join(upstreamDir, 'cluster-api.release-4.16.yaml');
    const err = await errorOf(generateInto(input));
    expect(err.problems).toContain(`${input}: openshift-cluster-api-aws: only in feature set TechPreviewNoUpgrade; include it with --include-tech-preview`);
    const { dir, result } = await generateInto(input, { includeTechPreview: true });
    await expectConsistentOutput(dir, result, [input], ['openshift-cluster-api/capa-manager-bootstrap-credentials']);
  });

  it('keeps the feature-gated cluster API request only when all its gates are named', async () => {
    const input = join(upstreamDir, 'cluster-api.yaml');
    expect((await errorOf(generateInto(input, { featureGates: ['ClusterAPIMachineManagement'] }))).code).toBe('no-aws-credentials-requests');
    const { dir, result } = await generateInto(input, { featureGates: ['ClusterAPIMachineManagement', 'ClusterAPIMachineManagementAWS'] });
    await expectConsistentOutput(dir, result, [input], ['openshift-cluster-api/capa-manager-bootstrap-credentials']);
  });

  it('refuses two versions of the same request in one folder', async () => {
    const dir = await makeTempDir();
    await copyFile(join(upstreamDir, 'machine-api-operator.yaml'), join(dir, 'a.yaml'));
    await copyFile(join(upstreamDir, 'machine-api-operator.release-4.12.yaml'), join(dir, 'b.yml'));
    const err = await errorOf(generate({ credentialsRequests: dir, out: 'out' }, { cwd: dir }));
    expect(err.code).toBe('duplicate-secret');
    expect(err.problems).toEqual([
      `openshift-machine-api/aws-cloud-credentials is named by openshift-machine-api-aws (${join(dir, 'a.yaml')}) and openshift-machine-api-aws (${join(dir, 'b.yml')})`,
    ]);
  });
});

describe('generate on the folder oc adm release extract writes', () => {
  it('keeps exactly the six default-cluster requests and says why cluster API is left out', async () => {
    const inputs = (await readdir(ocExtractDir)).map((f) => join(ocExtractDir, f));
    const { dir, result } = await generateInto(ocExtractDir);
    await expectConsistentOutput(dir, result, inputs, THE_SIX);
    expect(result.skipped).toEqual([
      {
        source: join(ocExtractDir, '0000_30_cluster-api_01_credentials-request.yaml'),
        name: 'openshift-cluster-api-aws',
        reason:
          'behind feature gate ClusterAPIMachineManagement,ClusterAPIMachineManagementAWS (not met: ClusterAPIMachineManagement, ClusterAPIMachineManagementAWS); include it with --feature-gates ClusterAPIMachineManagement,ClusterAPIMachineManagementAWS',
      },
    ]);
    expect([...(await readFolder(join(dir, 'manifests'))).keys()]).toEqual([
      'cap-alertingrule.yaml',
      'cap-certs-secret.yaml',
      'cap-cloud-credential-operator-secret.yaml',
      'cap-cloud-network-config-controller-secret.yaml',
      'cap-cluster-csi-drivers-secret.yaml',
      'cap-cronjob.yaml',
      'cap-image-registry-secret.yaml',
      'cap-ingress-operator-secret.yaml',
      'cap-machine-api-secret.yaml',
      'cap-namespace.yaml',
      'cap-rbac-credentialsrequests-role.yaml',
      'cap-rbac-credentialsrequests-rolebinding.yaml',
      'cap-rbac-openshift-cloud-credential-operator-role.yaml',
      'cap-rbac-openshift-cloud-credential-operator-rolebinding.yaml',
      'cap-rbac-openshift-cloud-network-config-controller-role.yaml',
      'cap-rbac-openshift-cloud-network-config-controller-rolebinding.yaml',
      'cap-rbac-openshift-cluster-csi-drivers-role.yaml',
      'cap-rbac-openshift-cluster-csi-drivers-rolebinding.yaml',
      'cap-rbac-openshift-image-registry-role.yaml',
      'cap-rbac-openshift-image-registry-rolebinding.yaml',
      'cap-rbac-openshift-ingress-operator-role.yaml',
      'cap-rbac-openshift-ingress-operator-rolebinding.yaml',
      'cap-rbac-openshift-machine-api-role.yaml',
      'cap-rbac-openshift-machine-api-rolebinding.yaml',
      'cap-serviceaccount.yaml',
      'cap-trusted-ca-bundle-configmap.yaml',
    ]);
    expect(result.secrets.find((s) => s.name === 'aws-cloud-credentials')).toMatchObject({
      file: 'cap-machine-api-secret.yaml',
      role: 'CLUSTER_NAME-openshift-machine-api-aws-cloud-credentials',
    });
  });

  it('keeps typed condition values: a boolean stays a boolean', async () => {
    const { result } = await generateInto(ocExtractDir);
    const role = result.secrets.find((s) => s.namespace === 'openshift-machine-api')!.role;
    const policy = JSON.parse(await readFile(join(result.iamDir, `${role}-policy.json`), 'utf8'));
    expect(policy.Statement[2]).toEqual({
      Effect: 'Allow',
      Action: ['kms:RevokeGrant', 'kms:CreateGrant', 'kms:ListGrants'],
      Resource: '*',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
    });
    expect(policy.Statement[0]).not.toHaveProperty('Condition');
  });

  it('writes iam/ beside the manifests folder by default, or to --iam-out', async () => {
    const { dir, result } = await generateInto(ocExtractDir);
    expect(result.iamDir).toBe(join(dir, 'iam'));
    expect((await readdir(join(dir, 'iam'))).filter((f) => !f.startsWith('CLUSTER_NAME-'))).toEqual(['create-roles.sh', 'trust-policy.json']);
    const other = await generateInto(ocExtractDir, { iamOut: 'policies' });
    expect(other.result.iamDir).toBe(join(other.dir, 'policies'));
    expect((await readdir(join(other.dir, 'policies'))).length).toBe(8);
  });

  it('writes a script for the chosen partition that creates every role with its policy', async () => {
    const { result } = await generateInto(ocExtractDir, { partition: 'aws-iso-b' });
    const script = await readFile(join(result.iamDir, 'create-roles.sh'), 'utf8');
    const trust = JSON.parse(await readFile(join(result.iamDir, 'trust-policy.json'), 'utf8'));
    expect(trust.Statement[0].Principal.AWS).toMatch(/^arn:aws-iso-b:iam::REPLACE_WITH_ACCOUNT_ID:/);
    expect(script).toContain('AWS_REGION:-us-isob-east-1');
    expect(script).toContain('arn:aws-iso-b:iam::<account-id>:role/<role>');
    expect(script).toContain(`aws iam create-role --role-name "$1" --assume-role-policy-document 'file://trust-policy.json' >/dev/null\n`);
    expect(script).not.toContain('--permissions-boundary');
    expect(script.match(/^ensure_role .*$/gm)).toEqual(result.secrets.map((s) => `ensure_role '${s.role}' '${s.credentialsRequest}' '${s.role}-policy.json'`));
  });

  it('rewrites arn:aws: resources of a request for the chosen partition, and leaves * and other partitions alone', async () => {
    const request = (resource: unknown) =>
      [
        'apiVersion: cloudcredential.openshift.io/v1',
        'kind: CredentialsRequest',
        'metadata: {name: bucket-reader}',
        'spec:',
        '  secretRef: {namespace: openshift-example, name: cloud-credentials}',
        '  providerSpec:',
        '    kind: AWSProviderSpec',
        `    statementEntries: [{effect: Allow, action: ['s3:GetObject'], resource: ${JSON.stringify(resource)}}]`,
      ].join('\n');
    const list = ['arn:aws:s3:::bucket/*', '*', 'arn:aws-iso:kms:us-iso-east-1:123456789012:key/x', 'arn:aws-us-gov:s3:::gov'];
    for (const partition of ['aws-iso', 'aws-iso-b'] as const) {
      const { result } = await generateInto('-', { stdinText: request(list), partition });
      const policy = JSON.parse(await readFile(join(result.iamDir, `${result.secrets[0]!.role}-policy.json`), 'utf8'));
      expect(policy.Statement[0].Resource).toEqual([
        `arn:${partition}:s3:::bucket/*`,
        '*',
        'arn:aws-iso:kms:us-iso-east-1:123456789012:key/x',
        'arn:aws-us-gov:s3:::gov',
      ]);
      const single = await generateInto('-', { stdinText: request('arn:aws:s3:::bucket'), partition });
      const one = JSON.parse(await readFile(join(single.result.iamDir, `${single.result.secrets[0]!.role}-policy.json`), 'utf8'));
      expect(one.Statement[0].Resource).toBe(`arn:${partition}:s3:::bucket`);
    }
  });

  it('refuses a permissions boundary of another partition or shape, and a role path without slashes, all at once', async () => {
    const dir = await makeTempDir();
    const err = await generate(
      { credentialsRequests: ocExtractDir, partition: 'aws-iso-b', permissionsBoundary: 'arn:aws-iso:iam::123456789012:policy/b', rolePath: 'openshift' },
      { cwd: dir },
    ).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      '--permissions-boundary "arn:aws-iso:iam::123456789012:policy/b": give the ARN of a managed policy in partition aws-iso-b, arn:aws-iso-b:iam::ACCOUNT_ID:policy/NAME; ' +
        '--role-path "openshift": give an IAM path that starts and ends with /, such as /openshift/ (printable ASCII, no spaces, at most 512 characters)',
    );
    expect(await readdir(dir)).toEqual([]);
    for (const [boundary, path] of [
      ['arn:aws-iso-b:iam::aws:policy/PowerUserAccess', '/'],
      ['arn:aws-iso-b:iam::123456789012:policy/team/ocp-boundary', '/a/b/'],
    ]) {
      const ok = await generateInto(ocExtractDir, { partition: 'aws-iso-b', permissionsBoundary: boundary!, rolePath: path! });
      expect(await readFile(join(ok.result.iamDir, 'create-roles.sh'), 'utf8')).toContain(`--path '${path}' --permissions-boundary '${boundary}'`);
    }
  });

  it('reads - from the given standard input text, skipping other clouds and kinds', async () => {
    const text = [await readFile(join(upstreamDir, 'ingress.yaml'), 'utf8'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n'].join('\n---\n');
    const { result } = await generateInto('-', { stdinText: text });
    expect(result.secrets.map((s) => `${s.namespace}/${s.name}`)).toEqual(['openshift-ingress-operator/cloud-credentials']);
    expect(result.skipped.map((s) => `${s.name}: ${s.reason}`)).toEqual([
      'openshift-ingress-azure: not for AWS (providerSpec.kind AzureProviderSpec)',
      'openshift-ingress-gcp: not for AWS (providerSpec.kind GCPProviderSpec)',
      'openshift-ingress-ibmcloud: not for AWS (providerSpec.kind IBMCloudProviderSpec)',
      'openshift-ingress-powervs: not for AWS (providerSpec.kind IBMCloudPowerVSProviderSpec)',
      'unrelated: not a CredentialsRequest (kind ConfigMap)',
    ]);
  });
});

describe('generate writes deterministically and safely', () => {
  it('gives byte-identical files on a second run, and leaves unchanged files alone', async () => {
    const first = await generateInto(ocExtractDir);
    const second = await generateInto(ocExtractDir);
    expect(await readFolder(join(second.dir, 'manifests'))).toEqual(await readFolder(join(first.dir, 'manifests')));
    expect(await readFolder(join(second.dir, 'iam'))).toEqual(await readFolder(join(first.dir, 'iam')));
    const cronJob = join(first.dir, 'manifests', 'cap-cronjob.yaml');
    const before = await stat(cronJob);
    const again = await generate({ credentialsRequests: ocExtractDir, out: 'manifests' }, { cwd: first.dir });
    expect(new Set(again.files.map((f) => f.status))).toEqual(new Set(['unchanged']));
    expect((await stat(cronJob)).mtimeMs).toBe(before.mtimeMs);
    expect((await readdir(join(first.dir, 'manifests'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes nothing when a file exists with other content, unless forced', async () => {
    const { dir } = await generateInto(ocExtractDir);
    const cronJob = join(dir, 'manifests', 'cap-cronjob.yaml');
    const namespace = join(dir, 'manifests', 'cap-namespace.yaml');
    await writeFile(cronJob, '# edited by hand\n');
    await rm(namespace);
    const err = await errorOf(generate({ credentialsRequests: ocExtractDir, out: 'manifests', image: 'registry.example/cap:1' }, { cwd: dir }));
    expect(err.code).toBe('files-differ');
    expect(err.problems).toEqual([cronJob]);
    expect(await readFile(cronJob, 'utf8')).toBe('# edited by hand\n');
    await expect(stat(namespace)).rejects.toMatchObject({ code: 'ENOENT' });

    const forced = await generate({ credentialsRequests: ocExtractDir, out: 'manifests', image: 'registry.example/cap:1', force: true }, { cwd: dir });
    expect(forced.files.find((f) => f.path === cronJob)?.status).toBe('overwritten');
    expect(forced.files.find((f) => f.path === namespace)?.status).toBe('written');
    expect(parseOne(await readFile(cronJob, 'utf8')).spec.jobTemplate.spec.template.spec.containers[0].image).toBe('registry.example/cap:1');
  });

  it('writes nothing when a file is in the way of a folder, or a folder in the way of a file, and names each', async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'manifests', 'cap-cronjob.yaml'), { recursive: true });
    await writeFile(join(dir, 'iam'), 'a file where the folder goes\n');
    const err = await errorOf(generate({ credentialsRequests: ocExtractDir, out: 'manifests' }, { cwd: dir }));
    expect(err.message).toMatch(/^\d+ file\(s\) cannot be written; nothing was written\. Move what is in the way, or give another --out \/ --iam-out:\n/);
    expect(err.problems).toContain(`${join(dir, 'manifests', 'cap-cronjob.yaml')}: is a folder`);
    expect(err.problems).toContain(`${join(dir, 'iam', 'create-roles.sh')}: a part of its path is a file, not a folder`);
    expect(await readdir(join(dir, 'manifests'))).toEqual(['cap-cronjob.yaml']);
  });

  it('gives Secrets mode 0600, the script 0755 and the rest 0644', async () => {
    const { dir } = await generateInto(ocExtractDir);
    const mode = async (path: string) => ((await stat(join(dir, path))).mode & 0o777).toString(8);
    expect(await mode('manifests/cap-certs-secret.yaml')).toBe('600');
    expect(await mode('manifests/cap-machine-api-secret.yaml')).toBe('600');
    expect(await mode('manifests/cap-cronjob.yaml')).toBe('644');
    expect(await mode('iam/create-roles.sh')).toBe('755');
    expect(await mode('iam/trust-policy.json')).toBe('644');
  });

  it('replaces a file through the atomic writer: a Secret left 0644 by hand is 0600 again, and no temporary file stays', async () => {
    const { dir } = await generateInto(ocExtractDir);
    const secret = join(dir, 'manifests', 'cap-machine-api-secret.yaml');
    await writeFile(secret, '# edited by hand\n', { mode: 0o644 });
    await chmod(secret, 0o644);
    const forced = await generate({ credentialsRequests: ocExtractDir, out: 'manifests', force: true }, { cwd: dir });
    expect(forced.files.find((f) => f.path === secret)?.status).toBe('overwritten');
    expect(((await stat(secret)).mode & 0o777).toString(8)).toBe('600');
    expect((await readdir(join(dir, 'manifests'))).filter((name) => name.startsWith('.'))).toEqual([]);
    expect((await readdir(join(dir, 'iam'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('reports stale cap-*.yaml files it no longer writes, without deleting them', async () => {
    const { dir } = await generateInto(ocExtractDir, { featureGates: ['ClusterAPIMachineManagement', 'ClusterAPIMachineManagementAWS'] });
    const rerun = await generate({ credentialsRequests: ocExtractDir, out: 'manifests', force: true }, { cwd: dir });
    expect(rerun.stale).toEqual([
      join(dir, 'manifests', 'cap-cluster-api-secret.yaml'),
      join(dir, 'manifests', 'cap-rbac-openshift-cluster-api-role.yaml'),
      join(dir, 'manifests', 'cap-rbac-openshift-cluster-api-rolebinding.yaml'),
    ]);
  });
});

describe('generate fills the CronJob and the certs Secret', () => {
  it('runs the pod as restricted-v2 requires, with the certs mounted read-only', async () => {
    const { dir } = await generateInto(ocExtractDir, {
      image: 'image-registry.example:5000/cap/cap-token-refresh:1.0',
      capUrl: 'https://cap.example',
      agency: 'AG',
      mission: 'MI',
      schedule: '*/5 * * * *',
    });
    const cronJob = parseOne(await readFile(join(dir, 'manifests', 'cap-cronjob.yaml'), 'utf8'));
    expect(cronJob.apiVersion).toBe('batch/v1');
    expect(cronJob.metadata).toMatchObject({ name: 'cap-token-refresh', namespace: 'cap-token-refresh' });
    expect(cronJob.spec).toMatchObject({
      schedule: '*/5 * * * *',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    const job = cronJob.spec.jobTemplate.spec;
    expect(job).toMatchObject({ activeDeadlineSeconds: 1500, backoffLimit: 1 });
    const pod = job.template.spec;
    expect(pod.serviceAccountName).toBe('cap-token-refresh');
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const [container, ...others] = pod.containers;
    expect(others).toEqual([]);
    expect(container.image).toBe('image-registry.example:5000/cap/cap-token-refresh:1.0');
    expect(container.args).toEqual(['refresh', '--renew-before', '30m', '--retry-for', '20m']);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(JSON.stringify(pod)).not.toMatch(/runAsUser|privileged|hostPath|hostNetwork/);
    expect(Object.fromEntries(container.env.map((e: any) => [e.name, e.value]))).toEqual({
      CAP_URL: 'https://cap.example',
      AGENCY: 'AG',
      MISSION: 'MI',
      CAP_CERTS_DIR: '/etc/cap-certs',
      CAP_TRUSTED_CA_BUNDLE: '/etc/cap-trusted-ca/ca-bundle.crt',
    });
    expect(container.volumeMounts).toContainEqual({ name: 'trusted-ca', mountPath: '/etc/cap-trusted-ca', readOnly: true });
    expect(pod.volumes).toContainEqual({
      name: 'trusted-ca',
      configMap: { name: 'cap-trusted-ca-bundle', optional: true, items: [{ key: 'ca-bundle.crt', path: 'ca-bundle.crt' }] },
    });
    const bundle = parseOne(await readFile(join(dir, 'manifests', 'cap-trusted-ca-bundle-configmap.yaml'), 'utf8'));
    expect(bundle).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'cap-trusted-ca-bundle', namespace: 'cap-token-refresh' } });
    expect(bundle.metadata.labels['config.openshift.io/inject-trusted-cabundle']).toBe('true');
    expect(container.volumeMounts).toContainEqual({ name: 'cap-certs', mountPath: '/etc/cap-certs', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'cap-certs', secret: { secretName: 'cap-certs', defaultMode: 0o440 } });
    expect(container.resources.limits).toEqual({ cpu: '200m', memory: '256Mi' });
    expect(podSecurityViolations(pod)).toEqual([]);
  });

  it('runs on control-plane nodes, never waiting for workers, and a default node selector cannot move it', async () => {
    const { dir } = await generateInto(ocExtractDir);
    const pod = parseOne(await readFile(join(dir, 'manifests', 'cap-cronjob.yaml'), 'utf8')).spec.jobTemplate.spec.template.spec;
    expect(pod.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(pod.nodeSelector).toEqual({ 'node-role.kubernetes.io/master': '' });
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(podSecurityViolations(pod)).toEqual([]);
    const namespace = parseOne(await readFile(join(dir, 'manifests', 'cap-namespace.yaml'), 'utf8'));
    expect(namespace.metadata.annotations).toEqual({ 'openshift.io/node-selector': '' });
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('the pod security check itself refuses what restricted refuses', () => {
    const ok = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    };
    expect(podSecurityViolations(ok)).toEqual([]);
    expect(podSecurityViolations({ ...ok, hostNetwork: true, volumes: [{ name: 'h', hostPath: { path: '/' } }] })).toEqual([
      'hostNetwork is set',
      'volume h is of type hostPath',
    ]);
    expect(podSecurityViolations({ ...ok, containers: [{ name: 'c', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] })).toHaveLength(3);
  });

  it.each([
    ['a tag', 'mirror.enclave.example:5000/cap/cap-token-refresh:1.0', /not pinned by digest/],
    ['the in-cluster registry', `image-registry.openshift-image-registry.svc:5000/cap/cap-token-refresh@sha256:${'a'.repeat(64)}`, /in-cluster registry/],
    ['a digest in the mirror', `mirror.enclave.example:5000/cap/cap-token-refresh@sha256:${'a'.repeat(64)}`, undefined],
  ])('--image with %s: %s', async (_, image, warning) => {
    const { result } = await generateInto(ocExtractDir, { image });
    if (warning) expect(result.warnings).toEqual([expect.stringMatching(warning)]);
    else expect(result.warnings).toEqual([]);
  });

  it('uses placeholders by default and the PEM files when given', async () => {
    const placeholders = await generateInto(ocExtractDir);
    const certs = parseOne(await readFile(join(placeholders.dir, 'manifests', 'cap-certs-secret.yaml'), 'utf8'));
    expect(certs.stringData).toEqual({
      'tls.crt': 'REPLACE_WITH_CLIENT_CERTIFICATE_PEM',
      'tls.key': 'REPLACE_WITH_CLIENT_KEY_PEM',
      'ca.crt': 'REPLACE_WITH_CAP_CA_CERTIFICATES_PEM',
    });

    const dir = await makeTempDir();
    const pem = (label: string) => `-----BEGIN ${label}-----\nQUJD\n-----END ${label}-----\n`;
    await writeFile(join(dir, 'client.crt'), pem('CERTIFICATE'));
    await writeFile(join(dir, 'client.key'), pem('PRIVATE KEY'));
    await writeFile(join(dir, 'ca.crt'), pem('CERTIFICATE') + pem('CERTIFICATE'));
    await generate({ credentialsRequests: ocExtractDir, cert: 'client.crt', key: 'client.key', ca: 'ca.crt' }, { cwd: dir });
    const filled = parseOne(await readFile(join(dir, 'manifests', 'cap-certs-secret.yaml'), 'utf8'));
    expect(filled.metadata).toMatchObject({ name: 'cap-certs', namespace: 'cap-token-refresh' });
    expect(filled.stringData).toEqual({ 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY'), 'ca.crt': pem('CERTIFICATE') + pem('CERTIFICATE') });
  });

  it('refuses a key that is not PEM without printing it', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'bundle.p12'), 'SECRET-BYTES-NOT-PEM');
    const err = await errorOf(generate({ credentialsRequests: ocExtractDir, key: 'bundle.p12' }, { cwd: dir }));
    expect(err.code).toBe('invalid-pem');
    expect(err.message).toContain('--key bundle.p12 is not PEM');
    expect(err.message).not.toContain('SECRET-BYTES');
  });
});

describe('generate errors name the file and the cure', () => {
  it.each([
    ['a missing input', { credentialsRequests: 'nowhere.yaml' }, 'input-not-found', '--credentials-requests nowhere.yaml: no such file or folder'],
    ['a missing role map', { credentialsRequests: ocExtractDir, roleMap: 'roles.yaml' }, 'input-not-found', '--role-map roles.yaml: no such file or folder'],
    ['a missing certificate', { credentialsRequests: ocExtractDir, cert: 'c.pem' }, 'input-not-found', '--cert c.pem: no such file or folder'],
    ['stdin without text', { credentialsRequests: '-' }, 'input-not-found', 'reads standard input, but none was given'],
  ] as const)('%s', async (_, options, code, message) => {
    const dir = await makeTempDir();
    const err = await errorOf(generate(options, { cwd: dir }));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it('gives the file and line of invalid YAML', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: CredentialsRequest\nmetadata:\n  name: [unclosed\n');
    const err = await errorOf(generate({ credentialsRequests: 'bad.yaml' }, { cwd: dir }));
    expect(err.code).toBe('invalid-yaml');
    expect(err.problems[0]).toMatch(/^bad\.yaml:5:1: /);
  });

  it('lists every invalid field of a request with its dotted path', async () => {
    const dir = await makeTempDir();
    await writeFile(
      join(dir, 'cr.yaml'),
      'apiVersion: cloudcredential.openshift.io/v1\nkind: CredentialsRequest\nmetadata:\n  name: x\nspec:\n  secretRef:\n    name: s\n  providerSpec:\n    kind: AWSProviderSpec\n    statementEntries:\n    - effect: Permit\n      action: ec2:Describe*\n      resource: "*"\n',
    );
    const err = await errorOf(generate({ credentialsRequests: 'cr.yaml' }, { cwd: dir }));
    expect(err.code).toBe('invalid-credentials-request');
    expect(err.problems.map((p) => p.split(': ').slice(0, 3).join(': '))).toEqual([
      'cr.yaml: document 1 (x): spec.secretRef.namespace',
      'cr.yaml: document 1 (x): spec.providerSpec.statementEntries.0.effect',
      'cr.yaml: document 1 (x): spec.providerSpec.statementEntries.0.action',
    ]);
  });

  it('says there is nothing for AWS in a folder without AWS requests', async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'in'));
    await writeFile(
      join(dir, 'in', 'gcp.yaml'),
      'apiVersion: cloudcredential.openshift.io/v1\nkind: CredentialsRequest\nmetadata:\n  name: g\nspec:\n  providerSpec:\n    kind: GCPProviderSpec\n',
    );
    const err = await errorOf(generate({ credentialsRequests: 'in' }, { cwd: dir }));
    expect(err.code).toBe('no-aws-credentials-requests');
    expect(err.problems).toEqual([`${join('in', 'gcp.yaml')}: g: not for AWS (providerSpec.kind GCPProviderSpec)`]);
  });
});

describe('generate names roles', () => {
  it('uses the cluster name in the template, and a role map when given', async () => {
    const named = await generateInto(join(upstreamDir, 'ingress.yaml'), { clusterName: 'c2s-prod' });
    expect(named.result.secrets[0]!.role).toBe('c2s-prod-openshift-ingress-operator-cloud-credentials');

    const dir = await makeTempDir();
    await writeFile(
      join(dir, 'roles.yaml'),
      '# site roles\nopenshift-ingress-operator/cloud-credentials: OCP-Ingress\nopenshift-machine-api/aws-cloud-credentials: OCP-MachineAPI\n',
    );
    const mapped = await generate({ credentialsRequests: join(upstreamDir, 'ingress.yaml'), roleMap: 'roles.yaml' }, { cwd: dir });
    expect(mapped.secrets.map((s) => s.role)).toEqual(['OCP-Ingress']);
    expect(mapped.unusedRoleMapEntries).toEqual(['openshift-machine-api/aws-cloud-credentials']);
    const secret = parseOne(await readFile(join(dir, 'manifests', 'cap-ingress-operator-secret.yaml'), 'utf8'));
    expect(secret.metadata.annotations['cap-token-refresh/role']).toBe('OCP-Ingress');
  });

  it('refuses a role map that misses a Secret or holds a bad role name', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'roles.yaml'), 'openshift-ingress-operator/cloud-credentials: "has space"\nnot-a-key: r\n');
    const bad = await errorOf(generate({ credentialsRequests: ocExtractDir, roleMap: 'roles.yaml' }, { cwd: dir }));
    expect(bad.code).toBe('invalid-role-map');
    expect(bad.problems).toEqual([
      'roles.yaml: openshift-ingress-operator/cloud-credentials: IAM role names may hold only letters, digits and + = , . @ _ -',
      'roles.yaml: not-a-key: the key must be "namespace/name" of a Secret',
    ]);
    await writeFile(join(dir, 'roles.yaml'), 'openshift-ingress-operator/cloud-credentials: OCP-Ingress\n');
    const missing = await errorOf(generate({ credentialsRequests: ocExtractDir, roleMap: 'roles.yaml' }, { cwd: dir }));
    expect(missing.problems).toHaveLength(5);
    expect(missing.problems[0]).toBe(
      'openshift-cloud-credential-operator/cloud-credential-operator-iam-ro-creds: add "openshift-cloud-credential-operator/cloud-credential-operator-iam-ro-creds: <role>"',
    );
  });

  it('gives distinct roles of at most 64 characters to long names that share a 64-character prefix', async () => {
    const namespace = `openshift-${'a'.repeat(52)}`; // 62 characters
    const request = (name: string) =>
      `apiVersion: cloudcredential.openshift.io/v1\nkind: CredentialsRequest\nmetadata:\n  name: ${name}\nspec:\n  secretRef:\n    namespace: ${namespace}\n    name: ${name}\n  providerSpec:\n    kind: AWSProviderSpec\n    statementEntries:\n    - effect: Allow\n      action: [s3:GetObject]\n      resource: "*"\n`;
    const names = ['cloud-credentials-one', 'cloud-credentials-two', 'cloud-credentials-three'];
    const { result } = await generateInto('-', { stdinText: names.map(request).join('---\n'), clusterName: 'a-rather-long-cluster-name' });
    const roles = result.secrets.map((s) => s.role);
    expect(new Set(roles.map((r) => r.slice(0, 50))).size).toBe(1);
    expect(new Set(roles).size).toBe(3);
    for (const role of roles) {
      expect(role.length).toBeLessThanOrEqual(64);
      expect(role).toMatch(/^[\w+=,.@-]+-[0-9a-f]{8}$/);
    }
    expect(result.secrets.map((s) => s.file).sort()).toEqual(['one', 'three', 'two'].map((n) => `cap-${'a'.repeat(52)}-cloud-credentials-${n}-secret.yaml`));
  });

  it('refuses a template that gives two Secrets one role', async () => {
    const text = [
      await readFile(join(upstreamDir, 'aws-ebs-csi-driver-operator.yaml'), 'utf8'),
      await readFile(join(upstreamDir, 'aws-efs-csi-driver-node.yaml'), 'utf8'),
    ].join('\n---\n');
    const err = await errorOf(generateInto('-', { stdinText: text, roleTemplate: '{cluster}-{namespace}' }));
    expect(err.code).toBe('role-collision');
    expect(err.problems).toEqual([
      'role CLUSTER_NAME-openshift-cluster-csi-drivers is given to openshift-cluster-csi-drivers/ebs-cloud-credentials and openshift-cluster-csi-drivers/node-aws-efs-cloud-credentials',
    ]);
    const { result } = await generateInto('-', { stdinText: text });
    expect(result.secrets.map((s) => s.file)).toEqual(['cap-cluster-csi-drivers-ebs-secret.yaml', 'cap-cluster-csi-drivers-node-aws-efs-secret.yaml']);
  });
});

describe('generate --install-config leaves out the requests of disabled capabilities', () => {
  const skippedFor = (result: GenerateResult) => Object.fromEntries(result.skipped.map((s) => [s.name, s.reason]));

  it.each([
    ['no-capabilities.yaml', THE_SIX, []],
    ['v4.14-plus-required.yaml', THE_SIX, []],
    ['v4.12-plus-required.yaml', THE_SIX.filter((k) => !k.startsWith('openshift-image-registry/')), ['openshift-image-registry']],
    [
      'minimal-aws.yaml',
      THE_SIX.filter((k) => !k.startsWith('openshift-image-registry/') && !k.startsWith('openshift-cluster-csi-drivers/')),
      ['aws-ebs-csi-driver-operator', 'openshift-image-registry'],
    ],
  ])('%s: keeps the requests whose capabilities it enables', async (file, kept, leftOut) => {
    const { dir, result } = await generateInto(ocExtractDir, { installConfig: join(INSTALL_CONFIGS, file) });
    await expectConsistentOutput(
      dir,
      result,
      (await readdir(ocExtractDir)).map((f) => join(ocExtractDir, f)),
      kept,
    );
    const reasons = skippedFor(result);
    expect(
      Object.keys(reasons)
        .filter((name) => reasons[name]!.startsWith('needs capability'))
        .sort(),
    ).toEqual(leftOut);
    // The cluster API request is behind its feature gate whatever the capabilities.
    expect(reasons['openshift-cluster-api-aws']).toMatch(/^behind feature gate /);
    // No Secret manifest, Role or policy for a namespace the cluster will not have.
    const manifests = await readdir(join(dir, 'manifests'));
    if (leftOut.includes('openshift-image-registry')) {
      expect(manifests.filter((name) => name.includes('image-registry'))).toEqual([]);
      expect((await readdir(join(dir, 'iam'))).filter((name) => name.includes('image-registry'))).toEqual([]);
    }
  });

  it('says which capability is missing and how to keep the request', async () => {
    const { result } = await generateInto(ocExtractDir, { installConfig: join(INSTALL_CONFIGS, 'minimal-aws.yaml') });
    expect(skippedFor(result)['openshift-image-registry']).toBe(
      `needs capability ImageRegistry+CloudCredential, and ImageRegistry is not enabled by ${join(INSTALL_CONFIGS, 'minimal-aws.yaml')} ` +
        '(baselineCapabilitySet None + CloudCredential, CloudControllerManager, Ingress, MachineAPI); to keep it, add ImageRegistry to capabilities.additionalEnabledCapabilities',
    );
    expect(result.capabilities).toBe(
      `${join(INSTALL_CONFIGS, 'minimal-aws.yaml')} enables baselineCapabilitySet None + CloudCredential, CloudControllerManager, Ingress, MachineAPI: CloudControllerManager, CloudCredential, Ingress, MachineAPI`,
    );
  });

  it('refuses an unknown baseline set (exit 3), naming the known ones, and writes nothing', async () => {
    const dir = await makeTempDir();
    const err = await errorOf(generate({ credentialsRequests: ocExtractDir, installConfig: join(INSTALL_CONFIGS, 'unknown-baseline.yaml') }, { cwd: dir }));
    expect(err.code).toBe('invalid-install-config');
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('capabilities.baselineCapabilitySet "v4.41" is not a capability set; use one of None, v4.11,');
    expect(await readdir(dir)).toEqual([]);
  });

  it('an install-config that disables CloudCredential leaves out every request: an error that says why for each', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'install-config.yaml'), 'apiVersion: v1\ncapabilities:\n  baselineCapabilitySet: None\n');
    const err = await errorOf(generate({ credentialsRequests: ocExtractDir, installConfig: 'install-config.yaml' }, { cwd: dir }));
    expect(err.code).toBe('no-aws-credentials-requests');
    expect(err.message.split('\n')[0]).toBe(
      'All 7 AWS CredentialsRequest(s) were left out, so there is nothing to generate; see why each was, and change the flags or the install-config:',
    );
    expect(err.problems.filter((p) => p.includes('openshift-install refuses to disable CloudCredential on AWS'))).toHaveLength(6);
    expect(await readdir(dir)).toEqual(['install-config.yaml']);
  });

  it('names a missing install-config as the others', async () => {
    const dir = await makeTempDir();
    const err = await errorOf(generate({ credentialsRequests: ocExtractDir, installConfig: 'install-config.yaml' }, { cwd: dir }));
    expect(err.message).toBe(`--install-config install-config.yaml: no such file or folder (${join(dir, 'install-config.yaml')})`);
  });
});
