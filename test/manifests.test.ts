// The committed manifests/ is what `generate` writes from the current payload's
// CredentialsRequests (test/fixtures/oc-extract-aws) with default options.
// To regenerate it after changing the generator (see CONTRIBUTING.md):
//   UPDATE_MANIFESTS=1 npx vitest run test/manifests.test.ts
// (the same as `iam=$(mktemp -d); ./bin/cap-token-refresh generate --credentials-requests test/fixtures/oc-extract-aws
//  --out manifests --iam-out "$iam" --force; rm -r "$iam"` from the repository root).
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generate } from '../src/commands/generate.js';
import { checkRbacCoverage } from '../src/manifests/rbac-coverage.js';
import { OC_EXTRACT_AWS } from './support/fixtures.js';
import { makeTempDir } from './support/temp-dir.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const committedDir = join(repoRoot, 'manifests');
const payloadRequests = OC_EXTRACT_AWS;

const temporaryDirs: string[] = [];
afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function readFolder(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const)));
}

describe('the committed manifests/', () => {
  it('is exactly what generate writes from the current payload', async () => {
    const scratch = await makeTempDir('cap-manifests-');
    temporaryDirs.push(scratch);
    if (process.env.UPDATE_MANIFESTS === '1') {
      await generate({ credentialsRequests: payloadRequests, out: 'manifests', iamOut: join(scratch, 'iam'), force: true }, { cwd: repoRoot });
    }
    await generate({ credentialsRequests: payloadRequests, out: 'manifests' }, { cwd: scratch });
    expect(await readFolder(committedDir)).toEqual(await readFolder(join(scratch, 'manifests')));
  });

  it('holds one Kubernetes object per file, six managed operator Secrets, and RBAC covering exactly them', async () => {
    const files = await readFolder(committedDir);
    const objects = [...files].map(([name, text]) => {
      const docs = parseAllDocuments(text) as unknown as { toJS(): any; errors: unknown[] }[];
      expect(docs.length, name).toBe(1);
      expect(docs[0]!.errors, name).toEqual([]);
      const object = docs[0]!.toJS();
      expect(Object.keys(object).slice(0, 3), name).toEqual(['apiVersion', 'kind', 'metadata']);
      return object;
    });
    const managed = objects.filter((o) => o.kind === 'Secret' && o.metadata.labels?.['cap-token-refresh/managed'] === 'true');
    expect(managed.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'openshift-cloud-credential-operator/cloud-credential-operator-iam-ro-creds',
      'openshift-cloud-network-config-controller/cloud-credentials',
      'openshift-cluster-csi-drivers/ebs-cloud-credentials',
      'openshift-image-registry/installer-cloud-credentials',
      'openshift-ingress-operator/cloud-credentials',
      'openshift-machine-api/aws-cloud-credentials',
    ]);
    expect(managed.every((o) => typeof o.metadata.annotations['cap-token-refresh/role'] === 'string')).toBe(true);
    expect(files.has('cap-machine-api-secret.yaml')).toBe(true);
    expect(files.has('cap-certs-secret.yaml')).toBe(true);
    expect(files.has('cap-cronjob.yaml')).toBe(true);
    expect(checkRbacCoverage(objects)).toEqual([]);
    expect(objects.map((o) => o.kind).filter((k) => k.startsWith('Cluster'))).toEqual([]);
  });
});
