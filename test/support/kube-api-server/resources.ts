// The resource types the test server knows, and the discovery documents kubectl reads.

export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: readonly string[];
  shortNames?: readonly string[];
  /** Built-in types: list items carry no kind/apiVersion, and PUT without resourceVersion is allowed. */
  builtin: boolean;
}

const ALL_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update'] as const;

export const SECRETS: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  namespaced: true,
  verbs: ALL_VERBS,
  builtin: true,
};
export const CORE_EVENTS: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  verbs: ALL_VERBS,
  shortNames: ['ev'],
  builtin: true,
};
export const NAMESPACES: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  verbs: ['get', 'list'],
  shortNames: ['ns'],
  builtin: true,
};
export const EVENTS_V1: ResourceType = {
  group: 'events.k8s.io',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  verbs: ALL_VERBS,
  shortNames: ['ev'],
  builtin: true,
};
export const CREDENTIALS_REQUESTS: ResourceType = {
  group: 'cloudcredential.openshift.io',
  version: 'v1',
  resource: 'credentialsrequests',
  singular: 'credentialsrequest',
  kind: 'CredentialsRequest',
  namespaced: true,
  verbs: ['create', 'get', 'list'],
  builtin: false,
};

export const ROLES: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'roles',
  singular: 'role',
  kind: 'Role',
  namespaced: true,
  verbs: ALL_VERBS,
  builtin: true,
};
export const ROLE_BINDINGS: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource: 'rolebindings',
  singular: 'rolebinding',
  kind: 'RoleBinding',
  namespaced: true,
  verbs: ALL_VERBS,
  builtin: true,
};
/** The Cloud Credential Operator's config (cluster-scoped, one object named `cluster`). */
export const CLOUD_CREDENTIALS: ResourceType = {
  group: 'operator.openshift.io',
  version: 'v1',
  resource: 'cloudcredentials',
  singular: 'cloudcredential',
  kind: 'CloudCredential',
  namespaced: false,
  verbs: ['create', 'get', 'list', 'patch', 'update'],
  builtin: false,
};
/** Only created, never stored: the answer says whether the user may do it, from the Roles and RoleBindings held. */
export const SUBJECT_ACCESS_REVIEWS: ResourceType = {
  group: 'authorization.k8s.io',
  version: 'v1',
  resource: 'subjectaccessreviews',
  singular: 'subjectaccessreview',
  kind: 'SubjectAccessReview',
  namespaced: false,
  verbs: ['create'],
  builtin: true,
};

/** The refresh's own CronJob and its Jobs: what `status` reads to say what the alerts would say. */
export const CRON_JOBS: ResourceType = {
  group: 'batch',
  version: 'v1',
  resource: 'cronjobs',
  singular: 'cronjob',
  kind: 'CronJob',
  namespaced: true,
  verbs: ALL_VERBS,
  shortNames: ['cj'],
  builtin: true,
};
export const JOBS: ResourceType = {
  group: 'batch',
  version: 'v1',
  resource: 'jobs',
  singular: 'job',
  kind: 'Job',
  namespaced: true,
  verbs: ALL_VERBS,
  builtin: true,
};

export const RESOURCE_TYPES: readonly ResourceType[] = [
  SECRETS,
  CORE_EVENTS,
  NAMESPACES,
  EVENTS_V1,
  CREDENTIALS_REQUESTS,
  ROLES,
  ROLE_BINDINGS,
  CLOUD_CREDENTIALS,
  SUBJECT_ACCESS_REVIEWS,
  CRON_JOBS,
  JOBS,
];

export function groupVersionOf(type: { group: string; version: string }): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** `secrets`, or `credentialsrequests.cloudcredential.openshift.io`, as in API server messages. */
export function qualifiedResource(type: ResourceType): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

/** `Secret`, or `CredentialsRequest.cloudcredential.openshift.io`, as in Invalid messages. */
export function qualifiedKind(type: ResourceType): string {
  return type.group ? `${type.kind}.${type.group}` : type.kind;
}

export function findResourceType(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

function typesOf(groupVersion: string): ResourceType[] {
  return RESOURCE_TYPES.filter((t) => groupVersionOf(t) === groupVersion);
}

const GROUPS = [...new Set(RESOURCE_TYPES.filter((t) => t.group).map((t) => groupVersionOf(t)))];

export function versionInfo(): object {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0',
    gitCommit: 'test',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.4',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(groupVersion: string): object {
  const [name = '', version = ''] = groupVersion.split('/');
  const entry = { groupVersion, version };
  return { name, versions: [entry], preferredVersion: entry };
}

export function groupList(): object {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(apiGroup) };
}

/** The APIGroup document for `/apis/<group>`, or undefined when the group is unknown. */
export function groupDocument(group: string): object | undefined {
  const groupVersion = GROUPS.find((gv) => gv.startsWith(`${group}/`));
  return groupVersion ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(groupVersion) } : undefined;
}

/** The APIResourceList for `/api/v1` or `/apis/<group>/<version>`, or undefined. */
export function resourceList(groupVersion: string): object | undefined {
  const types = typesOf(groupVersion);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: types.map((t) => ({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
    })),
  };
}

function openApiPath(groupVersion: string): string {
  return groupVersion.includes('/') ? `apis/${groupVersion}` : `api/${groupVersion}`;
}

/** `/openapi/v3`: where each group version's document lives. */
export function openApiRoot(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of ['v1', ...GROUPS]) {
    const path = openApiPath(gv);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=test` };
  }
  return { paths };
}

/**
 * A minimal OpenAPI v3 document for one group version. kubectl (create, replace, apply)
 * only reads the PATCH operations' `fieldValidation` parameter from it, to learn that
 * the server validates fields itself; without it kubectl wants the full /openapi/v2.
 */
export function openApiDocument(path: string): object | undefined {
  const groupVersion = path.replace(/^apis?\//, '');
  const types = typesOf(groupVersion);
  if (!['v1', ...GROUPS].includes(groupVersion)) return undefined;
  const paths: Record<string, object> = {};
  for (const t of types) {
    const operation = {
      'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
      parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
      responses: { '200': { description: 'OK' } },
    };
    const scope = t.namespaced ? `/${path}/namespaces/{namespace}/${t.resource}` : `/${path}/${t.resource}`;
    // kubectl looks for fieldValidation on an operation of the kind; a create-only kind (SubjectAccessReview) has only POST.
    if (t.verbs.includes('create')) paths[scope] = { post: operation, ...(t.verbs.includes('update') ? {} : { patch: operation }) };
    if (t.verbs.includes('update')) paths[`${scope}/{name}`] = { put: operation, patch: operation };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths };
}
