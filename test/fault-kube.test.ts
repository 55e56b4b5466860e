// Fault matrix, Kubernetes rows: the API server refuses, loses or breaks a request, goes away,
// or the credentials to it stop working, during a cluster refresh by the built command
// (`npm run build` first) against the Kubernetes API test server and the CAP simulator.
// Each row checks three things:
//   1. the right Secrets end refreshed, and the others keep their resourceVersion and data;
//   2. the message names the Secret and the cure;
//   3. no secret (issued credentials, the key passphrase, the API token, the server's own
//      text) in any output, Event or annotation.

import type { TargetReport as ReportTarget } from '../src/core/report.js';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KEY_PASSPHRASE, P12_PASSPHRASE, startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './support/kube-api-server.js';
import { runCli, type CliResult } from './support/run-cli.js';
import { makeTempDir } from './support/temp-dir.js';
import type { RequestInfo } from './support/kube-api-server/request-info.js';

const NS = 'kube-faults';
const VICTIM = 'victim-credentials';
const OTHERS = ['other-credentials-a', 'other-credentials-b'];
const ALL = [VICTIM, ...OTHERS];
/** Text the API server puts in its Status; it may carry anything, so it is never shown. */
const SERVER_TEXT = 'SERVER-STATUS-TEXT-that-must-not-leak';
const PLANTED_TOKEN = 'sha256~PLANTED-KUBECONFIG-TOKEN-must-not-leak';

interface Row {
  fault: string;
  /** Set up the fault on the server (before the run); `victim` is the Secret it targets. */
  inject?: (kube: KubeApiServer) => void;
  /** Leave the victim out of the cluster (a Secret that does not exist). */
  missingVictim?: boolean;
  /** A kubeconfig of its own, written into dir. */
  kubeconfig?: (dir: string, kube: KubeApiServer) => Promise<string>;
  /** A server of its own (the row stops it). */
  ownServer?: boolean;
  code: number;
  /** Which Secrets end refreshed: the others, none, or (server gone / token expired) exactly one of them. */
  refreshed: 'others' | 'exactly-one' | 'none';
  /** The error of each failed Secret; `name` is that Secret's name. */
  message: (name: string, server: string) => RegExp;
  /** Updates the victim sees (409 retries). */
  victimUpdates?: number;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const rbacCure = (name: string) =>
  `the job's service account needs a Role in namespace ${NS} allowing get and update on secrets with resourceNames \\[${name}\\], bound to it by a RoleBinding ` +
  `\\(manifests/ has them; check with: oc auth can-i update secret/${name} -n ${NS} --as system:serviceaccount:cap-token-refresh:cap-token-refresh\\)`;
const isVictimUpdate = (q: Pick<RequestInfo, 'verb' | 'name' | 'resource'>) => q.resource === 'secrets' && q.verb === 'update' && q.name === VICTIM;

const ROWS: Row[] = [
  {
    fault: '403 on update',
    inject: (kube) => kube.deny({ namespace: NS, name: VICTIM, resource: 'secrets', verb: 'update' }),
    code: 1,
    refreshed: 'others',
    message: (name) => new RegExp(`^not allowed to update Secret ${NS}/${name} \\(HTTP 403 Forbidden\\): ${rbacCure(name)}$`),
  },
  {
    fault: '403 on read',
    inject: (kube) => kube.deny({ namespace: NS, name: VICTIM, resource: 'secrets', verb: 'get' }),
    code: 1,
    refreshed: 'others',
    message: (name) => new RegExp(`^not allowed to read Secret ${NS}/${name} \\(HTTP 403 Forbidden\\): ${rbacCure(name)}$`),
  },
  {
    fault: '404 on read (the Secret does not exist)',
    missingVictim: true,
    code: 1,
    refreshed: 'others',
    message: (name) =>
      new RegExp(
        `^Secret ${NS}/${name} does not exist; apply its manifest: oc apply -f manifests/cap-${NS}\\*-secret\\.yaml \\(with the role filled in\\), or create it with the annotation cap-token-refresh/role: `,
      ),
  },
  {
    fault: '404 on update (deleted while being refreshed)',
    inject: (kube) => kube.failNext({ status: 404, match: isVictimUpdate }),
    code: 1,
    refreshed: 'others',
    message: (name) =>
      new RegExp(
        `^Secret ${NS}/${name} was deleted while it was being refreshed \\(HTTP 404 Not Found\\); re-create it \\(manifests/ has it\\) and run again$`,
      ),
  },
  {
    fault: '409 on every try',
    inject: (kube) => kube.failNext({ status: 409, count: Infinity, match: isVictimUpdate }),
    code: 1,
    refreshed: 'others',
    message: (name) =>
      new RegExp(
        `^Secret ${NS}/${name} changed every time it was written \\(HTTP 409 Conflict on 5 attempts\\): another writer keeps updating it; check that nothing else manages it \\(a second cap-token-refresh job\\?\\); it was left as it is and the next run will try again$`,
      ),
    victimUpdates: 5,
  },
  {
    fault: '422',
    inject: (kube) => kube.failNext({ status: 422, match: isVictimUpdate, message: SERVER_TEXT }),
    code: 1,
    refreshed: 'others',
    message: (name) =>
      new RegExp(
        `^the API server refused the update of Secret ${NS}/${name} as invalid \\(HTTP 422\\); check that the Secret is not immutable and that its type allows the keys aws_access_key_id, aws_secret_access_key and credentials$`,
      ),
  },
  {
    fault: '500',
    inject: (kube) => kube.failNext({ status: 500, count: Number.POSITIVE_INFINITY, match: isVictimUpdate, message: SERVER_TEXT }),
    code: 1,
    refreshed: 'others',
    message: (name) =>
      new RegExp(
        `^the API server failed \\(HTTP 500 InternalError\\) while trying to update Secret ${NS}/${name}; the next run will try again, check the API server if it persists$`,
      ),
  },
  {
    // The first Secret write gets through; at the second the server stops (connections cut,
    // port closed) and that write is never applied.
    fault: 'the API server gone mid-run',
    ownServer: true,
    inject: (kube) => {
      let writes = 0;
      let stopped = false;
      kube.onBeforeWrite((q) => {
        if (q.resource !== 'secrets') return;
        writes += 1;
        if (writes === 1 && !stopped) return;
        if (!stopped) {
          stopped = true;
          void kube.stop();
        }
        throw new Error('the API server went away');
      });
    },
    code: 1,
    refreshed: 'exactly-one',
    message: (name, server) =>
      new RegExp(
        `^could not update Secret ${NS}/${name}: cannot reach the API server ${esc(server)} \\((ECONNRESET|ECONNREFUSED|EPIPE|UND_ERR_SOCKET)\\); check the server in the kubeconfig and that the cluster is up$`,
      ),
  },
  {
    fault: 'an invalid kubeconfig',
    kubeconfig: async (dir, kube) => {
      const file = join(dir, 'invalid-kubeconfig');
      // Valid YAML, but the cluster has no server; the user's token must not be quoted.
      await writeFile(
        file,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    certificate-authority-data: ${Buffer.from(kube.caPem).toString('base64')}\nusers:\n- name: u\n  user:\n    token: ${PLANTED_TOKEN}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
      );
      return file;
    },
    code: 3,
    refreshed: 'none',
    message: () => /./,
  },
  {
    // The token stops being accepted after the first Secret write: every later request is 401.
    fault: 'a token that expires (401 mid-run)',
    inject: (kube) => {
      let expired = false;
      kube.failNext({ status: 401, count: Infinity, match: (q) => expired && q.isResourceRequest });
      kube.onBeforeWrite((q) => {
        if (q.resource === 'secrets') expired = true;
      });
    },
    code: 1,
    refreshed: 'exactly-one',
    message: (name) =>
      new RegExp(
        `^could not update Secret ${NS}/${name}: the API server rejected the job's credentials \\(HTTP 401 Unauthorized\\); log in again \\(oc login\\) or check the service account token$`,
      ),
  },
];

let cap: CapFixture;
let shared: KubeApiServer;
let dir: string;
const outputs: CliResult[] = [];
const seen: { events: KubeObject[]; annotations: unknown[]; tokens: string[] } = { events: [], annotations: [], tokens: [] };

function secrets(): string[] {
  return [
    ...cap.sim.issued.flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]),
    KEY_PASSPHRASE,
    P12_PASSPHRASE,
    SERVER_TEXT,
    PLANTED_TOKEN,
    ...seen.tokens,
    ...cap.pki.client.keyPem.split('\n').filter((l) => l.length > 20),
  ];
}

function expectNoSecret(where: string, text: string): void {
  for (const s of secrets()) expect(text.includes(s), `${where} contains a secret`).toBe(false);
}

beforeAll(async () => {
  cap = await startCapFixture();
  shared = await startKubeApiServer();
  dir = await makeTempDir('ctr-fault-kube-');
});

afterAll(async () => {
  await shared?.stop();
  await cap?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  shared.reset();
});

describe('Kubernetes faults during a cluster refresh of three Secrets', () => {
  it.each(ROWS.map((r) => [r.fault, r] as const))('%s', async (_, row) => {
    const kube = row.ownServer ? await startKubeApiServer() : shared;
    seen.tokens.push(kube.token);
    try {
      const seeded = new Map<string, KubeObject>();
      for (const [i, name] of ALL.entries()) {
        if (name === VICTIM && row.missingVictim) continue;
        seeded.set(
          name,
          kube.putSecret({
            metadata: {
              namespace: NS,
              name,
              labels: { keep: 'label' },
              annotations: { 'cap-token-refresh/role': `kube-fault-role-${i}`, 'keep.example.com/note': 'annotation' },
            },
            type: 'Opaque',
            data: { unrelated: Buffer.from('keep-me').toString('base64') },
          }),
        );
      }
      row.inject?.(kube);
      const kubeconfig = row.kubeconfig ? await row.kubeconfig(dir, kube) : await kube.writeKubeconfig(dir, `kubeconfig-${kube.token.slice(0, 8)}`);
      const callsBefore = cap.sim.calls.length;
      const r = await runCli(
        [
          'refresh',
          '--kubeconfig',
          kubeconfig,
          '--output',
          'json',
          '--log-format',
          'json',
          '--key',
          cap.files.encryptedKey,
          '--key-passphrase-file',
          cap.files.keyPassphrase,
          ...ALL.flatMap((n) => ['--target', `${NS}/${n}`]),
        ],
        { env: cap.env, timeoutMs: 30_000 },
      );
      outputs.push(r);
      expect(r.code).toBe(row.code);

      if (row.code === 3) {
        // A configuration error comes before any request: nothing contacted, nothing written.
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(
          new RegExp(
            `^error: the kubeconfig ${esc(kubeconfig)} \\(--kubeconfig\\) cannot be used: clusters\\[0\\]\\.cluster\\.server is missing; fix it or log in again with \`oc login\`\\n$`,
          ),
        );
        expect(kube.requests).toEqual([]);
        expect(cap.sim.calls.length).toBe(callsBefore);
        for (const [name, before] of seeded) expect(kube.getSecret(NS, name)).toEqual(before);
        expectNoSecret('stderr', r.stderr);
        return;
      }

      // 1. The right Secrets refreshed; the others as they were.
      const targets = (JSON.parse(r.stdout) as { targets: ReportTarget[] }).targets;
      expect(targets.map((t) => `${t.namespace}/${t.name}`)).toEqual(ALL.map((n) => `${NS}/${n}`));
      const refreshed = targets.filter((t) => t.result === 'refreshed').map((t) => t.name);
      const failed = targets.filter((t) => t.result === 'failed');
      if (row.refreshed === 'others') expect(refreshed).toEqual(OTHERS);
      else if (row.refreshed === 'exactly-one') expect(refreshed).toHaveLength(1);
      else expect(refreshed).toEqual([]);
      expect(failed.length + refreshed.length).toBe(ALL.length);
      const issuedKeys = new Set(cap.sim.issued.map((c) => c.accessKeyId));
      for (const name of ALL) {
        const before = seeded.get(name);
        if (!before) continue;
        const now = kube.getSecret(NS, name)!; // the store outlives the server's socket
        if (refreshed.includes(name)) {
          expect(now.metadata.resourceVersion, name).not.toBe(before.metadata.resourceVersion);
          const keyId = Buffer.from(String((now.data as Record<string, string>).aws_access_key_id), 'base64').toString();
          expect(issuedKeys.has(keyId), name).toBe(true);
          expect(now.metadata.labels).toEqual({ keep: 'label', 'cap-token-refresh/managed': 'true' });
        } else {
          expect(now.metadata.resourceVersion, name).toBe(before.metadata.resourceVersion);
          expect(now.data, name).toEqual(before.data);
          expect(now.metadata.annotations, name).toEqual(before.metadata.annotations);
        }
      }
      if (row.victimUpdates !== undefined) expect(kube.requests.filter(isVictimUpdate)).toHaveLength(row.victimUpdates);

      // 2. Each failed Secret's message names it and the cure; the server's own text is never shown.
      for (const t of failed) expect(t.error, t.name).toMatch(row.message(t.name, kube.url));
      const logs = r.stderr
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const t of failed) {
        expect(
          logs.some((l) => l.level === 'error' && (l.target === `${NS}/${t.name}` || String(l.error ?? '').includes(`${NS}/${t.name}`))),
          t.name,
        ).toBe(true);
      }
      // Where an Event could be recorded, a Warning names the Secret and carries the same message.
      const events = kube.listEvents(NS);
      seen.events.push(...events);
      for (const e of events.filter((x) => x.type === 'Warning')) {
        const name = (e.involvedObject as { name: string }).name;
        const entry = failed.find((t) => t.name === name)!;
        expect(entry, `Warning Event on ${name}`).toBeDefined();
        expect(String(e.message)).toBe(`Could not refresh AWS credentials${entry.role ? ` for role ${entry.role}` : ''}: ${entry.error}`);
      }
      if (row.refreshed === 'others') {
        expect(events.filter((e) => e.type === 'Warning').map((e) => (e.involvedObject as { name: string }).name)).toEqual([VICTIM]);
        expect(
          events
            .filter((e) => e.type === 'Normal')
            .map((e) => (e.involvedObject as { name: string }).name)
            .sort(),
        ).toEqual(OTHERS);
      }

      // 3. No secret anywhere.
      expectNoSecret('stdout', r.stdout);
      expectNoSecret('stderr', r.stderr);
      expectNoSecret('Events', JSON.stringify(events));
      const annotations = kube.listSecrets(NS).map((s) => s.metadata.annotations);
      seen.annotations.push(...annotations);
      expectNoSecret('annotations', JSON.stringify(annotations));
    } finally {
      if (row.ownServer) await kube.stop().catch(() => undefined);
    }
  });
});

describe('no secret leaves the process', () => {
  it('no output, Event or annotation of this file holds a credential, a passphrase, a token or the server text', () => {
    expect(outputs).toHaveLength(ROWS.length);
    expect(seen.events.length).toBeGreaterThan(10);
    const text = JSON.stringify({ outputs, seen: { events: seen.events, annotations: seen.annotations } });
    expectNoSecret('this file', text);
  });
});
