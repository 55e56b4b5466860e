import { parseCredentialsRequests, type SourceText, type StatementEntry } from './credentials-requests.js';
import { componentNames } from './component-names.js';
import { ManifestsError } from './errors.js';
import {
  CREATE_ROLES_SCRIPT_FILE,
  createRolesScript,
  permissionPolicy,
  policyFileName,
  TRUST_POLICY_FILE,
  trustPolicyPlaceholder,
  type IamRole,
  type Partition,
  type RoleSettings,
} from './iam.js';
import {
  CERTS_FILE_MODE,
  certsSecretObject,
  credentialsRequestsReaderRole,
  credentialsRequestsReaderRoleBinding,
  CRONJOB_DEFAULT_MODE_PATH,
  cronJobObject,
  namespaceObject,
  operatorSecretObject,
  secretsWriterRole,
  secretsWriterRoleBinding,
  serviceAccountObject,
  trustedCaConfigMapObject,
  type CertsSecretContents,
  type CronJobSettings,
} from './kubernetes-objects.js';
import { alertingRuleObject, alertTimings } from './alerting-rule.js';
import { renderJson, renderKubernetesYaml } from './render.js';
import { assignRoles, secretKey, type RoleSource } from './role-names.js';
import { selectCredentialsRequests, type ClusterFeatures } from './select-credentials-requests.js';

export interface InstallFilesInput {
  sources: readonly SourceText[];
  features: ClusterFeatures;
  roleSource: RoleSource;
  cronJob: CronJobSettings;
  certs: CertsSecretContents;
  partition: Partition;
  /** `--permissions-boundary` and `--role-path` of the roles create-roles.sh creates. */
  roleSettings?: RoleSettings;
}

/** `manifests`: Kubernetes objects, safe to copy into the installer's manifests folder. `iam`: policies and the script. */
export type FileArea = 'manifests' | 'iam';

export interface PlannedFile {
  area: FileArea;
  name: string;
  content: string;
  /** 0600 for Secrets (they hold, or will hold, credentials and keys), 0755 for the script, else 0644. */
  mode: number;
}

/** One operator Secret the job will manage, and where it came from. */
export interface ManagedSecret {
  namespace: string;
  name: string;
  role: string;
  credentialsRequest: string;
  source: string;
  file: string;
}

export interface SkippedDocument {
  source: string;
  name: string;
  reason: string;
}

export interface InstallFiles {
  files: PlannedFile[];
  secrets: ManagedSecret[];
  skipped: SkippedDocument[];
  unusedRoleMapEntries: string[];
}

const SECRET_MODE = 0o600;
const PLAIN_MODE = 0o644;
const SCRIPT_MODE = 0o755;

/** Every file `generate` writes, from the CredentialsRequests and the options. Pure: same input, same bytes. */
export function buildInstallFiles(input: InstallFilesInput): InstallFiles {
  const parsed = parseCredentialsRequests(input.sources);
  const selected = selectCredentialsRequests(parsed.aws, input.features);
  const skipped = [...parsed.others, ...selected.skipped].map(({ source, name, reason }) => ({ source, name, reason }));
  if (selected.kept.length === 0 && parsed.aws.length > 0) {
    throw new ManifestsError(
      'no-aws-credentials-requests',
      `All ${parsed.aws.length} AWS CredentialsRequest(s) were left out, so there is nothing to generate; see why each was, and change the flags or the install-config:`,
      skipped.map((s) => `${s.source}: ${s.name}: ${s.reason}`),
    );
  }
  if (selected.kept.length === 0) {
    throw new ManifestsError(
      'no-aws-credentials-requests',
      `No AWS CredentialsRequest to generate for in ${input.sources.map((s) => s.source).join(', ') || 'the input'}; give the output of \`oc adm release extract --credentials-requests --cloud=aws\``,
      skipped.map((s) => `${s.source}: ${s.name}: ${s.reason}`),
    );
  }
  const requests = [...selected.kept].sort((a, b) => secretKey(a.secretRef).localeCompare(secretKey(b.secretRef)));
  const { roles, unusedRoleMapEntries } = assignRoles(
    requests.map((r) => r.secretRef),
    input.roleSource,
  );
  const components = componentNames(requests.map((r) => r.secretRef));
  const secrets = requests.map((request): ManagedSecret => {
    const key = secretKey(request.secretRef);
    return {
      ...request.secretRef,
      role: roles.get(key) as string,
      credentialsRequest: request.name,
      source: request.source,
      file: `cap-${components.get(key) as string}-secret.yaml`,
    };
  });
  const policies = secrets.map((secret, index) => ({ role: secret.role, statementEntries: requests[index]?.statementEntries ?? [] }));
  const files = [...manifestFiles(input, secrets), ...iamFiles(policies, secrets, input.partition, input.roleSettings ?? {})];
  assertDistinctFileNames(files);
  return { files: sortFiles(files), secrets, skipped, unusedRoleMapEntries };
}

function manifestFiles(input: InstallFilesInput, secrets: readonly ManagedSecret[]): PlannedFile[] {
  const manifest = (name: string, content: string, mode = PLAIN_MODE): PlannedFile => ({ area: 'manifests', name, content, mode });
  const cronJob = cronJobObject(input.cronJob);
  const files = [
    manifest('cap-alertingrule.yaml', renderKubernetesYaml(alertingRuleObject(alertTimings(cronJob)))),
    manifest('cap-namespace.yaml', renderKubernetesYaml(namespaceObject())),
    manifest('cap-serviceaccount.yaml', renderKubernetesYaml(serviceAccountObject())),
    manifest('cap-certs-secret.yaml', renderKubernetesYaml(certsSecretObject(input.certs)), SECRET_MODE),
    manifest('cap-trusted-ca-bundle-configmap.yaml', renderKubernetesYaml(trustedCaConfigMapObject())),
    manifest(
      'cap-cronjob.yaml',
      renderKubernetesYaml(cronJob, [
        { path: CRONJOB_DEFAULT_MODE_PATH, text: `octal 0${CERTS_FILE_MODE.toString(8)}: read by owner and group (the fsGroup restricted-v2 assigns)` },
      ]),
    ),
    manifest('cap-rbac-credentialsrequests-role.yaml', renderKubernetesYaml(credentialsRequestsReaderRole())),
    manifest('cap-rbac-credentialsrequests-rolebinding.yaml', renderKubernetesYaml(credentialsRequestsReaderRoleBinding())),
  ];
  for (const secret of secrets) {
    files.push(manifest(secret.file, renderKubernetesYaml(operatorSecretObject(secret, secret.role)), SECRET_MODE));
  }
  for (const [namespace, names] of secretNamesByNamespace(secrets)) {
    files.push(
      manifest(`cap-rbac-${namespace}-role.yaml`, renderKubernetesYaml(secretsWriterRole(namespace, names))),
      manifest(`cap-rbac-${namespace}-rolebinding.yaml`, renderKubernetesYaml(secretsWriterRoleBinding(namespace))),
    );
  }
  return files;
}

function secretNamesByNamespace(secrets: readonly ManagedSecret[]): Map<string, string[]> {
  const byNamespace = new Map<string, string[]>();
  for (const { namespace, name } of secrets) byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), name]);
  return byNamespace;
}

function iamFiles(
  policies: readonly { role: string; statementEntries: readonly StatementEntry[] }[],
  secrets: readonly ManagedSecret[],
  partition: Partition,
  roleSettings: RoleSettings,
): PlannedFile[] {
  const iam = (name: string, content: string, mode = PLAIN_MODE): PlannedFile => ({ area: 'iam', name, content, mode });
  const roles: IamRole[] = secrets.map((s) => ({ role: s.role, policyName: s.credentialsRequest, policyFile: policyFileName(s.role) }));
  return [
    ...policies.map(({ role, statementEntries }) => iam(policyFileName(role), renderJson(permissionPolicy(statementEntries, partition)))),
    iam(TRUST_POLICY_FILE, renderJson(trustPolicyPlaceholder(partition))),
    iam(CREATE_ROLES_SCRIPT_FILE, createRolesScript(roles, partition, roleSettings), SCRIPT_MODE),
  ];
}

function assertDistinctFileNames(files: readonly PlannedFile[]): void {
  const seen = new Set<string>();
  const clashes = files.map((f) => `${f.area}/${f.name}`).filter((path) => seen.has(path) || !seen.add(path));
  if (clashes.length > 0) {
    throw new ManifestsError('file-name-collision', 'Two generated objects would share a file name:', clashes);
  }
}

function sortFiles(files: readonly PlannedFile[]): PlannedFile[] {
  return [...files].sort((a, b) => a.area.localeCompare(b.area) || a.name.localeCompare(b.name));
}
