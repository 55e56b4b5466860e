import { createHash } from 'node:crypto';
import { secretKey, type SecretRef } from './role-names.js';

/**
 * The `<component>` of `cap-<component>-secret.yaml` for each managed Secret:
 *
 * - the Secret's namespace without its `openshift-` prefix (openshift-machine-api →
 *   machine-api, openshift-ingress-operator → ingress-operator), which an administrator
 *   recognises and which does not change when other requests come and go;
 * - when several Secrets of the input give the same component, each gets `-` and its
 *   Secret name appended, without a trailing `-cloud-credentials`, `-credentials` or
 *   `-creds` (cluster-csi-drivers-ebs, cluster-csi-drivers-node-aws-efs);
 * - should that still collide, `-` and 6 hex characters of the SHA-256 of namespace/name.
 */
export function componentNames(secrets: readonly SecretRef[]): Map<string, string> {
  const byNamespace = groupBy(secrets, (ref) => namespaceComponent(ref.namespace));
  const firstPass = new Map<string, string>();
  for (const [base, refs] of byNamespace) {
    for (const ref of refs) firstPass.set(secretKey(ref), refs.length === 1 ? base : `${base}-${trimSecretName(ref.name)}`);
  }
  const secretsByComponent = groupBy([...firstPass], ([, component]) => component);
  const names = new Map<string, string>();
  for (const [component, entries] of secretsByComponent) {
    for (const [key] of entries) names.set(key, entries.length === 1 ? component : `${component}-${shortHash(key)}`);
  }
  return names;
}

function namespaceComponent(namespace: string): string {
  return namespace.replace(/^openshift-/, '') || namespace;
}

function trimSecretName(name: string): string {
  return name.replace(/-(cloud-credentials|credentials|creds)$/, '').replace(/\./g, '-') || name;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}
