// The Roles `generate` writes grant what a cluster refresh really sends, and no more: the
// generated manifests are loaded into the Kubernetes API test server, a refresh runs against
// it, and every request it made is put to the server's RBAC authorizer (SubjectAccessReview)
// as the job's service account.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, type GenerateResult } from '../src/commands/generate.js';
import { startClusterFixture, type ClusterFixture } from './support/cluster-fixture.js';
import type { KubeObject } from './support/kube-api-server.js';
import { OC_EXTRACT_AWS } from './support/fixtures.js';
import { runCli } from './support/run-cli.js';

const JOB_USER = 'system:serviceaccount:cap-token-refresh:cap-token-refresh';

let fixture: ClusterFixture;
let generated: GenerateResult;

beforeAll(async () => {
  fixture = await startClusterFixture('cap-rbac-verbs-');
  generated = await generate({ credentialsRequests: OC_EXTRACT_AWS, out: 'manifests', iamOut: 'iam' }, { cwd: fixture.dir });
  const { kube } = fixture;
  for (const name of (await readdir(join(fixture.dir, 'manifests'))).sort()) {
    const object = parseYaml(await readFile(join(fixture.dir, 'manifests', name), 'utf8')) as KubeObject & { kind: string };
    if (object.kind === 'Role' || object.kind === 'RoleBinding') kube.putObject(object);
    if (object.kind === 'Secret' && object.metadata.labels?.['cap-token-refresh/managed'] === 'true') {
      kube.putSecret({ metadata: object.metadata, type: 'Opaque', data: {} });
    }
  }
  // The cluster holds the requests generate kept (the others' Secrets are not managed here).
  const kept = new Set(generated.secrets.map((s) => s.credentialsRequest));
  for (const file of (await readdir(OC_EXTRACT_AWS)).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(OC_EXTRACT_AWS, file), 'utf8'))) {
      const request = doc.toJS() as KubeObject | null;
      if (request?.kind === 'CredentialsRequest' && kept.has(request.metadata.name ?? '')) kube.putCredentialsRequest(request);
    }
  }
});

afterAll(async () => {
  await fixture?.stop();
});

async function jobMay(attributes: Record<string, string>): Promise<boolean> {
  const dispatcher = new Agent({ connect: { ca: fixture.kube.caPem } });
  try {
    const response = await fetch(`${fixture.kube.url}/apis/authorization.k8s.io/v1/subjectaccessreviews`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${fixture.kube.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: JOB_USER, resourceAttributes: attributes } }),
    } as RequestInit);
    const review = (await response.json()) as { status?: { allowed?: boolean } };
    return review.status?.allowed === true;
  } finally {
    await dispatcher.close();
  }
}

describe('the generated Roles against what a refresh sends', () => {
  it('allow every request of a cluster refresh, which uses only get, list, update and create', async () => {
    const { kube, kubeconfig, cap } = fixture;
    kube.clearRequests();
    const result = await runCli(['refresh', '--kubeconfig', kubeconfig, '--log-format', 'json'], { env: cap.env });
    expect(result.code, result.stderr).toBe(0);
    const resourceRequests = kube.requests.filter((r) => r.resource !== undefined && r.resource !== 'subjectaccessreviews');
    const used = [...new Set(resourceRequests.map((r) => `${r.group || 'core'} ${r.resource} ${r.verb}`))].sort();
    expect(used).toEqual(['cloudcredential.openshift.io credentialsrequests list', 'core events create', 'core secrets get', 'core secrets update']);
    // Each Secret was written once, and an Event recorded for it.
    expect(resourceRequests.filter((r) => r.resource === 'secrets' && r.verb === 'update')).toHaveLength(generated.secrets.length);
    for (const r of resourceRequests) {
      const attributes = { namespace: r.namespace ?? '', verb: r.verb, group: r.group, resource: r.resource ?? '', ...(r.name ? { name: r.name } : {}) };
      expect(await jobMay(attributes), JSON.stringify(attributes)).toBe(true);
    }
  });

  it('grant nothing the tool does not send: no patch of a Secret, no events.k8s.io Event, no other Secret', async () => {
    const secret = generated.secrets[0]!;
    const at = { namespace: secret.namespace, group: '', resource: 'secrets', name: secret.name };
    expect(await jobMay({ ...at, verb: 'update' })).toBe(true);
    expect(await jobMay({ ...at, verb: 'patch' })).toBe(false);
    expect(await jobMay({ ...at, verb: 'delete' })).toBe(false);
    expect(await jobMay({ ...at, verb: 'get', name: 'some-other-secret' })).toBe(false);
    expect(await jobMay({ namespace: secret.namespace, verb: 'create', group: 'events.k8s.io', resource: 'events' })).toBe(false);
    expect(await jobMay({ namespace: secret.namespace, verb: 'patch', group: '', resource: 'events' })).toBe(false);
  });
});
