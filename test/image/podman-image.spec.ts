// `npm run test:image`: the real image, built with podman from a base image made with
// debootstrap (scripts/make-base-images.sh; nothing pulled from a public registry), run as
// OpenShift runs it under restricted-v2: a random UID in group 0, read-only root filesystem, all
// capabilities dropped, no privilege escalation, the certs Secret and the service account token
// mounted read-only as kubelet lays them out (..data symlinks), and only 127.0.0.1 to talk to.

import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from '../support/cap-fixture.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { REPO_ROOT } from '../support/run-cli.js';

const run = promisify(execFile);
const IMAGE = process.env.CTR_IMAGE_TAG ?? 'localhost/cap-token-refresh:test-image';
/** crun refuses cgroups in hybrid mode (as on this CI's machines); runc runs there. */
const RUNTIME = process.env.CTR_OCI_RUNTIME ?? 'runc';
const figures: Record<string, number | string> = {};

let work: string;
let cap: CapFixture;
let kube: KubeApiServer;

async function sh(cmd: string, args: string[], timeout = 600_000): Promise<string> {
  const { stdout } = await run(cmd, args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, timeout });
  return stdout.trim();
}

/** A folder laid out as kubelet mounts a Secret: files in a timestamped folder, ..data pointing at it, names linking through ..data. */
async function kubeletVolume(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  const stamp = '..2026_12_02_08_00_00.123456789';
  await mkdir(join(dir, stamp), { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, stamp, name), content);
    await chmod(join(dir, stamp, name), 0o440); // defaultMode 0440: the group (0) reads it
    await symlink(join('..data', name), join(dir, name));
  }
  await symlink(stamp, join(dir, '..data'));
}

/** `podman run` with the restricted-v2 constraints; never throws on a non-zero exit. */
async function runAsOpenShift(
  args: string[],
  opts: { env?: Record<string, string>; mounts?: string[] } = {},
): Promise<{ code: number; stdout: string; stderr: string; uid: number }> {
  const uid = randomInt(1_000_000_000, 2_000_000_000);
  const flags = [
    '--runtime',
    RUNTIME,
    'run',
    '--rm',
    `--user=${uid}:0`,
    '--read-only',
    '--read-only-tmpfs=false',
    '--cap-drop=ALL',
    // podman's own defaults (1048576 files) are above this machine's hard limits, which root
    // may not raise here; a kubelet pod inherits the node's limits, so fixed modest ones stand in.
    '--ulimit=nofile=4096:4096',
    '--ulimit=nproc=4096:4096',
    '--security-opt=no-new-privileges',
    '--network=host',
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(opts.mounts ?? []).flatMap((m) => ['--volume', m]),
    IMAGE,
    ...args,
  ];
  try {
    const { stdout, stderr } = await run('podman', flags, { timeout: 120_000 });
    return { code: 0, stdout, stderr, uid };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '', uid };
  }
}

beforeAll(async () => {
  const started = Date.now();
  const base = (await sh(join(REPO_ROOT, 'scripts', 'make-base-images.sh'), [])).split('\n').at(-1)!;
  figures.baseImageSeconds = Math.round((Date.now() - started) / 100) / 10;
  // npm ci goes through the registry and CA this machine's npm uses, as a build arg and a build secret.
  const registry = await sh('npm', ['config', 'get', 'registry']);
  const cafile = await sh('npm', ['config', 'get', 'cafile']);
  const secret = cafile && cafile !== 'null' ? ['--secret', `id=npm_ca,src=${cafile}`] : [];
  const buildStarted = Date.now();
  await sh('podman', [
    'build',
    '--quiet',
    '--runtime',
    RUNTIME,
    '--network=host',
    '--build-arg',
    `NODE_IMAGE=${base}`,
    '--build-arg',
    `NPM_REGISTRY=${registry}`,
    ...secret,
    '--tag',
    IMAGE,
    '.',
  ]);
  figures.buildSeconds = Math.round((Date.now() - buildStarted) / 100) / 10;
  figures.imageBytes = Number(await sh('podman', ['image', 'inspect', IMAGE, '--format', '{{.Size}}']));
  figures.imageMB = Math.round(Number(figures.imageBytes) / 1e5) / 10;
  work = await mkdtemp(join(tmpdir(), 'ctr-image-run-'));
  cap = await startCapFixture();
  kube = await startKubeApiServer();
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await cap?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  const out = process.env.CTR_IMAGE_FIGURES;
  if (out) await writeFile(out, `${JSON.stringify(figures)}\n`);
});

describe('the image', () => {
  it('is under 120 MB and has no shell (node, the libraries it links and the bundle only)', async () => {
    expect(figures.imageBytes).toBeLessThan(120e6);
    const shell = await run('podman', [
      '--runtime',
      RUNTIME,
      'run',
      '--rm',
      '--ulimit=nofile=4096:4096',
      '--ulimit=nproc=4096:4096',
      '--entrypoint',
      '/bin/sh',
      IMAGE,
      '-c',
      'true',
    ]).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(shell).toMatch(/\/bin\/sh.*(no such file|not found)/i);
  });

  it('prints its version in the final image, as a random UID in group 0', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runAsOpenShift(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('runs demo on a read-only root with an emptyDir for /tmp', async () => {
    const tmp = join(work, 'tmp');
    await mkdir(tmp, { mode: 0o1777 });
    await chmod(tmp, 0o1777);
    const r = await runAsOpenShift(['demo'], { mounts: [`${tmp}:/tmp`] });
    expect(r.stderr).not.toMatch(/Cannot find|ERR_MODULE_NOT_FOUND|error while loading shared libraries/);
    expect(r.code).toBe(0);
  });

  it('refreshes a Secret in the cluster with its service account and the certs Secret, as the CronJob does', async () => {
    kube.putSecret({
      metadata: { namespace: 'openshift-machine-api', name: 'aws-cloud-credentials', annotations: { 'cap-token-refresh/role': 'image-test-role' } },
      data: {},
    });
    const certs = join(work, 'cap-certs');
    await kubeletVolume(certs, {
      'tls.crt': cap.pki.client.certPem,
      'tls.key': cap.pki.client.keyPem,
      'ca.crt': cap.pki.ca.certPem,
    });
    const sa = join(work, 'serviceaccount');
    await kubeletVolume(sa, { token: kube.token, 'ca.crt': kube.caPem, namespace: 'cap-token-refresh' });
    const port = new URL(kube.url).port;
    const r = await runAsOpenShift(['refresh', '--target', 'openshift-machine-api/aws-cloud-credentials', '--output', 'json'], {
      env: {
        CAP_URL: cap.env.CAP_URL!,
        AGENCY: cap.env.AGENCY!,
        MISSION: cap.env.MISSION!,
        CAP_CERTS_DIR: '/etc/cap-certs',
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: port,
      },
      mounts: [`${certs}:/etc/cap-certs:ro`, `${sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro`],
    });
    // (The false "readable by every user" warning on tls.key is issue 9's key-check item, fixed in src/, not here.)
    expect(r.stderr).not.toMatch(/Cannot find|ERR_MODULE_NOT_FOUND|error while loading shared libraries/);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).targets[0]).toMatchObject({ result: 'refreshed', expiration: cap.sim.issued.at(-1)!.expiration });
    const data = kube.getSecret('openshift-machine-api', 'aws-cloud-credentials')!.data as Record<string, string>;
    expect(Buffer.from(data.aws_access_key_id!, 'base64').toString()).toBe(cap.sim.issued.at(-1)!.accessKeyId);
  });
});
