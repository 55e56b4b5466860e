// `cap-token-refresh preflight` offline, run in process (test/support/run-in-process.ts) on real pairs of releases.
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCapFixture } from './support/cap-fixture.js';
import { FIXTURES } from './support/fixtures.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTempDir } from './support/temp-dir.js';

const requests = join(FIXTURES, 'credentials-requests');
const temporaryDirs: string[] = [];
afterEach(async () => {
  await Promise.all(temporaryDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A folder with from/ (current release), to/ (next release) and manifests/ (generate's output for from/). */
async function upgrade(from: string[], to: string[], ...generateFlags: string[]): Promise<string> {
  const dir = await makeTempDir('cap-preflight-');
  temporaryDirs.push(dir);
  for (const [folder, files] of [['from', from] as const, ['to', to] as const]) {
    await mkdir(join(dir, folder));
    for (const file of files) await copyFile(join(requests, file), join(dir, folder, file));
  }
  const generated = await runInProcess(['generate', '--credentials-requests', 'from', '--out', 'manifests', '--cluster-name', 'c1', ...generateFlags], {
    cwd: dir,
  });
  expect(generated.code).toBe(0);
  return dir;
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
  name: string;
  secret: { namespace: string; name: string };
  change: string;
  role: string | null;
  added?: string[];
  removed?: string[];
  blocker: boolean;
  action?: string;
}

async function preflight(dir: string, ...flags: string[]) {
  const run = await runInProcess(['preflight', '--to', 'to', '--from', 'from', '--manifests', 'manifests', '--cluster-name', 'c1', '-o', 'json', ...flags], {
    cwd: dir,
  });
  const report = run.stdout ? (JSON.parse(run.stdout) as { requests: Entry[]; blockers: number }) : undefined;
  const bySecret = (name: string) => report?.requests.find((e) => e.secret.name === name);
  return { ...run, report, bySecret };
}

describe('cap-token-refresh preflight (offline)', () => {
  it('machine-api-operator 4.8 to 4.12: added actions block until --policies-updated', async () => {
    const dir = await upgrade(['machine-api-operator.release-4.8.yaml'], ['machine-api-operator.release-4.12.yaml']);
    const before = await preflight(dir);
    expect(before.code).toBe(1);
    expect(before.report?.blockers).toBe(1);
    expect(before.bySecret('aws-cloud-credentials')).toMatchObject({
      change: 'changed',
      role: 'c1-openshift-machine-api-aws-cloud-credentials',
      added: ['ec2:DescribeInstanceTypes', 'ec2:DescribeInternetGateways', 'ec2:DescribeRegions', 'elasticloadbalancing:DescribeTargetHealth'],
      blocker: true,
    });
    expect(before.bySecret('aws-cloud-credentials')?.action).toContain('--policies-updated');
    const after = await preflight(dir, '--policies-updated');
    expect(after.code).toBe(0);
    expect(after.report?.blockers).toBe(0);
  });

  it('cluster-api 4.16 to main: removed actions are information, the request moved from a feature set to a feature gate', async () => {
    const dir = await upgrade(['cluster-api.release-4.16.yaml'], ['cluster-api.yaml'], '--include-tech-preview');
    // 4.16 ships it in TechPreviewNoUpgrade only, main behind feature gates: with both on, it is the same Secret, changed.
    const flags = ['--include-tech-preview', '--feature-gates', 'ClusterAPIMachineManagement,ClusterAPIMachineManagementAWS'];
    const gen = await runInProcess(
      ['generate', '--credentials-requests', 'from', '--out', 'manifests', '--cluster-name', 'c1', '--include-tech-preview', '--force'],
      {
        cwd: dir,
      },
    );
    expect(gen.code).toBe(0);
    const run = await preflight(dir, ...flags, '--policies-updated');
    const entry = run.report?.requests.find((e) => e.change === 'changed');
    expect(entry?.removed).toEqual(expect.arrayContaining(['iam:CreateServiceLinkedRole']));
    expect(entry?.blocker).toBe(false);
    expect(run.code).toBe(0);
    // Without the gates the next release does not apply it: the current one is stale, nothing blocks.
    const without = await preflight(dir, '--include-tech-preview');
    expect(without.report?.requests.map((e) => e.change)).toEqual(['stale']);
    expect(without.code).toBe(0);
  });

  it('a new request: blocker without Secret, blocker with a Secret but no RBAC, clear with both', async () => {
    const dir = await upgrade(['machine-api-operator.yaml'], ['machine-api-operator.yaml', 'ingress.yaml']);
    const none = await preflight(dir, '--out', 'out');
    expect(none.code).toBe(1);
    expect(none.bySecret('cloud-credentials')).toMatchObject({ change: 'new', role: 'c1-openshift-ingress-operator-cloud-credentials', blocker: true });
    expect(none.bySecret('aws-cloud-credentials')).toMatchObject({ change: 'unchanged', blocker: false });
    const out = join(dir, 'out');
    expect((await readdir(out)).sort()).toEqual([
      'cap-ingress-operator-secret.yaml',
      'cap-rbac-openshift-ingress-operator-role.yaml',
      'cap-rbac-openshift-ingress-operator-rolebinding.yaml',
      'iam',
    ]);
    expect((await stat(join(out, 'cap-ingress-operator-secret.yaml'))).mode & 0o777).toBe(0o600);
    const script = await readFile(join(out, 'iam', 'update-roles.sh'), 'utf8');
    expect(script).toContain(
      "ensure_role 'c1-openshift-ingress-operator-cloud-credentials' 'openshift-ingress' 'c1-openshift-ingress-operator-cloud-credentials-policy.json'",
    );
    expect(script).toContain('aws iam get-role --role-name "$1"');
    expect(script).toContain('put-role-policy');

    await copyFile(join(out, 'cap-ingress-operator-secret.yaml'), join(dir, 'manifests', 'cap-ingress-operator-secret.yaml'));
    const secretOnly = await preflight(dir);
    expect(secretOnly.bySecret('cloud-credentials')).toMatchObject({ change: 'new', blocker: true });
    expect(secretOnly.bySecret('cloud-credentials')?.action).toContain('let the job get and update');
    expect(secretOnly.bySecret('cloud-credentials')?.action).not.toContain('create Secret');

    for (const file of ['cap-rbac-openshift-ingress-operator-role.yaml', 'cap-rbac-openshift-ingress-operator-rolebinding.yaml']) {
      await copyFile(join(out, file), join(dir, 'manifests', file));
    }
    const both = await preflight(dir);
    expect(both.bySecret('cloud-credentials')?.action).toBeUndefined();
    expect(both.bySecret('cloud-credentials')).toMatchObject({ change: 'new', blocker: false });
    expect(both.code).toBe(0);
  });

  it("--install-config leaves out the next release's requests of disabled capabilities; --permissions-boundary and --role-path go into update-roles.sh", async () => {
    const dir = await upgrade(['machine-api-operator.yaml'], ['machine-api-operator.yaml', 'ingress.yaml', 'image-registry.yaml']);
    const all = await preflight(dir);
    expect(all.bySecret('installer-cloud-credentials')).toMatchObject({ change: 'new', blocker: true });
    const trimmed = await preflight(
      dir,
      '--install-config',
      join(FIXTURES, 'install-configs', 'v4.12-plus-required.yaml'),
      '--out',
      'out',
      '--permissions-boundary',
      'arn:aws-iso:iam::123456789012:policy/ocp-boundary',
      '--role-path',
      '/openshift/',
    );
    expect(trimmed.stderr).toContain('wrote ');
    expect(trimmed.bySecret('installer-cloud-credentials')).toBeUndefined();
    expect(trimmed.bySecret('cloud-credentials')).toMatchObject({ change: 'new', blocker: true });
    const script = await readFile(join(dir, 'out', 'iam', 'update-roles.sh'), 'utf8');
    expect(script).toContain("--path '/openshift/' --permissions-boundary 'arn:aws-iso:iam::123456789012:policy/ocp-boundary'");
    expect(script).not.toContain('image-registry');
    const wrong = await preflight(dir, '--permissions-boundary', 'arn:aws-iso-b:iam::123456789012:policy/b', '--role-path', 'openshift');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--permissions-boundary "arn:aws-iso-b:iam::123456789012:policy/b": give the ARN of a managed policy in partition aws-iso');
    expect(wrong.stderr).toContain('--role-path "openshift": give an IAM path');
  });

  it('a request the next release drops is stale, not a blocker; the table says how to unblock', async () => {
    const dir = await upgrade(['machine-api-operator.yaml', 'ingress.yaml'], ['machine-api-operator.yaml']);
    const run = await runInProcess(['preflight', '--to', 'to', '--from', 'from', '--manifests', 'manifests', '--to-version', '4.17'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/openshift-ingress\s+openshift-ingress-operator\/cloud-credentials\s+stale/);
    expect(run.stdout).toContain('Nothing blocks the upgrade.');
    expect(run.stdout).toContain('oc annotate cloudcredential.operator.openshift.io/cluster --overwrite cloudcredential.openshift.io/upgradeable-to=4.17');
  });

  it('malformed input writes nothing and exits 3; missing offline inputs are a usage error', async () => {
    const dir = await upgrade(['machine-api-operator.yaml'], ['ingress.yaml']);
    await writeFile(join(dir, 'to', 'broken.yaml'), 'kind: CredentialsRequest\napiVersion: cloudcredential.openshift.io/v1\nspec: [unclosed\n');
    const bad = await preflight(dir, '--out', 'out');
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('broken.yaml');
    await expect(stat(join(dir, 'out'))).rejects.toThrow();
    const usage = await runInProcess(['preflight', '--to', 'to', '--from', 'from'], { cwd: dir });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give both --from DIR');
  });

  it('--probe-cap asks CAP once per new or changed role; a refused role is a blocker; no credential is printed', async () => {
    const dir = await upgrade(['machine-api-operator.release-4.12.yaml'], ['machine-api-operator.yaml', 'ingress.yaml']);
    const cap = await startCapFixture();
    try {
      cap.sim.setBehaviour('c1-openshift-ingress-operator-cloud-credentials', { kind: 'status', status: 403 });
      const run = await runInProcess(
        ['preflight', '--to', 'to', '--from', 'from', '--manifests', 'manifests', '--cluster-name', 'c1', '-o', 'json', '--policies-updated', '--probe-cap'],
        { cwd: dir, env: cap.env },
      );
      const report = JSON.parse(run.stdout) as { requests: Entry[] & { probe?: string }[] };
      const entry = (name: string) => report.requests.find((e) => e.secret.name === name) as (Entry & { probe?: string }) | undefined;
      expect(entry('aws-cloud-credentials')).toMatchObject({ change: 'changed', probe: 'ok', blocker: false });
      expect(entry('cloud-credentials')).toMatchObject({ change: 'new', blocker: true });
      expect(entry('cloud-credentials')?.probe).toContain('403');
      expect(entry('cloud-credentials')?.action).toContain('CAP did not issue credentials for role c1-openshift-ingress-operator-cloud-credentials');
      expect(cap.sim.calls.map((c) => c.role).sort()).toEqual([
        'c1-openshift-ingress-operator-cloud-credentials',
        'c1-openshift-machine-api-aws-cloud-credentials',
      ]);
      expect(run.code).toBe(1);
      for (const issued of cap.sim.issued) {
        for (const value of [issued.accessKeyId, issued.secretAccessKey, issued.sessionToken]) expect(run.stdout + run.stderr).not.toContain(value);
      }
      expect(await readdir(join(dir, 'manifests'))).not.toContain('cap-ingress-operator-secret.yaml');
    } finally {
      await cap.stop();
    }
  });

  it.each(RELEASE_PAIRS)('$from to $to: added actions block until --policies-updated, removed ones only inform', async (pair) => {
    const work = await upgrade([pair.from], [pair.to], ...pair.generate);
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
