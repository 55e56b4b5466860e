// The benchmark behind `npm run bench`: the built bin/cap-token-refresh against the shell way
// (kubectl, jq, curl), on the Kubernetes API test server and the CAP simulator, both running
// in this process. scripts/bench.mjs bundles this file with esbuild and calls main().

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CapWorkerData, CapWorkerMessage } from './cap-worker.js';
import { createThrowawayPki } from '../../src/sim/pki.js';
import { largeSecretManifest } from '../../src/sim/large-manifest.js';
import { applyCredentialsToManifest, findManagedSecrets } from '../../src/disk/secret-manifest.js';
import { renderColumns } from '../../src/core/report.js';
import { startKubeApiServer, type KubeApiServer } from '../../test/support/kube-api-server.js';

const CAP_DELAY_MS = 50;
const SECRETS = 60;
const ROLES = 30;
const BIG_SECRETS = 1000;
const BIG_ROLES = 100;
const NAMESPACES = 10;
const AGENCY = 'BENCH-AGENCY';
const MISSION = 'BENCH-MISSION';
const CCO = 'openshift-cloud-credential-operator';

interface Options {
  json: boolean;
  runs: number;
  shellRuns: number;
  concurrency: number;
  /** Node flags for every refresh run, e.g. --cpu-prof, --heap-prof (for profiling; figures then include their cost). */
  nodeArgs: string[];
  /** Skip the shell way (when profiling the tool). */
  skipShell: boolean;
}

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Just before spawn and when the child exited, on the clock `now()`. */
  startedAt: number;
  endedAt: number;
  ms: number;
}

interface Usage {
  rssMb: number;
  cpuMs: number;
}

interface Target {
  namespace: string;
  name: string;
  role: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { json: false, runs: 5, shellRuns: 1, concurrency: 8, nodeArgs: [], skipShell: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a whole number`);
      return v;
    };
    if (a === '--json') opts.json = true;
    else if (a === '--runs') opts.runs = value();
    else if (a === '--shell-runs') opts.shellRuns = value();
    else if (a === '--concurrency') opts.concurrency = value();
    else if (a === '--node-arg' && argv[i + 1]) opts.nodeArgs.push(String(argv[++i]));
    else if (a === '--skip-shell') opts.skipShell = true;
    else throw new Error(`unknown argument ${a}; use --json, --runs N, --shell-runs N, --concurrency N, --node-arg FLAG, --skip-shell`);
  }
  return opts;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const at = (i: number) => s[i] ?? Number.NaN;
  return s.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
};
const round = (x: number, digits = 0) => Number(x.toFixed(digits));
const b64 = (t: string) => Buffer.from(t).toString('base64');
const unb64 = (t: unknown) => Buffer.from(String(t ?? ''), 'base64').toString('utf8');
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
/** Milliseconds on a clock shared with the CAP simulator's thread. */
const now = () => performance.timeOrigin + performance.now();

/** The CAP simulator running on its worker thread, as the bench sees it. */
interface RemoteCap {
  url: string;
  /** Requests received so far. */
  calls: number;
  /** Access key ids issued so far, in order. */
  issued: string[];
  onRequest?: (at: number) => void;
  stop(): Promise<void>;
}

async function startRemoteCap(file: string, data: CapWorkerData): Promise<RemoteCap> {
  const worker = new Worker(file, { workerData: data });
  let stopped: (() => void) | undefined;
  const cap: RemoteCap = {
    url: '',
    calls: 0,
    issued: [],
    stop: async () => {
      await new Promise<void>((resolve) => {
        stopped = resolve;
        worker.postMessage({ type: 'stop' });
      });
      await worker.terminate();
    },
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: CapWorkerMessage) => {
      if (m.type === 'ready') {
        cap.url = m.url;
        resolve();
      } else if (m.type === 'request') {
        cap.calls += 1;
        cap.onRequest?.(m.at);
      } else if (m.type === 'issued') cap.issued.push(m.accessKeyId);
      else if (m.type === 'stopped') stopped?.();
    });
  });
  return cap;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const startedAt = now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const endedAt = now();
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), startedAt, endedAt, ms: endedAt - startedAt });
    });
  });
}

function targetsFor(count: number, roles: number): Target[] {
  return Array.from({ length: count }, (_, i) => ({ namespace: `bench-${i % NAMESPACES}`, name: `aws-creds-${i}`, role: `bench-role-${i % roles}` }));
}

/** Fresh state: only these Secrets, each with old credentials and a role, as before a refresh. */
function seed(kube: KubeApiServer, targets: Target[]): Map<string, string> {
  kube.reset();
  const before = new Map<string, string>();
  for (const [i, t] of targets.entries()) {
    const keyId = `ASIAOLDBENCHKEY${String(i).padStart(5, '0')}`;
    kube.putSecret({
      metadata: { namespace: t.namespace, name: t.name, annotations: { 'cap-token-refresh/role': t.role }, labels: { app: 'bench' } },
      type: 'Opaque',
      data: { aws_access_key_id: b64(keyId), aws_secret_access_key: b64('old-secret'), unrelated: b64('keep-me') },
    });
    before.set(`${t.namespace}/${t.name}`, keyId);
  }
  return before;
}

/** Every target now holds a key id CAP issued after `issuedFrom`, different from before; returns the failures. */
function verifyRefreshed(kube: KubeApiServer, sim: RemoteCap, targets: Target[], before: Map<string, string>, issuedFrom: number): string[] {
  const issued = new Set(sim.issued.slice(issuedFrom));
  const problems: string[] = [];
  for (const t of targets) {
    const secret = kube.getSecret(t.namespace, t.name);
    const data = (secret?.data ?? {}) as Record<string, string>;
    const keyId = unb64(data.aws_access_key_id);
    if (keyId === before.get(`${t.namespace}/${t.name}`) || !issued.has(keyId)) problems.push(`${t.namespace}/${t.name} not refreshed`);
    else if (!unb64(data.credentials).includes(`aws_access_key_id = ${keyId}`)) problems.push(`${t.namespace}/${t.name} credentials key not written`);
    else if (unb64(data.unrelated) !== 'keep-me') problems.push(`${t.namespace}/${t.name} lost its other key`);
    else if (!secret?.metadata.annotations?.['cap-token-refresh/refreshed-at']) problems.push(`${t.namespace}/${t.name} has no refreshed-at`);
  }
  return problems;
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`verification failed: ${what}`);
}

export async function main({ root, capWorker, argv }: { root: string; capWorker: string; argv: string[] }): Promise<number> {
  const opts = parseArgs(argv);
  const bin = join(root, 'bin', 'cap-token-refresh');
  if (!existsSync(join(root, 'dist', 'cap-token-refresh.js'))) {
    log('dist/ is missing: run `npm run build` first');
    return 2;
  }
  for (const tool of ['kubectl', 'jq', 'curl']) {
    const found = await run('sh', ['-c', `command -v ${tool}`], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    if (found.code !== 0) {
      log(`${tool} is not on the PATH; the shell way needs kubectl, jq and curl (.ci/run installs them)`);
      return 2;
    }
  }

  const dir = await mkdtemp(join(tmpdir(), 'ctr-bench-'));
  // The command as a user runs it (the bin's shebang finds node); through node itself when profiling.
  // A tiny preload reports the child's peak RSS and CPU time at exit (usage-at-exit.mjs).
  const preload = pathToFileURL(join(root, 'scripts', 'bench', 'usage-at-exit.mjs')).href;
  let usageRuns = 0;
  const tool = async (args: string[], env: Record<string, string>): Promise<Proc & { usage: Usage }> => {
    const usageFile = join(dir, `usage-${usageRuns++}.json`);
    const childEnv = { ...env, NODE_OPTIONS: `--import ${preload}`, CTR_BENCH_USAGE_FILE: usageFile };
    const p = opts.nodeArgs.length > 0 ? await run(process.execPath, [...opts.nodeArgs, bin, ...args], childEnv) : await run(bin, args, childEnv);
    const raw = JSON.parse(await readFile(usageFile, 'utf8').catch(() => '{}')) as { maxRSS?: number; userCPUTime?: number; systemCPUTime?: number };
    return { ...p, usage: { rssMb: (raw.maxRSS ?? NaN) / 1024, cpuMs: ((raw.userCPUTime ?? NaN) + (raw.systemCPUTime ?? NaN)) / 1000 } };
  };

  let sim: RemoteCap | undefined;
  let kube: KubeApiServer | undefined;
  try {
    log('making a throwaway PKI and starting the CAP simulator and the Kubernetes API test server');
    const pki = createThrowawayPki();
    const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    await writeFile(files.ca, pki.ca.certPem);
    await writeFile(files.cert, pki.client.certPem);
    await writeFile(files.key, pki.client.keyPem, { mode: 0o600 });
    sim = await startRemoteCap(capWorker, { server: pki.server, clientCaPem: pki.ca.certPem, delayMs: CAP_DELAY_MS });
    kube = await startKubeApiServer();
    const kubeconfig = await kube.writeKubeconfig(dir);
    const home = join(dir, 'home');
    await mkdir(home);
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
    const capEnv = { CAP_URL: sim.url, AGENCY, MISSION, CAP_CERT_FILE: files.cert, CAP_KEY_FILE: files.key, CAP_CA_FILE: files.ca };
    const env = { ...baseEnv, ...capEnv, KUBECONFIG: kubeconfig };

    // Timestamps of CAP requests (as they arrive) and of Secret writes (as the server starts them).
    let capArrivals: number[] = [];
    let secretWrites: number[] = [];
    sim.onRequest = (at) => capArrivals.push(at);
    const watchWrites = (k: KubeApiServer) =>
      k.onBeforeWrite((req) => {
        if (req.resource === 'secrets') secretWrites.push(now());
      });

    const targets = targetsFor(SECRETS, ROLES);
    const targetArgs = targets.flatMap((t) => ['--target', `${t.namespace}/${t.name}`]);

    // 1. --version, cold.
    log('cold start: 10 x bin/cap-token-refresh --version');
    const versionMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await run(bin, ['--version'], baseEnv);
      must(p.code === 0 && /^\d+\.\d+\.\d+/.test(p.stdout), `--version printed ${JSON.stringify(p.stdout)}`);
      versionMs.push(p.ms);
    }

    // 2. The shell way.
    const shellMs: number[] = [];
    let shellCalls = 0;
    const shell = join(root, 'scripts', 'bench', 'shell-refresh.sh');
    // kubectl's discovery cache is warm on an administrator's workstation: warm it once, untimed.
    seed(kube, targets);
    const [first] = targets;
    if (!first) throw new Error('the benchmark has no targets');
    must(
      (await run('kubectl', ['get', 'secret', '-n', first.namespace, first.name, '-o', 'json'], env)).code === 0,
      'kubectl get works against the test server',
    );
    for (let i = 0; i < (opts.skipShell ? 0 : opts.shellRuns); i++) {
      log(`shell way (kubectl, jq, curl; one Secret after another), run ${i + 1} of ${opts.shellRuns}`);
      const before = seed(kube, targets);
      const calls = sim.calls;
      const issuedFrom = sim.issued.length;
      const p = await run('bash', [shell, ...targets.map((t) => `${t.namespace}/${t.name}`)], env);
      must(p.code === 0, `the shell way exited ${p.code}: ${p.stderr.slice(0, 500)}`);
      const problems = verifyRefreshed(kube, sim, targets, before, issuedFrom);
      must(problems.length === 0, `shell way: ${problems.slice(0, 3).join('; ')}`);
      shellCalls = sim.calls - calls;
      shellMs.push(p.ms);
    }

    // 3. cap-token-refresh refresh --force on the same work.
    interface ToolRun {
      ms: number;
      toFirstCap: number;
      phase: number;
      capCalls: number;
      serverCpuMs: number;
      toolCpuMs: number;
      rssMb: number;
    }
    const toolRuns: ToolRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      log(`cap-token-refresh refresh --force --concurrency ${opts.concurrency}, run ${i + 1} of ${opts.runs}`);
      const before = seed(kube, targets); // (reset() also drops hooks: watch after seeding)
      watchWrites(kube);
      const calls = sim.calls;
      const issuedFrom = sim.issued.length;
      capArrivals = [];
      secretWrites = [];
      const cpu = process.cpuUsage();
      const args = ['refresh', '--force', '--concurrency', String(opts.concurrency), '--output', 'json', '--log-level', 'warn', ...targetArgs];
      const p = await tool(args, env);
      const serverCpu = process.cpuUsage(cpu);
      must(p.code === 0, `refresh exited ${p.code}: ${p.stderr.slice(0, 500)}`);
      const report = JSON.parse(p.stdout) as { targets: { result: string }[] };
      must(report.targets.length === SECRETS && report.targets.every((t) => t.result === 'refreshed'), 'the report says every target refreshed');
      const problems = verifyRefreshed(kube, sim, targets, before, issuedFrom);
      must(problems.length === 0, `refresh: ${problems.slice(0, 3).join('; ')}`);
      must(secretWrites.length === SECRETS, `one write per Secret (saw ${secretWrites.length})`);
      const firstCap = Math.min(...capArrivals);
      const lastWrite = Math.max(...secretWrites);
      toolRuns.push({
        ms: p.ms,
        toFirstCap: firstCap - p.startedAt,
        phase: lastWrite - firstCap,
        toolCpuMs: p.usage.cpuMs,
        rssMb: p.usage.rssMb,
        capCalls: sim.calls - calls,
        serverCpuMs: (serverCpu.user + serverCpu.system) / 1000,
      });
    }

    // 4. Nothing due: the Secrets the last run wrote are fresh.
    const nothingDueMs: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      log(`nothing due: refresh of the ${SECRETS} fresh Secrets, run ${i + 1} of ${opts.runs}`);
      const calls = sim.calls;
      const version = kube.resourceVersion;
      kube.clearRequests();
      const p = await tool(['refresh', '--concurrency', String(opts.concurrency), '--output', 'json', '--log-level', 'warn', ...targetArgs], env);
      must(p.code === 0, `nothing-due refresh exited ${p.code}: ${p.stderr.slice(0, 500)}`);
      must(
        (JSON.parse(p.stdout) as { targets: { result: string }[] }).targets.every((t) => t.result === 'fresh'),
        'every target reported fresh',
      );
      must(sim.calls === calls, 'no CAP call when nothing is due');
      must(kube.resourceVersion === version && kube.requests.every((r) => r.verb === 'get'), 'no write of any kind when nothing is due');
      nothingDueMs.push(p.ms);
    }

    // 5. Peak memory at 1,000 Secrets, discovered from 1,000 CredentialsRequests as the CronJob does.
    log(`peak memory: refresh of ${BIG_SECRETS} Secrets over ${BIG_ROLES} roles (targets from CredentialsRequests)`);
    const big = targetsFor(BIG_SECRETS, BIG_ROLES);
    const bigBefore = seed(kube, big);
    for (const t of big) {
      kube.putCredentialsRequest({
        apiVersion: 'cloudcredential.openshift.io/v1',
        kind: 'CredentialsRequest',
        metadata: { namespace: CCO, name: `bench-${t.name}` },
        spec: {
          secretRef: { namespace: t.namespace, name: t.name },
          providerSpec: { apiVersion: 'cloudcredential.openshift.io/v1', kind: 'AWSProviderSpec', statementEntries: [] },
        },
      });
    }
    const bigIssuedFrom = sim.issued.length;
    const bigCalls = sim.calls;
    const bigRun = await tool(['refresh', '--output', 'json', '--log-level', 'warn'], env);
    must(bigRun.code === 0, `the ${BIG_SECRETS}-Secret refresh exited ${bigRun.code}: ${bigRun.stderr.slice(0, 500)}`);
    const bigProblems = verifyRefreshed(kube, sim, big, bigBefore, bigIssuedFrom);
    must(bigProblems.length === 0, `${BIG_SECRETS} Secrets: ${bigProblems.slice(0, 3).join('; ')}`);
    must(sim.calls - bigCalls === BIG_ROLES, `one CAP call per role at ${BIG_SECRETS} Secrets`);
    const peakRssMb = bigRun.usage.rssMb;

    // 6. Parsing and editing one Secret manifest of just under 1 MiB (~57,000 data keys), in this process.
    log('a 1 MiB manifest: find the managed Secret, then edit it');
    const large = largeSecretManifest();
    const manifestMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      must(findManagedSecrets(large.text).length === 1, 'the 1 MiB manifest holds one managed Secret');
      applyCredentialsToManifest(
        large.text,
        [0],
        { accessKeyId: 'ASIABENCHBENCHBENCH1', secretAccessKey: 'bench', sessionToken: 'bench', expiration: new Date(Date.now() + 3600_000) },
        new Date(),
      );
      manifestMs.push(performance.now() - t0);
    }

    // Figures.
    const toolMs = median(toolRuns.map((r) => r.ms));
    const phaseMs = median(toolRuns.map((r) => r.phase));
    const capCalls = toolRuns.map((r) => r.capCalls);
    const idealMs = Math.ceil(ROLES / opts.concurrency) * CAP_DELAY_MS;
    const result = {
      speedup_vs_shell: round(median(shellMs) / toolMs, 1),
      efficiency_vs_ideal: round(idealMs / phaseMs, 2),
      efficiency_vs_ideal_wall: round(idealMs / toolMs, 2),
      cap_calls: Math.max(...capCalls),
      distinct_roles: ROLES,
      concurrency: opts.concurrency,
      cold_start_ms: round(median(versionMs)),
      cold_start_refresh_ms: round(median(toolRuns.map((r) => r.toFirstCap))),
      peak_rss_mb_1000: round(peakRssMb, 1),
      nothing_due_ms: round(median(nothingDueMs)),
      manifest_1mib_ms: round(median(manifestMs)),
      shell_ms: round(median(shellMs)),
      shell_cap_calls: shellCalls,
      refresh_ms: round(toolMs),
      refresh_phase_ms: round(phaseMs),
      ideal_ms: idealMs,
      big_refresh_ms: round(bigRun.ms),
      server_cpu_ms_per_refresh: round(median(toolRuns.map((r) => r.serverCpuMs))),
      refresh_cpu_ms: round(median(toolRuns.map((r) => r.toolCpuMs))),
      peak_rss_mb_60: round(median(toolRuns.map((r) => r.rssMb)), 1),
      runs: opts.runs,
      machine: `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    };
    const targetsMet = {
      speedup_vs_shell: result.speedup_vs_shell >= 20,
      efficiency_vs_ideal: result.efficiency_vs_ideal >= 0.8,
      cap_calls: capCalls.every((c) => c === ROLES),
      cold_start_ms: result.cold_start_ms < 150,
      peak_rss_mb_1000: result.peak_rss_mb_1000 < 100,
    };

    const ms = (xs: number[]) => xs.map((x) => round(x)).join(', ');
    const rows: [string, string, string, string][] = [
      ['speedup_vs_shell', `${result.speedup_vs_shell}x`, '>= 20x', `shell ${ms(shellMs)} ms (${shellCalls} CAP calls) / refresh median ${round(toolMs)} ms`],
      [
        'efficiency_vs_ideal',
        String(result.efficiency_vs_ideal),
        '>= 0.8',
        `ideal ceil(${ROLES}/${opts.concurrency}) x ${CAP_DELAY_MS} ms = ${idealMs} ms / first CAP request to last Secret write, median ${round(phaseMs)} ms (${ms(toolRuns.map((r) => r.phase))})`,
      ],
      [
        'efficiency_vs_ideal_wall',
        String(result.efficiency_vs_ideal_wall),
        '(info)',
        `ideal ${idealMs} ms / whole process ${round(toolMs)} ms (${ms(toolRuns.map((r) => r.ms))})`,
      ],
      ['cap_calls / distinct_roles', `${result.cap_calls} / ${ROLES}`, 'equal', `per run: ${capCalls.join(', ')}`],
      ['cold_start_ms', String(result.cold_start_ms), '< 150', `--version, median of 10: ${ms(versionMs)}`],
      [
        'cold_start_refresh_ms',
        String(result.cold_start_refresh_ms),
        '(info)',
        `spawn to first CAP request (identity, kubeconfig, ${SECRETS} reads): ${ms(toolRuns.map((r) => r.toFirstCap))}`,
      ],
      [
        'peak_rss_mb_1000',
        String(result.peak_rss_mb_1000),
        '< 100',
        `${BIG_SECRETS} Secrets, ${BIG_ROLES} roles, ${round(bigRun.ms)} ms; ru_maxrss of the child`,
      ],
      ['nothing_due_ms', String(result.nothing_due_ms), '(info)', `${SECRETS} fresh Secrets, 0 CAP calls, reads only: ${ms(nothingDueMs)}`],
      [
        'manifest_1mib_ms',
        String(result.manifest_1mib_ms),
        '(info)',
        `find + edit one ${round(large.text.length / 1024)} KiB Secret manifest of ${large.keys} keys: ${ms(manifestMs)}`,
      ],
      [
        'refresh_cpu_ms',
        String(result.refresh_cpu_ms),
        '(info)',
        `CPU time (user + system) of the refresh process: ${ms(toolRuns.map((r) => r.toolCpuMs))}; peak RSS ${result.peak_rss_mb_60} MB`,
      ],
      ['server_cpu_ms_per_refresh', String(result.server_cpu_ms_per_refresh), '(info)', 'CPU of this process (both test servers) during one refresh'],
    ];
    process.stdout.write(
      [
        `cap-token-refresh benchmark: ${SECRETS} Secrets over ${ROLES} roles, CAP answering after ${CAP_DELAY_MS} ms, --concurrency ${opts.concurrency}`,
        `on ${result.machine}`,
        '',
        ...renderColumns([['FIGURE', 'VALUE', 'TARGET', 'DETAIL'], ...rows]),
        '',
        `targets: ${Object.entries(targetsMet)
          .map(([k, ok]) => `${k} ${ok ? 'met' : 'MISSED'}`)
          .join(', ')}`,
        '',
      ].join('\n'),
    );
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...result, targets_met: targetsMet })}\n`);
    return 0;
  } finally {
    await kube?.stop();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
