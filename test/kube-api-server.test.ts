// Proves the Kubernetes API test server answers as a real API server does, by driving it
// with the real kubectl and with @kubernetes/client-node (the library the product uses).

import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './support/kube-api-server.js';
import { refreshCronJob, refreshJob } from './support/refresh-cron-job.js';
import { makeTempDir } from './support/temp-dir.js';

const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';
const NS = 'openshift-machine-api';
const CCO_NS = 'openshift-cloud-credential-operator';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

let server: KubeApiServer;
let dir: string;
let kubeconfig: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(...args: string[]): Promise<Run> {
  const argv = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '--request-timeout=10s', ...args];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
  try {
    const { stdout, stderr } = await promisify(execFile)(KUBECTL, argv, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function writeJson(name: string, object: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(object));
  return path;
}

function seedSecret(name = 'aws-cloud-credentials', namespace = NS): KubeObject {
  return server.putSecret({
    metadata: { name, namespace, annotations: { 'cap-token-refresh/role': 'machine-api' } },
    data: { aws_access_key_id: b64('AKIAOLD1'), other: b64('keep') },
  });
}

beforeAll(async () => {
  try {
    await access(KUBECTL, constants.X_OK);
  } catch {
    throw new Error(
      `kubectl not found at ${KUBECTL}: these tests prove the Kubernetes API test server against the real kubectl (v1.32); install it or set KUBECTL to its path`,
    );
  }
  server = await startKubeApiServer({ namespaces: [NS, CCO_NS, 'cap-token-refresh'] });
  dir = await makeTempDir('kube-api-server-test-');
  kubeconfig = await server.writeKubeconfig(dir);
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset();
});

describe('the Kubernetes API test server, driven by kubectl', () => {
  it('returns a Secret with `kubectl get -o json`', async () => {
    const seeded = seedSecret();
    const run = await kubectl('get', 'secret', '-n', NS, 'aws-cloud-credentials', '-o', 'json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const secret = JSON.parse(run.stdout) as KubeObject;
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { other: b64('keep') } });
    expect(secret.metadata).toMatchObject({ name: 'aws-cloud-credentials', namespace: NS, resourceVersion: seeded.metadata.resourceVersion });
    expect(secret.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(secret.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('lists Secrets as a table with `kubectl get secrets`', async () => {
    seedSecret('a-secret');
    seedSecret('b-secret');
    const run = await kubectl('get', 'secrets', '-n', NS);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\n/);
    expect(run.stdout).toMatch(/a-secret\s+Opaque\s+2\s+\d+s/);
    expect(run.stdout).toMatch(/b-secret\s+Opaque\s+2/);
  });

  it('refuses `kubectl replace` with a stale resourceVersion with the real Conflict message', async () => {
    const seeded = seedSecret();
    const file = await writeJson('stale.json', { ...seeded, metadata: { ...seeded.metadata, resourceVersion: '1' }, data: { x: b64('y') } });
    const run = await kubectl('replace', '-f', file);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Error from server (Conflict)');
    expect(run.stderr).toContain(
      'Operation cannot be fulfilled on secrets "aws-cloud-credentials": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(server.getSecret(NS, 'aws-cloud-credentials')).toEqual(seeded);
    expect(server.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([409]);
  });

  it('accepts `kubectl replace` with the current resourceVersion, bumps it and folds stringData into data', async () => {
    const seeded = seedSecret();
    const file = await writeJson('current.json', { ...seeded, stringData: { credentials: '[default]\n' } });
    const run = await kubectl('replace', '-f', file);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('secret/aws-cloud-credentials replaced');
    const stored = server.getSecret(NS, 'aws-cloud-credentials');
    expect(Number(stored?.metadata.resourceVersion)).toBeGreaterThan(Number(seeded.metadata.resourceVersion));
    expect(stored?.metadata.uid).toBe(seeded.metadata.uid);
    expect(stored?.data).toEqual({ ...(seeded.data as object), credentials: b64('[default]\n') });
    expect(stored).not.toHaveProperty('stringData');
  });

  it('patches with `kubectl patch --type merge` and with the default strategic merge patch', async () => {
    seedSecret();
    expect((await kubectl('patch', 'secret', '-n', NS, 'aws-cloud-credentials', '--type', 'merge', '-p', '{"metadata":{"labels":{"a":"b"}}}')).code).toBe(0);
    expect((await kubectl('patch', 'secret', '-n', NS, 'aws-cloud-credentials', '-p', '{"data":{"other":null}}')).code).toBe(0);
    const stored = server.getSecret(NS, 'aws-cloud-credentials');
    expect(stored?.metadata.labels).toEqual({ a: 'b' });
    expect(stored?.data).toEqual({ aws_access_key_id: b64('AKIAOLD1') });
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.contentType, r.status])).toEqual([
      ['application/merge-patch+json', 200],
      ['application/strategic-merge-patch+json', 200],
    ]);
  });

  it('reports a missing Secret as NotFound', async () => {
    const run = await kubectl('get', 'secret', '-n', NS, 'x');
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim()).toBe('Error from server (NotFound): secrets "x" not found');
  });

  it('lists only namespaces that exist (kubectl checks them after a NotFound)', async () => {
    const run = await kubectl('get', 'secret', '-n', 'nowhere', 'x');
    expect(run.stderr.trim()).toBe('Error from server (NotFound): namespaces "nowhere" not found');
  });

  it('answers Forbidden in a denied namespace, worded as RBAC words it', async () => {
    seedSecret();
    server.deny({ namespace: NS });
    const run = await kubectl('get', 'secret', '-n', NS, 'aws-cloud-credentials');
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim()).toBe(
      `Error from server (Forbidden): secrets "aws-cloud-credentials" is forbidden: User "${server.user}" cannot get resource "secrets" in API group "" in the namespace "${NS}"`,
    );
  });

  it('denies by verb and by (namespace, name) without touching other requests', async () => {
    const seeded = seedSecret();
    seedSecret('other');
    server.deny({ verb: 'update' });
    server.deny({ namespace: NS, name: 'other' });
    expect((await kubectl('get', 'secret', '-n', NS, 'aws-cloud-credentials')).code).toBe(0);
    expect((await kubectl('get', 'secret', '-n', NS, 'other')).stderr).toContain('Error from server (Forbidden)');
    const run = await kubectl('replace', '-f', await writeJson('s.json', seeded));
    expect(run.stderr).toContain(`cannot update resource "secrets" in API group "" in the namespace "${NS}"`);
    expect(server.getSecret(NS, 'aws-cloud-credentials')).toEqual(seeded);
  });

  it('refuses an invalid object with 422 Invalid', async () => {
    const file = await writeJson('invalid.json', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'Not_DNS', namespace: NS }, data: {} });
    const run = await kubectl('create', '-f', file);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Error from server \(Invalid\)|The Secret "Not_DNS" is invalid/);
    expect(run.stderr).toContain('metadata.name: Invalid value: "Not_DNS": a lowercase RFC 1123 subdomain');
    expect(server.requests.find((r) => r.method === 'POST')?.status).toBe(422);
  });

  it('refuses Secret data that is not base64 with 400, as the API server decodes it', async () => {
    const file = await writeJson('b64.json', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b64', namespace: NS }, data: { k: 'not base64!' } });
    const run = await kubectl('create', '-f', file);
    expect(run.stderr).toContain('Error from server (BadRequest)');
    expect(run.stderr).toContain('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
  });

  it('lists CredentialsRequests with `kubectl get credentialsrequests`', async () => {
    server.putCredentialsRequest({
      metadata: { name: 'openshift-machine-api-aws', namespace: CCO_NS },
      spec: { secretRef: { name: 'aws-cloud-credentials', namespace: NS } },
    });
    const run = await kubectl('get', 'credentialsrequests', '-n', CCO_NS);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^NAME\s+AGE\nopenshift-machine-api-aws\s+\d+s\n$/);
    const json = JSON.parse((await kubectl('get', 'credentialsrequests', '-n', CCO_NS, '-o', 'json')).stdout) as { items: KubeObject[] };
    expect(json.items[0]).toMatchObject({
      apiVersion: 'cloudcredential.openshift.io/v1',
      kind: 'CredentialsRequest',
      spec: { secretRef: { name: 'aws-cloud-credentials' } },
    });
  });

  it('answers `kubectl create` of a SubjectAccessReview from the Roles and RoleBindings it holds', async () => {
    const sa = 'system:serviceaccount:cap-token-refresh:cap-token-refresh';
    const review = (name: string) =>
      writeJson(`sar-${name}.json`, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: sa, resourceAttributes: { namespace: NS, verb: 'update', resource: 'secrets', name } },
      });
    const allowed = async (name: string) => {
      const run = await kubectl('create', '-f', await review(name), '-o', 'json');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as { status: { allowed: boolean } }).status.allowed;
    };
    expect(await allowed('aws-cloud-credentials')).toBe(false);
    const meta = { namespace: NS, name: 'writer' };
    expect(
      (
        await kubectl(
          'create',
          '-f',
          await writeJson('role.json', {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: meta,
            rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['aws-cloud-credentials'], verbs: ['get', 'update'] }],
          }),
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await kubectl(
          'create',
          '-f',
          await writeJson('binding.json', {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: meta,
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'writer' },
            subjects: [{ kind: 'ServiceAccount', name: 'cap-token-refresh', namespace: 'cap-token-refresh' }],
          }),
        )
      ).code,
    ).toBe(0);
    expect(await allowed('aws-cloud-credentials')).toBe(true);
    expect(await allowed('other')).toBe(false);
  });

  it('serves the cluster-scoped CloudCredential to `kubectl get` and `kubectl annotate`', async () => {
    server.putObject({
      apiVersion: 'operator.openshift.io/v1',
      kind: 'CloudCredential',
      metadata: { name: 'cluster' },
      spec: { credentialsMode: 'Manual' },
    } as never);
    const annotate = await kubectl('annotate', 'cloudcredentials.operator.openshift.io', 'cluster', 'cloudcredential.openshift.io/upgradeable-to=4.17');
    expect(annotate.stderr).toBe('');
    expect(annotate.code).toBe(0);
    const json = JSON.parse((await kubectl('get', 'cloudcredentials.operator.openshift.io', 'cluster', '-o', 'json')).stdout) as KubeObject;
    expect(json.metadata.namespace).toBeUndefined();
    expect(json.metadata.annotations).toEqual({ 'cloudcredential.openshift.io/upgradeable-to': '4.17' });
  });

  it('serves CronJobs and Jobs (batch/v1) to `kubectl get`, and the suspend patch the alert texts give to `kubectl patch`', async () => {
    const now = new Date();
    server.putObject(refreshCronJob(now, { createdMinutesAgo: 90, lastSuccessfulMinutesAgo: 3 }));
    server.putObject(refreshJob(now, 'cap-token-refresh-1', 3, 'succeeded'));
    const list = await kubectl('get', 'cronjobs,jobs', '-n', 'cap-token-refresh', '-o', 'json');
    expect(list.stderr).toBe('');
    const items = (JSON.parse(list.stdout) as { items: KubeObject[] }).items;
    expect(items.map((o) => [o.kind, o.metadata.name])).toEqual([
      ['CronJob', 'cap-token-refresh'],
      ['Job', 'cap-token-refresh-1'],
    ]);
    expect(Date.now() - Date.parse(items[0]!.metadata.creationTimestamp!)).toBeGreaterThan(89 * 60_000);
    expect(items[1]).toMatchObject({ status: { succeeded: 1 }, metadata: { ownerReferences: [{ kind: 'CronJob', name: 'cap-token-refresh' }] } });
    const patch = await kubectl('-n', 'cap-token-refresh', 'patch', 'cronjob', 'cap-token-refresh', '-p', '{"spec":{"suspend":false}}');
    expect(patch.stderr).toBe('');
    expect(patch.code).toBe(0);
    expect(server.getObject('CronJob', 'cap-token-refresh', 'cap-token-refresh')).toMatchObject({ spec: { suspend: false } });
  });

  it('refuses a wrong token with 401', async () => {
    const run = await kubectl('--token', 'wrong', 'get', 'secrets', '-n', NS);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('(Unauthorized)');
  });

  it('fails the next request with an injected 500, then recovers', async () => {
    seedSecret();
    server.failNext({ status: 500, match: (r) => r.verb === 'get' && r.resource === 'secrets' });
    const failed = await kubectl('get', 'secret', '-n', NS, 'aws-cloud-credentials');
    expect(failed.stderr).toContain('Error from server (InternalError)');
    expect((await kubectl('get', 'secret', '-n', NS, 'aws-cloud-credentials')).code).toBe(0);
  });

  it('lets a test play a concurrent writer between a read and a write', async () => {
    const seeded = seedSecret();
    server.onBeforeWrite((request) => {
      if (request.verb === 'update') server.putSecret({ ...seeded, data: { other: b64('theirs') } });
    });
    const run = await kubectl('replace', '-f', await writeJson('race.json', seeded));
    expect(run.stderr).toContain('Error from server (Conflict)');
    expect(server.getSecret(NS, 'aws-cloud-credentials')?.data).toEqual({ other: b64('theirs') });
  });
});

describe('the Kubernetes API test server, driven by @kubernetes/client-node', () => {
  function coreApi(): CoreV1Api {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    return config.makeApiClient(CoreV1Api);
  }

  it('reads a Secret and refuses a stale replace with ApiException 409', async () => {
    seedSecret();
    const api = coreApi();
    const secret: V1Secret = await api.readNamespacedSecret({ name: 'aws-cloud-credentials', namespace: NS });
    expect(secret.data?.other).toBe(b64('keep'));
    const stale = { ...secret, metadata: { ...secret.metadata, resourceVersion: '1' } };
    const error: unknown = await api.replaceNamespacedSecret({ name: 'aws-cloud-credentials', namespace: NS, body: stale }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(409);
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      code: 409,
      details: { name: 'aws-cloud-credentials', kind: 'secrets' },
    });

    const replaced = await api.replaceNamespacedSecret({ name: 'aws-cloud-credentials', namespace: NS, body: { ...secret, stringData: { n: 'v' } } });
    expect(replaced.data?.n).toBe(b64('v'));
    expect(replaced.stringData).toBeUndefined();
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(secret.metadata?.resourceVersion));
  });

  it('creates and lists Events', async () => {
    const api = coreApi();
    await api.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { generateName: 'cap-token-refresh.' },
        involvedObject: { kind: 'Secret', name: 'x', namespace: NS },
        reason: 'Refreshed',
        message: 'ok',
        type: 'Normal',
      },
    });
    const events = server.listEvents(NS);
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata.name).toMatch(/^cap-token-refresh\.[0-9a-f]{5}$/);
    const listed = await api.listNamespacedEvent({ namespace: NS });
    expect(listed.items.map((e) => e.reason)).toEqual(['Refreshed']);
  });
});

describe('the Kubernetes API test server, raw HTTP', () => {
  async function call(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const dispatcher = new Agent({ connect: { ca: server.caPem } });
    const response = await fetch(`${server.url}${path}`, {
      method,
      dispatcher,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': contentType },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    await dispatcher.close();
    return { status: response.status, json };
  }
  const secretPath = `/api/v1/namespaces/${NS}/secrets/aws-cloud-credentials`;

  it('treats a resourceVersion inside a merge patch as a precondition', async () => {
    const seeded = seedSecret();
    const stale = await call('PATCH', secretPath, { metadata: { resourceVersion: '1' }, data: { a: b64('b') } }, 'application/merge-patch+json');
    expect(stale.status).toBe(409);
    const current = await call(
      'PATCH',
      secretPath,
      { metadata: { resourceVersion: seeded.metadata.resourceVersion }, stringData: { a: 'b' } },
      'application/merge-patch+json',
    );
    expect(current.status).toBe(200);
    expect(current.json.data).toMatchObject({ a: b64('b') });
    expect(current.json).not.toHaveProperty('stringData');
  });

  it('fails every matching request while count is Infinity', async () => {
    const seeded = seedSecret();
    server.failNext({ status: 409, count: Infinity, match: (r) => r.verb === 'update' });
    for (let i = 0; i < 3; i += 1) {
      const { status, json } = await call('PUT', secretPath, seeded);
      expect(status).toBe(409);
      expect(json).toMatchObject({ reason: 'Conflict', message: expect.stringContaining('Operation cannot be fulfilled on secrets "aws-cloud-credentials"') });
    }
    expect((await call('GET', secretPath)).status).toBe(200);
  });

  it('answers 404 for unknown paths and PUT to a missing Secret, 400 for a name mismatch', async () => {
    expect((await call('GET', '/openapi/v2')).status).toBe(404);
    const missing = await call('PUT', `/api/v1/namespaces/${NS}/secrets/nope`, { metadata: { name: 'nope' } });
    expect(missing).toMatchObject({ status: 404, json: { reason: 'NotFound', message: 'secrets "nope" not found' } });
    const mismatch = await call('PUT', secretPath, { metadata: { name: 'other' } });
    expect(mismatch).toMatchObject({ status: 400, json: { reason: 'BadRequest' } });
  });
});

describe('the Kubernetes API test server, stopped', () => {
  /** Sends one HTTP request over TLS once the handshake is done; resolves with all the server sent when the connection closes. */
  function exchange(kube: KubeApiServer, request: string, options: ConnectionOptions): Promise<string> {
    return new Promise((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(kube.url).port), ca: kube.caPem, ...options }, () => socket.end(request));
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(received));
    });
  }
  const head = (kube: KubeApiServer, requestLine: string, length = 0): string =>
    `${requestLine} HTTP/1.1\r\nhost: ${new URL(kube.url).host}\r\nauthorization: Bearer ${kube.token}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\nconnection: close\r\n\r\n`;

  it('cuts a connection still in its TLS handshake, and answers nothing on it once the handshake is done', async () => {
    const kube = await startKubeApiServer();
    const accepted = kube.nextConnection();
    const raw = netConnect(Number(new URL(kube.url).port), '127.0.0.1');
    raw.on('error', () => undefined);
    await accepted;
    // The server has the TCP connection, no TLS handshake has begun: the client only starts it after the stop.
    const stopped = kube.stop();
    expect(await exchange(kube, head(kube, 'GET /version'), { socket: raw })).toBe('');
    await stopped;
  });

  it('cuts the connection of a request being handled when it stops, instead of answering it', async () => {
    const kube = await startKubeApiServer();
    let stopped: Promise<void> | undefined;
    // The hook runs inside the handler: the reply (201) would follow if the stop left the connection open.
    kube.onBeforeWrite(() => {
      stopped = kube.stop();
    });
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mid-request', namespace: 'default' } });
    const request = head(kube, 'POST /api/v1/namespaces/default/secrets', Buffer.byteLength(body)) + body;
    expect(await exchange(kube, request, {})).toBe('');
    expect(stopped).toBeDefined();
    await stopped;
  });
});
