import type { CoreV1Event, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { KubeRequestError, type KubeApi } from '../kube/kube-api.js';
import { refreshClusterTargets } from './refresh-cluster.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const creds = { accessKeyId: 'ASIAFAKEKEY000000042', secretAccessKey: 'fake-secret', sessionToken: 'fake-token', expiration: new Date('2030-01-01T01:00:00Z') };
const settings = { policy: { renewBeforeMs: 0, force: false }, concurrency: 4, agency: 'A', mission: 'M' };

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (msg: string, fields?: object) => void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** An in-memory API whose every call takes `delayMs`, counting calls in flight. */
function fakeApi(secrets: V1Secret[], opts: { delayMs?: number; createEvent?: () => Promise<void>; list?: () => Promise<unknown[]> } = {}) {
  const store = new Map(secrets.map((s) => [`${s.metadata!.namespace}/${s.metadata!.name}`, structuredClone(s)]));
  let inFlight = 0;
  const state = { most: 0, events: [] as CoreV1Event[] };
  const slow = async <T>(fn: () => T): Promise<T> => {
    inFlight++;
    state.most = Math.max(state.most, inFlight);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
    inFlight--;
    return fn();
  };
  const api: KubeApi = {
    server: 'https://api.example:6443',
    listCredentialsRequests: () => (opts.list ? opts.list() : slow(() => [])),
    readSecret: (ns, name) =>
      slow(() => {
        const s = store.get(`${ns}/${name}`);
        if (!s) throw new KubeRequestError(404, undefined, 'NotFound', []);
        return structuredClone(s);
      }),
    replaceSecret: (ns, name, body) =>
      slow(() => {
        store.set(`${ns}/${name}`, body);
        return body;
      }),
    createEvent: (_ns, body) => (opts.createEvent ? opts.createEvent() : slow(() => void state.events.push(body))),
    readCronJob: () => Promise.reject(new Error('the refresh never reads the CronJob')),
    listJobs: () => Promise.reject(new Error('the refresh never lists Jobs')),
  };
  return { api, state, store };
}

const secret = (i: number): V1Secret => ({
  metadata: { namespace: `ns-${i}`, name: 'creds', uid: `uid-${i}`, resourceVersion: '1', annotations: { 'cap-token-refresh/role': 'r' } },
  data: {},
});
const deps = (log: Logger) => ({ fetchCredentials: async () => creds, now: () => NOW, logger: log });
const run = { source: 'test', instance: 'pod-1', redact: (t: string) => t };

describe('refreshClusterTargets', () => {
  it('reads, writes and records Events with bounded parallelism', async () => {
    const { api, state } = fakeApi(
      Array.from({ length: 100 }, (_, i) => secret(i)),
      { delayMs: 3 },
    );
    const refs = Array.from({ length: 100 }, (_, i) => ({ namespace: `ns-${i}`, name: 'creds' }));
    const report = await refreshClusterTargets(api, refs, settings, deps(logger()), { ...run, concurrency: 8 });
    expect(report.targets.every((t) => t.result === 'refreshed')).toBe(true);
    expect(state.most).toBe(8);
    expect(state.events).toHaveLength(100);
  });

  it('an Event that cannot be recorded is a warning; the target stays refreshed', async () => {
    const { api } = fakeApi([secret(1)], { createEvent: () => Promise.reject(new KubeRequestError(403, undefined, 'Forbidden', [])) });
    const log = logger();
    const report = await refreshClusterTargets(api, [{ namespace: 'ns-1', name: 'creds' }], settings, deps(log), run);
    expect(report.targets.map((t) => t.result)).toEqual(['refreshed']);
    expect(log.lines.filter((l) => l.startsWith('warn'))).toEqual([
      'warn could not record the CredentialsRefreshed Event on the Secret (HTTP 403 Forbidden); the Role in namespace ns-1 must allow create on events {"target":"ns-1/creds"}',
    ]);
  });

  it('the refreshed Event names the role, the expiration and the masked key only', async () => {
    const { api, state } = fakeApi([secret(1)]);
    await refreshClusterTargets(api, [{ namespace: 'ns-1', name: 'creds' }], settings, deps(logger()), run);
    expect(state.events).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'CredentialsRefreshed',
        message: 'Refreshed AWS credentials for role r (access key …0042); they expire at 2030-01-01T01:00:00Z',
        involvedObject: { apiVersion: 'v1', kind: 'Secret', namespace: 'ns-1', name: 'creds', uid: 'uid-1', resourceVersion: '1' },
        metadata: { generateName: 'creds.', namespace: 'ns-1' },
        reportingInstance: 'pod-1',
      }),
    ]);
  });

  it.each([
    ['read', 1],
    ['read again after a 409', 2],
  ])('a Secret whose %s is an empty answer fails alone, and the others of its role stay refreshed', async (_when, emptyRead) => {
    const { api, state } = fakeApi([secret(1), secret(2)]);
    const { readSecret, replaceSecret } = api;
    let reads = 0;
    let conflicted = false;
    // An API server (or a proxy on the way) that answers 200 with no body: the client reads it as undefined.
    api.readSecret = (ns, name) => (ns === 'ns-1' && ++reads === emptyRead ? Promise.resolve(undefined as unknown as V1Secret) : readSecret(ns, name));
    api.replaceSecret = (ns, name, body) => {
      if (ns !== 'ns-1' || conflicted) return replaceSecret(ns, name, body);
      conflicted = true;
      return Promise.reject(new KubeRequestError(409, undefined, 'Conflict', []));
    };
    const refs = [1, 2].map((i) => ({ namespace: `ns-${i}`, name: 'creds' }));
    const report = await refreshClusterTargets(api, refs, settings, deps(logger()), run);
    expect(report.targets.map((t) => [t.namespace, t.result, t.error ?? null])).toEqual([
      ['ns-1', 'failed', expect.stringMatching(/^the API server answered the read of Secret ns-1\/creds with no Secret/)],
      ['ns-2', 'refreshed', null],
    ]);
    expect(state.events.map((e) => [e.involvedObject.namespace, e.type])).toEqual(
      expect.arrayContaining([
        ['ns-1', 'Warning'],
        ['ns-2', 'Normal'],
      ]),
    );
    expect(state.events).toHaveLength(2);
  });

  it('an update answered with an empty body is still a write: refreshed, with its Normal Event', async () => {
    const { api, state } = fakeApi([secret(1)]);
    const { replaceSecret } = api;
    api.replaceSecret = async (ns, name, body) => {
      await replaceSecret(ns, name, body);
      return undefined as unknown as V1Secret;
    };
    const report = await refreshClusterTargets(api, [{ namespace: 'ns-1', name: 'creds' }], settings, deps(logger()), run);
    expect(report.targets.map((t) => [t.result, t.error ?? null])).toEqual([['refreshed', null]]);
    expect(state.events.map((e) => [e.type, e.involvedObject.uid])).toEqual([['Normal', 'uid-1']]);
  });

  it.each([
    [403, ConfigError, 'allowing get and list on credentialsrequests.cloudcredential.openshift.io'],
    [401, ConfigError, 'rejected the credentials of test (HTTP 401 Unauthorized)'],
    [404, ConfigError, 'does not serve cloudcredential.openshift.io/v1 CredentialsRequests'],
    [500, Error, 'answered HTTP 500'],
  ])('discovery answered %i: %s', async (status, type, message) => {
    const { api } = fakeApi([], { list: () => Promise.reject(new KubeRequestError(status, undefined, undefined, [])) });
    const attempt = refreshClusterTargets(api, undefined, settings, deps(logger()), run);
    await expect(attempt).rejects.toThrow(type);
    await expect(attempt).rejects.toThrow(message);
  });

  it('an unreachable API server during discovery is a configuration error naming the server', async () => {
    const { api } = fakeApi([], { list: () => Promise.reject(new KubeRequestError(undefined, 'ECONNREFUSED', undefined, [])) });
    await expect(refreshClusterTargets(api, undefined, settings, deps(logger()), run)).rejects.toThrow(
      'cannot list the CredentialsRequests in openshift-cloud-credential-operator to find the Secrets to refresh: cannot reach the API server https://api.example:6443 (ECONNREFUSED)',
    );
  });
});
