// A node whose clock is off CAP's, seen in a cluster: above 60 s every Secret written gets a
// Warning ClockSkew Event naming the offset and the way (above 5 min, that AWS will refuse what
// the node signs), the offset is recorded on the Secret, and `status` shows it. Against the
// Kubernetes API test server and a CAP simulator whose Date header is skewed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CapFixture } from './support/cap-fixture.js';
import { KEY_PASSPHRASE, P12_PASSPHRASE } from './support/cap-fixture.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import type { KubeApiServer, KubeObject } from './support/kube-api-server.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';

const NS = 'openshift-skew-test';
const NAMES = ['skew-a', 'skew-b'] as const;
const OFFSET = 'cap-token-refresh/clock-offset-seconds';

let fixture: ClusterFixture | undefined;
let cap: CapFixture;
let kube: KubeApiServer;
let kubeconfig: string;
const outputs: CliResult[] = [];
const eventsSeen: KubeObject[] = [];

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-skew-');
  ({ cap, kube, kubeconfig } = fixture);
});
afterAll(async () => {
  await fixture?.stop();
});
beforeEach(() => {
  cap.sim.setDateOffset(0);
  kube.reset();
  for (const name of NAMES) {
    kube.putSecret({ metadata: { namespace: NS, name, annotations: { 'cap-token-refresh/role': `role-${name}` } }, type: 'Opaque', data: {} });
  }
});

const targets = NAMES.flatMap((n) => ['--target', `${NS}/${n}`]);
async function cli(args: string[]): Promise<CliResult> {
  const r = await runInProcess([...args, '--kubeconfig', kubeconfig, ...targets], { env: cap.env });
  outputs.push(r);
  return r;
}
const refresh = (extra: string[] = []) => cli(['refresh', '--log-format', 'json', ...extra]);
const status = (extra: string[] = []) => cli(['status', ...extra]);
const skewEvents = () => kube.listEvents(NS).filter((e) => e.reason === 'ClockSkew');
const annotation = (name: string) => kube.getSecret(NS, name)?.metadata.annotations?.[OFFSET];
const involved = (e: KubeObject) => (e.involvedObject as { name: string }).name;

describe('clock skew in a cluster', () => {
  it('a node 90 s behind CAP: a Warning ClockSkew Event on each Secret written, the offset recorded, status shows it', async () => {
    cap.sim.setDateOffset(90_000);
    const r = await refresh();
    expect(r.code).toBe(0);
    const events = skewEvents();
    eventsSeen.push(...kube.listEvents(NS));
    expect(events.map(involved).sort()).toEqual([...NAMES]);
    for (const e of events) {
      expect(e).toMatchObject({
        type: 'Warning',
        reason: 'ClockSkew',
        involvedObject: { kind: 'Secret', namespace: NS },
        source: { component: 'cap-token-refresh' },
      });
      expect(e.message).toMatch(
        new RegExp(
          `^The clock of the node that refreshed the credentials for role role-${involved(e)} is behind CAP's by (89|9[01])s; fix its time source \\(NTP/chrony\\)\\. The expiration and refreshed-at annotations follow CAP's clock$`,
        ),
      );
    }
    // The usual Normal Event is still there, one per Secret.
    expect(kube.listEvents(NS).filter((e) => e.reason === 'CredentialsRefreshed')).toHaveLength(NAMES.length);
    for (const name of NAMES) expect(annotation(name)).toMatch(/^(89|9[01])$/);

    // (status exits 1 here for another reason: the test cluster has no refresh CronJob.)
    const table = await status();
    for (const name of NAMES) {
      expect(table.stdout).toMatch(
        new RegExp(
          `^clock skew: ${NS}/${name}: at its last refresh the refreshing node's clock was behind CAP's by (89|9[01])s; AWS allows up to 5 minutes, so requests signed there still work; fix that node's time source`,
          'm',
        ),
      );
    }
    const json = JSON.parse((await status(['--output', 'json'])).stdout) as { targets: { name: string; clockOffsetSeconds?: number }[] };
    for (const t of json.targets) expect(Math.abs((t.clockOffsetSeconds ?? 0) - 90)).toBeLessThanOrEqual(1);
  });

  it('a node 10 minutes ahead of CAP: the Event and status say AWS will refuse requests signed there', async () => {
    cap.sim.setDateOffset(-600_000);
    const r = await refresh();
    expect(r.code).toBe(0);
    const events = skewEvents();
    eventsSeen.push(...kube.listEvents(NS));
    expect(events).toHaveLength(NAMES.length);
    for (const e of events) {
      expect(e.message).toMatch(
        /is ahead of CAP's by (599|60[01])s; AWS will refuse requests signed on this node \(SigV4 allows 5 minutes of skew\); fix its time source/,
      );
    }
    for (const name of NAMES) expect(annotation(name)).toMatch(/^-(599|60[01])$/);
    const table = await status();
    expect(table.stdout).toMatch(
      new RegExp(
        `^clock skew: ${NS}/${NAMES[0]}: at its last refresh the refreshing node's clock was ahead of CAP's by (599|60[01])s; AWS will refuse requests signed on that node`,
        'm',
      ),
    );
  });

  it('within 60 s: no ClockSkew Event, and a later refresh removes the recorded offset', async () => {
    cap.sim.setDateOffset(-600_000);
    expect((await refresh()).code).toBe(0);
    expect(annotation(NAMES[0])).toBeDefined();
    kube.reset();
    // The same Secrets as that refresh left them would be fresh: --force writes them again, now with a good clock.
    for (const name of NAMES) {
      kube.putSecret({
        metadata: { namespace: NS, name, annotations: { 'cap-token-refresh/role': `role-${name}`, [OFFSET]: '-600' } },
        type: 'Opaque',
        data: {},
      });
    }
    cap.sim.setDateOffset(20_000);
    const r = await refresh(['--force']);
    expect(r.code).toBe(0);
    expect(skewEvents()).toEqual([]);
    for (const name of NAMES) expect(annotation(name)).toBeUndefined();
    expect((await status()).stdout).not.toContain('clock skew');
  });

  it('no issued credential, key or passphrase in any Event or output of this file', () => {
    expect(eventsSeen.filter((e) => e.reason === 'ClockSkew').length).toBeGreaterThanOrEqual(4);
    const text = JSON.stringify({ outputs, eventsSeen });
    for (const c of cap.sim.issued) for (const s of [c.accessKeyId, c.secretAccessKey, c.sessionToken]) expect(text).not.toContain(s);
    for (const s of [KEY_PASSPHRASE, P12_PASSPHRASE, cap.pki.client.keyPem.split('\n')[1]!]) expect(text).not.toContain(s);
  });
});
