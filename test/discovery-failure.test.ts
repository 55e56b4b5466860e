// A server failure while the targets are discovered (the API server answers 500 or 429 to the
// CredentialsRequests list) is a failed run (exit 1) with the message, not an "unexpected
// failure" (exit 70, which means a bug); the server's own text is never shown.

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CapFixture } from './support/cap-fixture.js';
import type { KubeApiServer } from './support/kube-api-server.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import { runInProcess } from './support/run-in-process.js';

const SERVER_TEXT = 'internal-detail-do-not-show-4711';

let cap: CapFixture;
let kube: KubeApiServer;
let kubeconfig: string;

let fixture: ClusterFixture | undefined;

beforeAll(async () => {
  fixture = await startClusterFixture('ctr-discovery-');
  ({ cap, kube, kubeconfig } = fixture);
});

afterAll(async () => {
  await fixture?.stop();
});

it.each([
  ['refresh', 500],
  ['refresh', 429],
  ['status', 500],
])('%s: HTTP %i on listing the CredentialsRequests exits 1 with the message', async (command, status) => {
  kube.failNext({ status, count: Infinity, match: (q) => q.resource === 'credentialsrequests', message: SERVER_TEXT });
  try {
    // A fake clock: the API client's retries of the failing list run through their deadline without waiting.
    const r = await runInProcess([command, '--kubeconfig', kubeconfig, '--log-format', 'json'], { env: cap.env, now: new Date() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`error: cannot list the CredentialsRequests in openshift-cloud-credential-operator .*answered HTTP ${status}`));
    expect(r.stderr).not.toContain('unexpected failure');
    expect(`${r.stdout}${r.stderr}`).not.toContain(SERVER_TEXT);
    expect(cap.sim.calls).toHaveLength(0);
  } finally {
    kube.reset();
  }
});
