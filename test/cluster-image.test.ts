// What the container image relies on, proven without Docker: the Dockerfile's build stage
// builds from exactly the files it copies, and its final stage (Node.js and dist/ only, no
// node_modules) runs: --version, a refresh of manifests on disk and a refresh in a cluster.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, parse as parsePath } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startKubeApiServer, type KubeApiServer } from './support/kube-api-server.js';
import { REPO_ROOT } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';

const run = promisify(execFile);

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** The Dockerfile's stages and their instructions, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): { args: string[]; stages: Stage[] } {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args: string[] = [];
  const stages: Stage[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ from: from[1]!, ...(from[2] ? { name: from[2] } : {}), lines: [] });
    else if (stages.length === 0) args.push(line);
    else stages.at(-1)!.lines.push(line);
  }
  return { args, stages };
}

let dockerfile: { args: string[]; stages: Stage[] };
let work: string;
let cap: CapFixture;
let kube: KubeApiServer;
/** Where the final stage's /app/dist is reproduced: a folder with no node_modules anywhere above it. */
let appDist: string;

async function node(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: dirname(appDist),
      env: { PATH: '/usr/bin:/bin', HOME: work, NODE_ENV: 'production', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  dockerfile = parseDockerfile(await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  work = await makeTempDir('ctr-image-');
  cap = await startCapFixture();
  kube = await startKubeApiServer();

  // The build stage, reproduced: its COPY sources into an empty folder, the locked
  // dependencies in place of `npm ci` (no registry here), then its build command.
  const build = dockerfile.stages.find((s) => s.name === 'build')!;
  const buildDir = join(work, 'src');
  await mkdir(buildDir);
  for (const line of build.lines.filter((l) => /^COPY\s/i.test(l))) {
    const sources = line.split(/\s+/).slice(1, -1);
    for (const source of sources) await cp(join(REPO_ROOT, source), join(buildDir, source), { recursive: true });
  }
  await symlink(join(REPO_ROOT, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
  await run('npm', ['run', 'build'], { cwd: buildDir });

  // The final stage: only dist/ (COPY --from=build /src/dist /app/dist).
  appDist = join(work, 'app', 'dist');
  await cp(join(buildDir, 'dist'), appDist, { recursive: true });
  await rm(join(buildDir, 'node_modules'));
}, 120_000);

afterAll(async () => {
  await kube?.stop();
  await cap?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the Dockerfile', () => {
  it('builds in a node:20 stage and ships node, the libraries it links and dist/ only, as a non-root user in group 0, running refresh', () => {
    const [build, final] = dockerfile.stages;
    expect(dockerfile.stages).toHaveLength(2);
    expect(dockerfile.args).toContain('ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim');
    expect(build).toMatchObject({ from: '${NODE_IMAGE}', name: 'build' });
    expect(build!.lines).toContain('ARG NPM_REGISTRY=');
    const ci = build!.lines.find((l) => l.includes('npm ci'))!;
    expect(ci).toMatch(/^RUN --mount=type=secret,id=npm_ca --mount=type=secret,id=npmrc /);
    expect(ci).toContain('NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca');
    expect(ci).toContain('npm ci --ignore-scripts --no-audit --no-fund');
    expect(build!.lines.some((l) => l.startsWith('RUN npm run build'))).toBe(true);
    expect(build!.lines.some((l) => l.includes('ldd /usr/local/bin/node'))).toBe(true);
    expect(final!.from).toBe('scratch');
    const copies = final!.lines.filter((l) => /^COPY\s/i.test(l));
    expect(copies).toEqual(['COPY --from=build /rootfs/ /', 'COPY --from=build /src/dist /app/dist']);
    // The version check runs in the final stage itself, without a shell.
    expect(final!.lines.filter((l) => /^RUN\s/i.test(l))).toEqual(['RUN ["/usr/local/bin/node", "/app/dist/cap-token-refresh.js", "--version"]']);
    expect(final!.lines).toContain('USER 1001:0');
    expect(final!.lines).toContain('ENTRYPOINT ["/usr/local/bin/node", "--max-semi-space-size=1", "/app/dist/cap-token-refresh.js"]');
    expect(final!.lines.at(-1)).toBe('CMD ["refresh"]');
  });

  it('.dockerignore keeps node_modules, dist and tests out of the build context', async () => {
    const ignored = (await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', 'test', '.git']) expect(ignored).toContain(entry);
  });
});

describe('the bundle, from a folder with no node_modules', () => {
  it('has no node_modules to fall back on', () => {
    let dir = appDist;
    while (dir !== parsePath(dir).root) {
      expect(existsSync(join(dir, 'node_modules')), join(dir, 'node_modules')).toBe(false);
      dir = dirname(dir);
    }
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await node([join(appDist, 'cap-token-refresh.js'), '--version']);
    expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('refreshes Secret manifests on disk against the CAP simulator', async () => {
    const manifests = join(work, 'manifests');
    await mkdir(manifests);
    const file = join(manifests, 'cap-machine-api-secret.yaml');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Secret',
        'metadata:',
        '  name: aws-cloud-credentials',
        '  namespace: openshift-machine-api',
        '  annotations:',
        '    cap-token-refresh/role: image-test-role',
        'type: Opaque',
        'stringData:',
        '  aws_access_key_id: ""',
        '  aws_secret_access_key: ""',
        '  credentials: ""',
        '',
      ].join('\n'),
    );
    const r = await node([join(appDist, 'cap-token-refresh.js'), 'refresh', '--manifests', manifests, '--output', 'json'], cap.env);
    expect(r.stderr).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).targets).toEqual([
      {
        namespace: 'openshift-machine-api',
        name: 'aws-cloud-credentials',
        role: 'image-test-role',
        result: 'refreshed',
        expiration: cap.sim.issued.at(-1)!.expiration,
        file,
      },
    ]);
    expect(await readFile(file, 'utf8')).toContain(`aws_access_key_id: ${cap.sim.issued.at(-1)!.accessKeyId}`);
  });

  it('refreshes a Secret in a cluster (the @kubernetes/client-node code is in the bundle too)', async () => {
    kube.putSecret({
      metadata: { namespace: 'openshift-machine-api', name: 'aws-cloud-credentials', annotations: { 'cap-token-refresh/role': 'image-test-role' } },
      data: {},
    });
    const kubeconfig = await kube.writeKubeconfig(work);
    const r = await node([join(appDist, 'cap-token-refresh.js'), 'refresh', '--target', 'openshift-machine-api/aws-cloud-credentials', '--output', 'json'], {
      ...cap.env,
      KUBECONFIG: kubeconfig,
    });
    expect(r.stderr).not.toMatch(/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).targets[0]).toMatchObject({ result: 'refreshed', expiration: cap.sim.issued.at(-1)!.expiration });
    const data = kube.getSecret('openshift-machine-api', 'aws-cloud-credentials')!.data as Record<string, string>;
    expect(Buffer.from(data.aws_access_key_id!, 'base64').toString()).toBe(cap.sim.issued.at(-1)!.accessKeyId);
  });
});
