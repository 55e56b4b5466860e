// SubjectAccessReview, answered as the RBAC authorizer does for namespaced requests: a
// RoleBinding in the namespace binds the user (or its service account) to a Role whose rule
// matches the API group, resource, verb and, when the rule names any, the object's name.

import { isRecord, type KubeObject } from './objects.js';
import { ROLE_BINDINGS, ROLES } from './resources.js';
import { badRequest } from './status.js';
import type { ObjectStore } from './store.js';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

const matches = (list: readonly string[] | undefined, value: string) => (list ?? []).some((item) => item === '*' || item === value);

export function reviewAccess(store: ObjectStore, body: unknown): KubeObject {
  if (!isRecord(body) || !isRecord(body.spec)) throw badRequest('SubjectAccessReview in version "v1" cannot be handled: spec is required');
  const spec = body.spec;
  const user = typeof spec.user === 'string' ? spec.user : '';
  const attrs = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  let allowed = false;
  if (attrs && user) {
    const namespace = text(attrs.namespace);
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
    const bindsUser = (binding: KubeObject) =>
      (Array.isArray(binding.subjects) ? binding.subjects : []).some(
        (s: unknown) =>
          isRecord(s) &&
          ((s.kind === 'User' && s.name === user) || (sa !== null && s.kind === 'ServiceAccount' && s.name === sa[2] && (s.namespace ?? namespace) === sa[1])),
      );
    for (const binding of store.list(ROLE_BINDINGS, namespace).filter(bindsUser)) {
      const roleRef = isRecord(binding.roleRef) ? binding.roleRef : {};
      if (roleRef.kind !== 'Role') continue;
      const role = store.get(ROLES, namespace, text(roleRef.name));
      const rules = (role && Array.isArray(role.rules) ? role.rules : []) as Rule[];
      allowed ||= rules.some(
        (rule) =>
          matches(rule.apiGroups, text(attrs.group)) &&
          matches(rule.resources, text(attrs.resource)) &&
          matches(rule.verbs, text(attrs.verb)) &&
          (!rule.resourceNames?.length || rule.resourceNames.includes(text(attrs.name))),
      );
    }
  }
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    metadata: { creationTimestamp: null } as unknown as KubeObject['metadata'],
    spec,
    status: allowed ? { allowed: true, reason: 'RBAC: allowed by RoleBinding' } : { allowed: false },
  };
}
