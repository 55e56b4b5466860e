import { ANNOTATION_ROLE, LABEL_MANAGED } from '../core/names.js';
import { type StatusTarget, toStatusTarget } from '../core/status-report.js';
import { listManifestFiles, manifestTargetsOf, unreadableManifestTarget } from './manifest-store.js';
import { readManifestFile } from './read-manifest-file.js';
import { findLabelledSecretsWithoutRole } from './secret-manifest.js';

/**
 * The targets `status --manifests` shows, each file read once through `readFile`: every
 * Secret with the role annotation (found as the refresh finds them), then, as unmanaged,
 * Secrets that carry the managed label without a role; a file that cannot be read or parsed
 * is one unmanaged target saying why.
 */
export async function loadManifestStatusTargets(dir: string, readFile: (file: string) => Promise<string> = readManifestFile): Promise<StatusTarget[]> {
  const managed: StatusTarget[] = [];
  const unlabelled: StatusTarget[] = [];
  for (const file of await listManifestFiles(dir)) {
    let text: string;
    try {
      text = await readFile(file);
    } catch (err) {
      managed.push({ ...toStatusTarget(unreadableManifestTarget(file, err)), file });
      continue;
    }
    for (const t of manifestTargetsOf(file, text)) managed.push({ ...toStatusTarget(t), file });
    for (const s of findLabelledSecretsWithoutRole(text)) {
      unlabelled.push({
        namespace: s.namespace,
        name: s.name,
        problem: `${file} labels this Secret ${LABEL_MANAGED}: "true" but it has no ${ANNOTATION_ROLE} annotation, so nothing refreshes it; add the annotation`,
        file,
      });
    }
  }
  return [...managed, ...unlabelled];
}
