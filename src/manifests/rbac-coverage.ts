import { LABEL_MANAGED, TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';

/**
 * Verbs the job may hold, per resource; anything else is more than it needs. They are the
 * requests src/kube/kube-api.ts sends: GET of Secrets and CredentialsRequests (get, list),
 * PUT of a Secret (update), POST of a core/v1 Event (create). No PATCH, no events.k8s.io.
 */
const ALLOWED = {
  secrets: { apiGroups: [''], verbs: ['get', 'update'] },
  events: { apiGroups: [''], verbs: ['create'] },
  credentialsrequests: { apiGroups: ['cloudcredential.openshift.io'], verbs: ['get', 'list'] },
} as const;

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
}

interface AnyObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/**
 * Checks that the RBAC among these objects gives the job exactly what it needs: per
 * namespace, get/update on the managed Secrets there (by name) and Events; read of
 * CredentialsRequests; no ClusterRole; every Role bound to the job's service account only.
 * Returns the problems found (none when all is well).
 */
export function checkRbacCoverage(objects: readonly unknown[]): string[] {
  const all = objects as AnyObject[];
  const problems: string[] = [];
  for (const o of all) {
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') problems.push(`${o.kind} ${o.metadata?.name}: no cluster-wide RBAC is allowed`);
  }
  const managed = namesByNamespace(all.filter((o) => o.kind === 'Secret' && o.metadata?.labels?.[LABEL_MANAGED] === 'true'));
  const roles = all.filter((o) => o.kind === 'Role');
  const granted = new Map<string, Set<string>>();
  for (const role of roles) {
    const where = `Role ${role.metadata?.namespace}/${role.metadata?.name}`;
    for (const rule of role.rules ?? []) problems.push(...ruleProblems(where, role.metadata?.namespace ?? '', rule, granted));
  }
  for (const namespace of new Set([...managed.keys(), ...granted.keys()])) {
    const want = [...(managed.get(namespace) ?? [])].sort().join(', ');
    const have = [...(granted.get(namespace) ?? [])].sort().join(', ');
    if (want !== have) problems.push(`namespace ${namespace}: Secrets granted [${have}] but managed [${want}]`);
  }
  problems.push(...bindingProblems(all, roles));
  return problems;
}

function ruleProblems(where: string, namespace: string, rule: Rule, granted: Map<string, Set<string>>): string[] {
  const resources = rule.resources ?? [];
  const [only] = resources;
  if (resources.length !== 1 || only === undefined || !(only in ALLOWED)) return [`${where}: resources [${resources.join(', ')}] are not the job's to touch`];
  const resource = only as keyof typeof ALLOWED;
  const allowed = ALLOWED[resource];
  const problems: string[] = [];
  const extraVerbs = (rule.verbs ?? []).filter((verb) => !(allowed.verbs as readonly string[]).includes(verb));
  const extraGroups = (rule.apiGroups ?? []).filter((group) => !(allowed.apiGroups as readonly string[]).includes(group));
  if (extraVerbs.length > 0) problems.push(`${where}: verbs [${extraVerbs.join(', ')}] on ${resource} are more than needed`);
  if (extraGroups.length > 0) problems.push(`${where}: API groups [${extraGroups.join(', ')}] for ${resource} are not needed`);
  if (resource === 'secrets') {
    if (!rule.resourceNames?.length) problems.push(`${where}: secrets without resourceNames reaches every Secret in ${namespace}`);
    const names = granted.get(namespace) ?? new Set<string>();
    for (const name of rule.resourceNames ?? []) names.add(name);
    granted.set(namespace, names);
  }
  if (resource === 'credentialsrequests' && namespace !== 'openshift-cloud-credential-operator') {
    problems.push(`${where}: CredentialsRequests are read in openshift-cloud-credential-operator only`);
  }
  return problems;
}

function bindingProblems(all: readonly AnyObject[], roles: readonly AnyObject[]): string[] {
  const problems: string[] = [];
  const bindings = all.filter((o) => o.kind === 'RoleBinding');
  const roleKey = (namespace?: string, name?: string) => `${namespace}/${name}`;
  const roleKeys = new Set(roles.map((r) => roleKey(r.metadata?.namespace, r.metadata?.name)));
  const bound = new Set<string>();
  for (const binding of bindings) {
    const where = `RoleBinding ${binding.metadata?.namespace}/${binding.metadata?.name}`;
    const key = roleKey(binding.metadata?.namespace, binding.roleRef?.name);
    if (binding.roleRef?.kind !== 'Role' || !roleKeys.has(key)) problems.push(`${where}: refers to no Role of these manifests`);
    bound.add(key);
    const subjects = binding.subjects ?? [];
    const onlyTheJob =
      subjects.length === 1 && subjects[0]?.kind === 'ServiceAccount' && subjects[0]?.name === TOOL_NAME && subjects[0]?.namespace === TOOL_NAMESPACE;
    if (!onlyTheJob) problems.push(`${where}: must bind only ServiceAccount ${TOOL_NAMESPACE}/${TOOL_NAME}`);
  }
  for (const key of roleKeys) if (!bound.has(key)) problems.push(`Role ${key} is bound by no RoleBinding`);
  return problems;
}

function namesByNamespace(objects: readonly AnyObject[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const o of objects) {
    const namespace = o.metadata?.namespace ?? '';
    map.set(namespace, (map.get(namespace) ?? new Set()).add(o.metadata?.name ?? ''));
  }
  return map;
}
