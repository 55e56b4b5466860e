import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { UsageError } from '../core/errors.js';
import { ManifestsError } from './errors.js';

/** IAM's limit on a role name, and the characters it allows. */
export const IAM_ROLE_NAME_MAX_LENGTH = 64;
const IAM_ROLE_NAME_CHARACTERS = /^[\w+=,.@-]+$/;
/** ccoctl's pattern: `<cluster>-<secret namespace>-<secret name>`. */
export const DEFAULT_ROLE_TEMPLATE = '{cluster}-{namespace}-{name}';
/** Stands for the cluster name until `--cluster-name` gives it; regenerate rather than edit (see shortenRoleName). */
export const DEFAULT_CLUSTER_NAME = 'CLUSTER_NAME';
const TEMPLATE_FIELDS = ['cluster', 'namespace', 'name'] as const;
const HASH_LENGTH = 8;

export interface SecretRef {
  namespace: string;
  name: string;
}

/** `namespace/name` of a Secret: the key of a role map and of assigned roles. */
export function secretKey(ref: SecretRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/** Where roles come from: a role map (every Secret must be in it) or a template. */
export type RoleSource = { kind: 'map'; source: string; roles: ReadonlyMap<string, string> } | { kind: 'template'; template: string; clusterName: string };

export interface AssignedRoles {
  /** Role per `namespace/name`. */
  roles: Map<string, string>;
  /** Role map entries that name no Secret of the input. */
  unusedRoleMapEntries: string[];
}

/**
 * A role name IAM accepts. Longer than 64 characters, it keeps the first 55 and appends `-`
 * and 8 hex characters of the SHA-256 of the whole name, so two long names that share a
 * prefix still differ (ccoctl's plain truncation makes them collide).
 */
export function shortenRoleName(fullName: string): string {
  if (fullName.length <= IAM_ROLE_NAME_MAX_LENGTH) return fullName;
  const hash = createHash('sha256').update(fullName).digest('hex').slice(0, HASH_LENGTH);
  const prefix = fullName.slice(0, IAM_ROLE_NAME_MAX_LENGTH - HASH_LENGTH - 1).replace(/[-_.]+$/, '');
  return `${prefix}-${hash}`;
}

/** Fills a template over {cluster}, {namespace} and {name}, then shortens it to IAM's limit. */
export function renderRoleName(template: string, clusterName: string, ref: SecretRef): string {
  const values: Record<(typeof TEMPLATE_FIELDS)[number], string> = { cluster: clusterName, ...ref };
  const fullName = template.replace(/\{([^}]*)\}/g, (_, field: string) => values[field as keyof typeof values] ?? `{${field}}`);
  const problem = roleNameProblem(fullName, { allowLong: true });
  if (problem) {
    throw new ManifestsError(
      'invalid-role-name',
      `The role template ${JSON.stringify(template)} gives ${JSON.stringify(fullName)} for ${secretKey(ref)}: ${problem}`,
    );
  }
  return shortenRoleName(fullName);
}

/** Checks a role template before use: only known fields, and at least one. */
export function validateRoleTemplate(template: string): void {
  const fields = [...template.matchAll(/\{([^}]*)\}/g)].map((match) => match[1] ?? '');
  const unknown = fields.filter((field) => !(TEMPLATE_FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) {
    throw new UsageError(
      `--role-template ${JSON.stringify(template)} uses ${unknown.map((f) => `{${f}}`).join(', ')}; it may use {cluster}, {namespace} and {name}`,
    );
  }
}

function roleNameProblem(name: string, { allowLong }: { allowLong: boolean }): string | undefined {
  if (name.length === 0) return 'a role name cannot be empty';
  if (!IAM_ROLE_NAME_CHARACTERS.test(name)) return 'IAM role names may hold only letters, digits and + = , . @ _ -';
  if (!allowLong && name.length > IAM_ROLE_NAME_MAX_LENGTH)
    return `IAM role names are at most ${IAM_ROLE_NAME_MAX_LENGTH} characters (this one has ${name.length})`;
  return undefined;
}

/** Reads a role map: a YAML mapping of `namespace/name: role`. Reports every bad entry at once. */
export function parseRoleMap(source: string, text: string): Map<string, string> {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ManifestsError('invalid-role-map', `${source}${line ? `:${line}` : ''} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestsError('invalid-role-map', `${source} must be a YAML mapping of "namespace/name: role" lines`);
  }
  const roles = new Map<string, string>();
  const problems: string[] = [];
  for (const [key, role] of Object.entries(value)) {
    const problem = roleMapEntryProblem(key, role);
    if (problem) problems.push(`${source}: ${key}: ${problem}`);
    else roles.set(key, role as string);
  }
  if (problems.length > 0) throw new ManifestsError('invalid-role-map', `${source} has invalid entries:`, problems);
  return roles;
}

function roleMapEntryProblem(key: string, role: unknown): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(key)) {
    return 'the key must be "namespace/name" of a Secret';
  }
  if (typeof role !== 'string') return `the role must be a string (got ${role === null ? 'nothing' : typeof role})`;
  return roleNameProblem(role, { allowLong: false });
}

/**
 * One role per Secret, never the same role for two Secrets: their CredentialsRequests ask
 * for different permissions, and each role gets the policy of its own request.
 */
export function assignRoles(secrets: readonly SecretRef[], roleSource: RoleSource): AssignedRoles {
  if (roleSource.kind === 'template') validateRoleTemplate(roleSource.template);
  const roles = new Map<string, string>();
  const missing: string[] = [];
  for (const ref of secrets) {
    const key = secretKey(ref);
    const role = roleSource.kind === 'map' ? roleSource.roles.get(key) : renderRoleName(roleSource.template, roleSource.clusterName, ref);
    if (role === undefined) missing.push(key);
    else roles.set(key, role);
  }
  if (roleSource.kind === 'map' && missing.length > 0) {
    throw new ManifestsError(
      'invalid-role-map',
      `${roleSource.source} has no role for:`,
      missing.map((key) => `${key}: add "${key}: <role>"`),
    );
  }
  assertDistinctRoles(roles);
  const unusedRoleMapEntries = roleSource.kind === 'map' ? [...roleSource.roles.keys()].filter((key) => !roles.has(key)) : [];
  return { roles, unusedRoleMapEntries };
}

function assertDistinctRoles(roles: ReadonlyMap<string, string>): void {
  const secretsByRole = new Map<string, string[]>();
  for (const [secret, role] of roles) secretsByRole.set(role, [...(secretsByRole.get(role) ?? []), secret]);
  const problems = [...secretsByRole].filter(([, secrets]) => secrets.length > 1).map(([role, secrets]) => `role ${role} is given to ${secrets.join(' and ')}`);
  if (problems.length > 0) {
    throw new ManifestsError(
      'role-collision',
      'Each Secret needs its own IAM role (its request asks for its own permissions); use {namespace} and {name} in the template, or distinct roles in the role map:',
      problems,
    );
  }
}
