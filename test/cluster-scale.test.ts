// Many Secrets: the cluster refresh reads, writes and records Events with bounded parallelism
// (never one by one, never more than 16 API calls in flight), and one CAP call per role.

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CapFixture } from './support/cap-fixture.js';
import type { KubeApiServer } from './support/kube-api-server.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { runCli } from './support/run-cli.js';

const SECRETS = 400;
const ROLES = 10;
const NAMESPACES = 40;

let cap: CapFixture;
let kube: KubeApiServer;
let kubeconfig: string;

let fixture: ClusterFixture | undefined;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-scale-');
  ({ cap, kube, kubeconfig } = fixture);
});

afterAll(async () => {
  await fixture?.stop();
});

it(`refreshes ${SECRETS} Secrets with at most 16 writes in flight, then finds them all fresh`, async () => {
  const targets: string[] = [];
  for (let i = 0; i < SECRETS; i++) {
    const namespace = `team-${i % NAMESPACES}`;
    kube.putSecret({ metadata: { namespace, name: `aws-creds-${i}`, annotations: { 'cap-token-refresh/role': `role-${i % ROLES}` } }, data: {} });
    targets.push(`${namespace}/aws-creds-${i}`);
  }
  // Writes (Secret updates, Event creates) take 10 ms each on the server; count those in flight.
  const inFlight: Record<string, number> = {};
  const most: Record<string, number> = {};
  kube.onBeforeWrite(async (req) => {
    inFlight[req.verb] = (inFlight[req.verb] ?? 0) + 1;
    most[req.verb] = Math.max(most[req.verb] ?? 0, inFlight[req.verb]!);
    await new Promise((r) => setTimeout(r, 10));
    inFlight[req.verb]! -= 1;
  });
  const args = ['refresh', '--kubeconfig', kubeconfig, ...targets.flatMap((t) => ['--target', t]), '--output', 'json', '--log-level', 'warn'];
  const callsBefore = cap.sim.calls.length;

  const started = Date.now();
  const first = await runCli(args, { env: cap.env, timeoutMs: 120_000 });
  const firstMs = Date.now() - started;
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  const report = JSON.parse(first.stdout) as { targets: { result: string }[] };
  expect(report.targets.filter((t) => t.result === 'refreshed')).toHaveLength(SECRETS);
  expect(cap.sim.calls.length - callsBefore).toBe(ROLES);
  expect(kube.requests.filter((r) => r.verb === 'update' && r.status === 200)).toHaveLength(SECRETS);
  expect(kube.listEvents()).toHaveLength(SECRETS);
  for (const verb of ['update', 'create']) {
    expect(most[verb], verb).toBeGreaterThan(4);
    expect(most[verb], verb).toBeLessThanOrEqual(16);
  }

  kube.clearRequests();
  const again = Date.now();
  const second = await runCli(args, { env: cap.env, timeoutMs: 120_000 });
  const secondMs = Date.now() - again;
  expect(second.code).toBe(0);
  expect((JSON.parse(second.stdout) as { targets: { result: string }[] }).targets.every((t) => t.result === 'fresh')).toBe(true);
  expect(kube.requests.map((r) => r.verb)).toEqual(Array(SECRETS).fill('get'));
  expect(cap.sim.calls.length - callsBefore).toBe(ROLES);
  console.log(
    `${SECRETS} Secrets, ${ROLES} roles: first run ${firstMs} ms (all refreshed), second run ${secondMs} ms (all fresh); most writes in flight: ${JSON.stringify(most)}`,
  );
}, 120_000);
