import { UsageError } from '../core/errors.js';

/** A Secret in a cluster, by namespace and name. */
export interface SecretRef {
  namespace: string;
  name: string;
  /** Set when the ref itself is unusable (an invalid name in a CredentialsRequest); the target fails with it. */
  problem?: string;
}

export interface IgnoredRequest {
  name: string;
  reason: string;
}

export const ANNOTATION_RELEASE_DELETE = 'release.openshift.io/delete';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isNamespaceName(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

export function isSecretName(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** `--target NAMESPACE/NAME` values, checked and deduplicated in the order given. */
export function parseTargetFlags(values: readonly string[]): SecretRef[] {
  const refs = new Map<string, SecretRef>();
  const problems: string[] = [];
  for (const value of values) {
    const parts = value.split('/');
    const [namespace = '', name = ''] = parts;
    if (parts.length !== 2 || !isNamespaceName(namespace) || !isSecretName(name)) {
      problems.push(
        `--target ${JSON.stringify(value)} is not NAMESPACE/NAME (for example openshift-machine-api/aws-cloud-credentials; lowercase letters, digits, '-' and, in the name, '.')`,
      );
      continue;
    }
    refs.set(`${namespace}/${name}`, { namespace, name });
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return [...refs.values()];
}

/**
 * The Secrets named by a cluster's CredentialsRequests: every one with an AWSProviderSpec,
 * not annotated `release.openshift.io/delete: "true"`, by its `spec.secretRef`; each Secret
 * once, sorted. Other clouds and deleted requests are returned as ignored, with the reason.
 */
export function secretRefsFromCredentialsRequests(items: readonly unknown[]): { refs: SecretRef[]; ignored: IgnoredRequest[] } {
  const refs = new Map<string, SecretRef>();
  const ignored: IgnoredRequest[] = [];
  for (const item of items) {
    const request = asRecord(item);
    const metadata = asRecord(request.metadata);
    const spec = asRecord(request.spec);
    const requestName = typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
    const providerKind = asRecord(spec.providerSpec).kind;
    if (providerKind !== 'AWSProviderSpec') {
      ignored.push({ name: requestName, reason: `not for AWS (providerSpec.kind ${typeof providerKind === 'string' ? providerKind : 'missing'})` });
      continue;
    }
    if (asRecord(metadata.annotations)[ANNOTATION_RELEASE_DELETE] === 'true') {
      ignored.push({ name: requestName, reason: `annotated ${ANNOTATION_RELEASE_DELETE}: "true"` });
      continue;
    }
    const secretRef = asRecord(spec.secretRef);
    const namespace = typeof secretRef.namespace === 'string' ? secretRef.namespace : '';
    const name = typeof secretRef.name === 'string' ? secretRef.name : '';
    if (!namespace && !name) {
      ignored.push({ name: requestName, reason: 'it has no spec.secretRef' });
      continue;
    }
    const key = `${namespace}/${name}`;
    if (refs.has(key)) continue;
    const valid = isNamespaceName(namespace) && isSecretName(name);
    refs.set(key, {
      namespace,
      name,
      ...(valid
        ? {}
        : {
            problem: `the CredentialsRequest ${requestName} names the Secret ${JSON.stringify(key)} in spec.secretRef, which is not a valid namespace/name; fix the CredentialsRequest or name the Secret with --target NAMESPACE/NAME`,
          }),
    });
  }
  const sorted = [...refs.values()].sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
  return { refs: sorted, ignored };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
