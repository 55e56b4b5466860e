import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir.js';

export interface SecretManifestSpec {
  file: string;
  namespace: string;
  name: string;
  role?: string;
  /** Extra annotation lines, already indented by four spaces. */
  annotations?: string[];
}

/** A Secret manifest as an administrator writes it, with a comment and an extra key to keep. */
export function secretManifest(s: SecretManifestSpec): string {
  return [
    `# ${s.name}: managed by cap-token-refresh`,
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${s.name}`,
    `  namespace: ${s.namespace}`,
    '  annotations:',
    ...(s.role !== undefined ? [`    cap-token-refresh/role: ${s.role}`] : []),
    '    example.com/keep: "yes"',
    ...(s.annotations ?? []),
    'type: Opaque',
    'data:',
    '  keep-me: a2VlcA==',
    '',
  ].join('\n');
}

/** A real temporary folder holding the given manifests. */
export async function makeManifestDir(specs: SecretManifestSpec[]): Promise<string> {
  const dir = await makeTempDir('ctr-manifests-');
  for (const s of specs) await writeFile(join(dir, s.file), secretManifest(s), { mode: 0o600 });
  return dir;
}

/**
 * Every file of a folder and its bytes, to prove what changed and what did not. A file that
 * vanishes between listing and reading (a live run's lock or temporary) is left out.
 */
export async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    try {
      out[name] = await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}
