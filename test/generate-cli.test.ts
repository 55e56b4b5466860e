// `generate` as a user runs it, in process (test/support/run-in-process.ts): arguments, cwd,
// standard input, exit status, stdout and stderr.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './support/fixtures.js';
import { runInProcess } from './support/run-in-process.js';
import { makeTestTempDir } from './support/temp-dir.js';

const ocExtractDir = join(FIXTURES, 'oc-extract-aws');
/** A folder for one test, removed when it ends. */
const makeTempDir = () => makeTestTempDir('cap-generate-cli-');

describe('cap-token-refresh generate', () => {
  it('writes manifests/ and iam/ from a folder and says what it kept and skipped', async () => {
    const dir = await makeTempDir();
    const run = await runInProcess(['generate', '--credentials-requests', ocExtractDir, '--cluster-name', 'prod'], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('6 AWS CredentialsRequest(s) kept:');
    expect(run.stdout).toContain(
      '  openshift-machine-api/aws-cloud-credentials  role prod-openshift-machine-api-aws-cloud-credentials  cap-machine-api-secret.yaml\n',
    );
    expect(run.stdout).toContain('openshift-cluster-api-aws (');
    expect(run.stdout).toContain('Files in manifests/ and iam/: 34 written, 0 overwritten, 0 unchanged.');
    // SHA-256 of "prod" mod 5 is 2: the default schedule moved to minutes 2, 7, ..., 57.
    expect(run.stdout).toContain('CronJob schedule: 2-59/5 * * * *\n');
    expect(await readFile(join(dir, 'manifests', 'cap-cronjob.yaml'), 'utf8')).toContain('schedule: 2-59/5 * * * *\n');
    expect((await readdir(join(dir, 'manifests'))).length).toBe(26);
    expect((await readdir(join(dir, 'iam'))).length).toBe(8);
  });

  it('warns on stderr when --image is not pinned by digest, and still writes', async () => {
    const dir = await makeTempDir();
    const run = await runInProcess(['generate', '--credentials-requests', ocExtractDir, '--image', 'mirror.enclave.example:5000/cap-token-refresh:0.1.0'], {
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'warning: --image mirror.enclave.example:5000/cap-token-refresh:0.1.0: it is not pinned by digest (@sha256:...), so what runs can change under the same name; push it to the enclave\'s mirror registry and give it as REGISTRY/NAME@sha256:DIGEST (README: "The image")\n',
    );
    expect(run.stdout).toContain('34 written');
  });

  it('reads - from standard input and takes --feature-gates as a comma list', async () => {
    const dir = await makeTempDir();
    const input = await readFile(join(FIXTURES, 'credentials-requests', 'cluster-api.yaml'), 'utf8');
    const run = await runInProcess(
      ['generate', '--credentials-requests', '-', '--feature-gates', 'ClusterAPIMachineManagement,ClusterAPIMachineManagementAWS', '--partition', 'aws-iso-b'],
      { cwd: dir, stdin: input },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('openshift-cluster-api/capa-manager-bootstrap-credentials');
    expect(await readFile(join(dir, 'iam', 'create-roles.sh'), 'utf8')).toContain('us-isob-east-1');
  });

  it('exits 3 and writes nothing when a file differs, 0 with --force', async () => {
    const dir = await makeTempDir();
    expect((await runInProcess(['generate', '--credentials-requests', ocExtractDir], { cwd: dir })).code).toBe(0);
    await writeFile(join(dir, 'manifests', 'cap-cronjob.yaml'), 'edited\n');
    const refused = await runInProcess(['generate', '--credentials-requests', ocExtractDir], { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('Rerun with --force');
    expect(await readFile(join(dir, 'manifests', 'cap-cronjob.yaml'), 'utf8')).toBe('edited\n');
    const forced = await runInProcess(['generate', '--credentials-requests', ocExtractDir, '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('0 written, 1 overwritten, 33 unchanged');
  });

  it.each([
    [['generate'], 2, "required option '--credentials-requests <path>' not specified"],
    [['generate', '--credentials-requests', ocExtractDir, '--partition', 'aws'], 2, "argument 'aws' is invalid"],
    [['generate', '--credentials-requests', ocExtractDir, '--cap-url', 'http://cap.example'], 2, '--cap-url http://cap.example: give an https:// URL'],
    [['generate', '--credentials-requests', 'missing'], 3, '--credentials-requests missing: no such file or folder'],
    [['generate', '--credentials-requests', ocExtractDir, '--cert', '.'], 3, '--cert .: is a folder, not a file'],
    [
      ['generate', '--credentials-requests', ocExtractDir, '--install-config', join(FIXTURES, 'install-configs', 'unknown-baseline.yaml')],
      3,
      'capabilities.baselineCapabilitySet "v4.41" is not a capability set; use one of None, v4.11, v4.12, v4.13, v4.14, v4.15, v4.16, v4.17, v4.18, vCurrent',
    ],
    [
      ['generate', '--credentials-requests', ocExtractDir, '--permissions-boundary', 'arn:aws:iam::123456789012:policy/b', '--role-path', 'ocp'],
      2,
      '--permissions-boundary "arn:aws:iam::123456789012:policy/b": give the ARN of a managed policy in partition aws-iso',
    ],
  ])('%j exits %i', async (args, code, message) => {
    const run = await runInProcess(args, { cwd: await makeTempDir() });
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(message);
  });
});

describe('cap-token-refresh generate --install-config', () => {
  it('says which capabilities the install-config enables and why each request is left out, and never prints the file', async () => {
    const dir = await makeTempDir();
    const installConfig = join(FIXTURES, 'install-configs', 'minimal-aws.yaml');
    const run = await runInProcess(['generate', '--credentials-requests', ocExtractDir, '--install-config', installConfig], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Capabilities: ' +
        `${installConfig} enables baselineCapabilitySet None + CloudCredential, CloudControllerManager, Ingress, MachineAPI: ` +
        'CloudControllerManager, CloudCredential, Ingress, MachineAPI.\n',
    );
    expect(run.stdout).toContain('4 AWS CredentialsRequest(s) kept:');
    expect(run.stdout).toMatch(/ {2}openshift-image-registry \(.*\): needs capability ImageRegistry\+CloudCredential, and ImageRegistry is not enabled by /);
    expect(run.stdout).toMatch(/ {2}aws-ebs-csi-driver-operator \(.*\): needs capability Storage\+CloudCredential, and Storage is not enabled by /);
    expect(await readdir(join(dir, 'manifests'))).not.toContain('cap-image-registry-secret.yaml');
    const pullSecretAuth = 'ZmFrZTpwdWxsLXNlY3JldC1kby1ub3QtcHJpbnQ=';
    expect(await readFile(installConfig, 'utf8')).toContain(pullSecretAuth);
    expect(run.stdout + run.stderr).not.toContain(pullSecretAuth);
    expect(run.stdout + run.stderr).not.toContain('ssh-ed25519');
  });
});

describe('cap-token-refresh generate --https-proxy --no-proxy', () => {
  const cronJobEnv = async (dir: string) => {
    const { parse } = await import('yaml');
    const cronJob = parse(await readFile(join(dir, 'manifests', 'cap-cronjob.yaml'), 'utf8'));
    return cronJob.spec.jobTemplate.spec.template.spec.containers[0].env as { name: string; value: string }[];
  };

  it('writes HTTPS_PROXY and NO_PROXY into the CronJob container, after the CAP settings', async () => {
    const dir = await makeTempDir();
    const run = await runInProcess(
      [
        'generate',
        '--credentials-requests',
        ocExtractDir,
        '--https-proxy',
        'http://proxy.enclave.example:3128',
        '--no-proxy',
        ' .enclave.example, 10.0.0.0/8 ',
      ],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const env = await cronJobEnv(dir);
    expect(env.slice(-2)).toEqual([
      { name: 'HTTPS_PROXY', value: 'http://proxy.enclave.example:3128' },
      { name: 'NO_PROXY', value: '.enclave.example,10.0.0.0/8' },
    ]);
  });

  it('writes no proxy env without the flags', async () => {
    const dir = await makeTempDir();
    expect((await runInProcess(['generate', '--credentials-requests', ocExtractDir], { cwd: dir })).code).toBe(0);
    expect((await cronJobEnv(dir)).map((e) => e.name)).not.toContain('HTTPS_PROXY');
  });

  it('refuses a proxy URL with a password (exit 3) without quoting it, and writes nothing', async () => {
    const dir = await makeTempDir();
    const run = await runInProcess(['generate', '--credentials-requests', ocExtractDir, '--https-proxy', 'http://svc:pr0xy-Pa55@proxy.enclave.example:3128'], {
      cwd: dir,
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('--https-proxy must not carry a user name or password');
    expect(run.stderr + run.stdout).not.toContain('pr0xy-Pa55');
    expect(run.stderr + run.stdout).not.toContain('svc:');
    await expect(readdir(join(dir, 'manifests'))).rejects.toThrow();
  });

  it.each([
    [['--https-proxy', 'proxy.enclave.example:3128'], '--https-proxy proxy.enclave.example:3128: give an http:// or https:// URL'],
    [['--https-proxy', 'socks5://proxy:1080'], '--https-proxy socks5://proxy:1080: give an http:// or https:// URL'],
    [['--no-proxy', '.enclave.example'], '--no-proxy goes with --https-proxy'],
    [['--https-proxy', 'http://proxy:3128', '--no-proxy', 'a b'], '--no-proxy: "a b" is not a host'],
  ])('%j exits 2', async (flags, message) => {
    const run = await runInProcess(['generate', '--credentials-requests', ocExtractDir, ...flags], { cwd: await makeTempDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
