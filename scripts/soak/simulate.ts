// A month of a cluster's life in minutes: the real `refresh` command, in process, on a virtual
// clock, against the CAP simulator and the Kubernetes API test server, run on the CronJob's
// schedule and settings as `generate` writes them, through CAP outages, API server faults,
// late, skipped, overlapping and cut-off runs, clock drift and a revoked role.
// Deterministic from a seed: every random choice comes from one seeded generator.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refresh } from '../../src/commands/refresh.js';
import type { CommandContext } from '../../src/commands/context.js';
import { buildSecretStringData } from '../../src/core/credentials.js';
import { ANNOTATION_EXPIRATION, ANNOTATION_ROLE, LABEL_MANAGED } from '../../src/core/names.js';
import { Redactor } from '../../src/log/redactor.js';
import { cronJobObject, DEFAULT_RENEW_BEFORE, DEFAULT_SCHEDULE, PLACEHOLDERS } from '../../src/manifests/kubernetes-objects.js';
import { startCapSimulator, type RoleBehaviour } from '../../src/sim/cap-simulator.js';
import { createCertificateAuthority, issueCertificate } from '../../src/sim/pki.js';
import { startKubeApiServer } from '../../test/support/kube-api-server.js';

export interface SoakOptions {
  days: number;
  seed: number;
  /** Progress lines (one per simulated day), or nothing. */
  progress?: (line: string) => void;
}

export interface TargetFigures {
  namespace: string;
  name: string;
  role: string;
  lifetime_seconds: number;
  revoked: boolean;
  /** Its credentials live longer than the longest CAP outage plus one schedule period: no outage need expire them. */
  outlives_outages: boolean;
  writes: number;
  cap_calls: number;
  expired_seconds: number;
  least_seconds_left: number | null;
  writes_per_lifetime: number;
  cap_calls_per_lifetime: number;
}

export interface SoakResult {
  days: number;
  seed: number;
  schedule: string;
  renew_before: string;
  retry_for: string;
  runs: number;
  failed_runs: number;
  skipped_runs: number;
  overlapping_runs: number;
  failures: Record<string, number>;
  expired_seconds: number;
  /** Of the Secrets whose credentials outlive the longest outage (one-hour ones): the figure the product must hold at 0. */
  expired_seconds_outliving_outages: number;
  expired_seconds_revoked: number;
  least_seconds_left: number | null;
  max_writes_per_secret_per_lifetime: number;
  max_cap_calls_per_role_per_lifetime: number;
  wall_seconds: number;
  targets: TargetFigures[];
}

/** One operator Secret of the simulated cluster and the role CAP issues for it. */
interface SimTarget {
  namespace: string;
  name: string;
  role: string;
  lifetimeSeconds: number;
  revoked: boolean;
}

const AGENCY = 'SOAK';
const MISSION = 'SOAK-MISSION';
const START = Date.parse('2026-01-05T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The longest CAP outage drawn. */
export const MAX_CAP_OUTAGE_MS = 20 * MINUTE;

const TARGETS: SimTarget[] = [
  { namespace: 'openshift-machine-api', name: 'aws-cloud-credentials', role: 'soak-machine-api', lifetimeSeconds: 3600, revoked: false },
  { namespace: 'openshift-image-registry', name: 'installer-cloud-credentials', role: 'soak-image-registry', lifetimeSeconds: 3600, revoked: false },
  { namespace: 'openshift-ingress-operator', name: 'cloud-credentials', role: 'soak-ingress', lifetimeSeconds: 3600, revoked: false },
  { namespace: 'openshift-cluster-csi-drivers', name: 'ebs-cloud-credentials', role: 'soak-ebs', lifetimeSeconds: 3600, revoked: false },
  { namespace: 'openshift-cloud-network-config-controller', name: 'cloud-credentials', role: 'soak-cncc', lifetimeSeconds: 900, revoked: false },
  {
    namespace: 'openshift-cloud-credential-operator',
    name: 'cloud-credential-operator-iam-ro-creds',
    role: 'soak-revoked',
    lifetimeSeconds: 3600,
    revoked: true,
  },
];

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Window {
  start: number;
  end: number;
  /** undefined: the whole portal. */
  role?: string;
  behaviour: RoleBehaviour;
}

/** The CronJob's schedule (every N minutes) and the refresh flags, read from the object `generate` writes. */
export function cronJobSettings(): { schedule: string; periodMs: number; args: string[] } {
  const cronJob = cronJobObject({
    image: PLACEHOLDERS.image,
    capUrl: PLACEHOLDERS.capUrl,
    agency: AGENCY,
    mission: MISSION,
    schedule: DEFAULT_SCHEDULE,
    renewBefore: DEFAULT_RENEW_BEFORE,
  }) as unknown as {
    spec: { schedule: string; jobTemplate: { spec: { template: { spec: { containers: { args?: string[] }[] } } } } };
  };
  const schedule = cronJob.spec.schedule ?? '';
  const every = /^\*\/(\d+) \* \* \* \*$/.exec(schedule) ?? /^(\d+)-59\/(\d+) \* \* \* \*$/.exec(schedule);
  const minutes = every ? Number(every[every.length - 1]) : Number.NaN;
  if (!Number.isFinite(minutes)) throw new Error(`soak: cannot read the CronJob schedule ${JSON.stringify(schedule)}`);
  const args = cronJob.spec.jobTemplate.spec.template.spec.containers[0]?.args ?? ['refresh'];
  return { schedule, periodMs: minutes * MINUTE, args };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const wallStart = Date.now();
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(random() * items.length)];
    if (item === undefined) throw new Error('the soak picked from an empty list');
    return item;
  };
  const span = options.days * DAY;
  const { schedule, periodMs, args } = cronJobSettings();
  const renewBefore = flagValue(args, '--renew-before');
  const retryFor = flagValue(args, '--retry-for');

  // The virtual clock: CAP's (true) time; the node's clock drifts against it.
  let now = START;
  const driftAmplitude = 3 * MINUTE;
  const driftPhase = random() * 2 * Math.PI;
  const drift = (t: number) => Math.round(driftAmplitude * Math.sin(driftPhase + (2 * Math.PI * (t - START)) / (3.3 * DAY)));

  const work = await mkdtemp(join(tmpdir(), 'ctr-soak-'));
  const ca = createCertificateAuthority('soak CA');
  const serverCert = issueCertificate(ca, { commonName: '127.0.0.1', usage: 'server', altNames: { ip: ['127.0.0.1'] } });
  const clientCert = issueCertificate(ca, { commonName: 'soak-client', usage: 'client' });
  const sim = await startCapSimulator({ server: serverCert, clientCaPem: ca.certPem, now: () => new Date(now) });
  const kube = await startKubeApiServer();
  try {
    await Promise.all([
      writeFile(join(work, 'ca.crt'), ca.certPem),
      writeFile(join(work, 'tls.crt'), clientCert.certPem),
      writeFile(join(work, 'tls.key'), clientCert.keyPem, { mode: 0o600 }),
    ]);
    const kubeconfig = await kube.writeKubeconfig(work);
    for (const t of TARGETS) {
      kube.putCredentialsRequest({
        metadata: { name: `soak-${t.role}`, namespace: 'openshift-cloud-credential-operator' },
        spec: { secretRef: { namespace: t.namespace, name: t.name }, providerSpec: { kind: 'AWSProviderSpec' } },
      });
      // As the install leaves it: seeded by `fill` with one CAP answer (no issued-role), so the first run asks for the Secret's own role.
      const seeded = new Date(START + t.lifetimeSeconds * 1000);
      kube.putSecret({
        metadata: {
          namespace: t.namespace,
          name: t.name,
          labels: { [LABEL_MANAGED]: 'true' },
          annotations: { [ANNOTATION_ROLE]: t.role, [ANNOTATION_EXPIRATION]: seeded.toISOString().replace(/\.\d{3}Z$/, 'Z') },
        },
        stringData: buildSecretStringData({ accessKeyId: 'ASIASOAKSEEDED000001', secretAccessKey: 'seeded', sessionToken: 'seeded', expiration: seeded }),
      });
    }

    // The faults of the whole span, drawn up front.
    const capOutages: Window[] = [];
    const apiDown: Window[] = [];
    for (let day = 0; day < options.days; day += 1) {
      for (let i = 0; i < 3; i += 1) {
        const start = START + day * DAY + random() * DAY;
        const length = MINUTE + random() * (MAX_CAP_OUTAGE_MS - MINUTE);
        const behaviour = pick<RoleBehaviour>([
          { kind: 'status', status: 503 },
          { kind: 'status', status: 500 },
          { kind: 'html', status: 502 },
          { kind: 'drop' },
        ]);
        const whole = random() < 0.4;
        capOutages.push({ start, end: start + length, behaviour, ...(whole ? {} : { role: pick(TARGETS.filter((t) => !t.revoked)).role }) });
      }
      const downStart = START + day * DAY + random() * DAY;
      apiDown.push({ start: downStart, end: downStart + (1 + random() * 9) * MINUTE, behaviour: { kind: 'drop' } });
    }
    const revokedFrom = START + Math.min(1, options.days / 3) * DAY * 0.5;
    const revokedUntil = revokedFrom + DAY;

    // The API server: gone during its windows, 5xx/429 bursts, another writer now and then, and runs cut off part way.
    let apiIsDown = false;
    let cutOffAfterWrites = Number.POSITIVE_INFINITY;
    let writesThisRun = 0;
    kube.failNext({ status: 503, count: Number.POSITIVE_INFINITY, match: (r) => apiIsDown && r.isResourceRequest });
    kube.failNext({
      status: 503,
      count: Number.POSITIVE_INFINITY,
      match: (r) => r.isResourceRequest && r.verb === 'update' && ++writesThisRun > cutOffAfterWrites,
    });
    let otherWriter = false;
    kube.onBeforeWrite((r) => {
      if (!otherWriter || r.verb !== 'update' || r.resource !== 'secrets' || !r.namespace || !r.name) return;
      otherWriter = false;
      const current = kube.getSecret(r.namespace, r.name);
      if (current) kube.putSecret({ ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, touched: 'elsewhere' } } });
    });

    const setCapBehaviours = () => {
      for (const t of TARGETS) {
        const outage = capOutages.find((w) => w.start <= now && now < w.end && (w.role === undefined || w.role === t.role));
        if (t.revoked && revokedFrom <= now && now < revokedUntil) sim.setBehaviour(t.role, { kind: 'status', status: 403 });
        else if (outage) sim.setBehaviour(t.role, outage.behaviour);
        else sim.setBehaviour(t.role, { kind: 'ok', lifetimeSeconds: t.lifetimeSeconds });
      }
    };

    const context = (): CommandContext => ({
      env: { CAP_URL: sim.url, AGENCY, MISSION, CAP_CERTS_DIR: work, HOME: work },
      cwd: work,
      stdout: (text) => outputs.push(text),
      stderr: () => undefined,
      stderrIsTTY: false,
      now: () => new Date(now + drift(now)),
      // A retry's wait moves the virtual clock (two overlapping runs waiting at once move it once), and the faults follow it.
      sleep: async (ms) => {
        const wake = now + ms;
        await Promise.resolve();
        now = Math.max(now, wake);
        apiIsDown = apiDown.some((w) => w.start <= now && now < w.end);
        setCapBehaviours();
      },
      // Each run its own generator drawn from the seed, so that a run's own jitter cannot shift the next run's draws.
      random: seededRandom(Math.floor(random() * 2 ** 32)),
      redactor: new Redactor(),
      readStdin: async () => Buffer.alloc(0),
    });
    let outputs: string[] = [];

    // What each Secret held, sampled between runs: its expiration stays put until a run writes it.
    const state = TARGETS.map((t) => ({
      target: t,
      expiration: START + t.lifetimeSeconds * 1000,
      expiredMs: 0,
      leastLeftMs: Number.POSITIVE_INFINITY,
      writes: 0,
    }));
    let sampledAt = START;
    const sample = (until: number) => {
      for (const s of state) {
        s.expiredMs += Math.max(0, until - Math.max(sampledAt, s.expiration));
        // Least time left, outside the revoked role.
        if (!s.target.revoked) s.leastLeftMs = Math.min(s.leastLeftMs, s.expiration - until);
      }
      sampledAt = until;
    };
    const observe = () => {
      for (const s of state) {
        const secret = kube.getSecret(s.target.namespace, s.target.name);
        const expiration = Date.parse(secret?.metadata.annotations?.[ANNOTATION_EXPIRATION] ?? '');
        if (Number.isFinite(expiration) && expiration !== s.expiration) {
          s.expiration = expiration;
          s.writes += 1;
        }
      }
    };

    const failures = new Map<string, number>();
    let runs = 0;
    let failedRuns = 0;
    let skipped = 0;
    let overlapping = 0;
    const flags = {
      kubeconfig,
      output: 'json' as const,
      logLevel: 'error' as const,
      ...(renewBefore ? { renewBefore } : {}),
      ...(retryFor ? { retryFor } : {}),
    };
    let nextDay = START + DAY;

    for (let slot = START; slot < START + span; slot += periodMs) {
      if (random() < 0.03) {
        skipped += 1; // the CronJob missed its start (a busy node, startingDeadlineSeconds passed)
        continue;
      }
      const start = slot + (random() < 0.15 ? random() * 4 * MINUTE : random() * 20_000);
      if (start < now) continue; // the previous run (with its retries) is still going: concurrencyPolicy Forbid
      sample(start);
      now = start;
      apiIsDown = apiDown.some((w) => w.start <= now && now < w.end);
      if (random() < 0.02) kube.failNext({ status: pick([500, 503, 429]), count: 1 + Math.floor(random() * 4) });
      otherWriter = random() < 0.03;
      cutOffAfterWrites = random() < 0.02 ? Math.floor(random() * 3) : Number.POSITIVE_INFINITY;
      writesThisRun = 0;
      setCapBehaviours();
      const twice = random() < 0.02;
      const calls = twice ? [refresh(flags, context()), refresh(flags, context())] : [refresh(flags, context())];
      if (twice) overlapping += 1;
      outputs = [];
      const results = await Promise.allSettled(calls);
      for (const result of results) {
        runs += 1;
        const failed = result.status === 'rejected' || result.value.exitCode !== 0;
        if (!failed) continue;
        failedRuns += 1;
        const why =
          result.status === 'rejected'
            ? firstLine(result.reason)
            : result.value.report.targets
                .filter((t) => t.result === 'failed')
                .map((t) => `${t.role ?? t.name}: ${firstLine(t.error ?? 'failed')}`)
                .join('; ');
        failures.set(why, (failures.get(why) ?? 0) + 1);
      }
      sample(Math.max(now, sampledAt)); // up to the run's end: a Secret that expired during a long run counts
      observe();
      if (now >= nextDay) {
        options.progress?.(`day ${Math.round((now - START) / DAY)}: ${runs} runs, ${failedRuns} failed`);
        nextDay += DAY;
      }
    }
    sample(START + span);

    const lifetimes = (t: SimTarget) => span / (t.lifetimeSeconds * 1000);
    const callsByRole = new Map<string, number>();
    for (const call of sim.calls) callsByRole.set(call.role ?? '', (callsByRole.get(call.role ?? '') ?? 0) + 1);
    const targets = state.map(
      (s): TargetFigures => ({
        namespace: s.target.namespace,
        name: s.target.name,
        role: s.target.role,
        lifetime_seconds: s.target.lifetimeSeconds,
        revoked: s.target.revoked,
        outlives_outages: s.target.lifetimeSeconds * 1000 > MAX_CAP_OUTAGE_MS + periodMs,
        writes: s.writes,
        cap_calls: callsByRole.get(s.target.role) ?? 0,
        expired_seconds: Math.round(s.expiredMs / 1000),
        least_seconds_left: Number.isFinite(s.leastLeftMs) ? Math.round(s.leastLeftMs / 1000) : null,
        writes_per_lifetime: round(s.writes / lifetimes(s.target)),
        cap_calls_per_lifetime: round((callsByRole.get(s.target.role) ?? 0) / lifetimes(s.target)),
      }),
    );
    const healthy = targets.filter((t) => !t.revoked);
    const least = healthy.map((t) => t.least_seconds_left).filter((v): v is number => v !== null);
    return {
      days: options.days,
      seed: options.seed,
      schedule,
      renew_before: renewBefore ?? 'a third of the lifetime (the default)',
      retry_for: retryFor ?? '1m (the default)',
      runs,
      failed_runs: failedRuns,
      skipped_runs: skipped,
      overlapping_runs: overlapping,
      failures: Object.fromEntries([...failures].sort((a, b) => b[1] - a[1])),
      expired_seconds: healthy.reduce((sum, t) => sum + t.expired_seconds, 0),
      expired_seconds_outliving_outages: healthy.filter((t) => t.outlives_outages).reduce((sum, t) => sum + t.expired_seconds, 0),
      expired_seconds_revoked: targets.filter((t) => t.revoked).reduce((sum, t) => sum + t.expired_seconds, 0),
      least_seconds_left: least.length > 0 ? Math.min(...least) : null,
      max_writes_per_secret_per_lifetime: Math.max(...healthy.map((t) => t.writes_per_lifetime)),
      max_cap_calls_per_role_per_lifetime: Math.max(...healthy.map((t) => t.cap_calls_per_lifetime)),
      wall_seconds: round((Date.now() - wallStart) / 1000),
      targets,
    };
  } finally {
    await kube.stop();
    await sim.stop();
    await rm(work, { recursive: true, force: true });
  }
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  const arg = args[i] ?? '';
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1];
}

function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return (text.split('\n')[0] ?? '').slice(0, 160);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
