import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ANNOTATION_ROLE, LABEL_MANAGED, TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import { ConfigError, RunFailedError, UsageError } from '../core/errors.js';
import { describeConnectionFailure } from '../kube/describe-kube-failure.js';
import { createKubeCall, KubeRequestError } from '../kube/kube-api.js';
import { loadKubeConfig } from '../kube/load-kube-config.js';
import { applyUpgradeableTo, clusterRequestSources, createPreflightClusterApi, readClusterState } from '../kube/preflight-cluster.js';
import { writeFileAtomic } from '../disk/atomic-write.js';
import { compareReleases, needsPolicyUpdate, secretKey } from '../manifests/compare-releases.js';
import { type AwsCredentialsRequest, parseCredentialsRequests, type SourceText } from '../manifests/credentials-requests.js';
import { ManifestsError } from '../manifests/errors.js';
import {
  PARTITIONS,
  type Partition,
  permissionPolicy,
  permissionsBoundaryProblem,
  policyFileName,
  type RoleSettings,
  rolePathProblem,
  TRUST_POLICY_FILE,
  trustPolicyPlaceholder,
  UPDATE_ROLES_SCRIPT_FILE,
  updateRolesScript,
} from '../manifests/iam.js';
import type { ClusterCapabilities } from '../manifests/capabilities.js';
import { escapeControl } from '../core/display-text.js';
import { operatorSecretObject, secretsWriterRole, secretsWriterRoleBinding } from '../manifests/kubernetes-objects.js';
import { type CurrentState, type PreflightReport, planPreflight, renderPreflightTable } from '../manifests/preflight-plan.js';
import { renderJson, renderKubernetesYaml } from '../manifests/render.js';
import { assignRoles, DEFAULT_CLUSTER_NAME, DEFAULT_ROLE_TEMPLATE, parseRoleMap, type RoleSource } from '../manifests/role-names.js';
import { componentNames } from '../manifests/component-names.js';
import { type ClusterFeatures, selectCredentialsRequests } from '../manifests/select-credentials-requests.js';
import { buildCapClient, type CapFlags, loadIdentity, resolveCapSettings } from './cap-settings.js';
import { readInstallConfig } from './generate.js';
import { type CommandContext, loggerFor } from './context.js';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { errorMessage } from '../core/errors.js';

export interface PreflightOptions extends CapFlags {
  /** The next release's requests: a file, a folder or `-`. */
  to: string;
  /** Offline: the current release's requests. */
  from?: string;
  /** Offline: the Secret and RBAC manifests `generate` wrote. */
  manifests?: string;
  out?: string;
  policiesUpdated?: boolean;
  toVersion?: string;
  roleMap?: string;
  roleTemplate?: string;
  clusterName?: string;
  partition?: Partition;
  /** `--permissions-boundary ARN` and `--role-path PATH` of the roles update-roles.sh creates, as for generate. */
  permissionsBoundary?: string;
  rolePath?: string;
  /** `--install-config FILE`: the next release's requests of capabilities it does not enable are left out, as by generate. */
  installConfig?: string;
  includeTechPreview?: boolean;
  featureGates?: string[] | string;
  output?: 'table' | 'json';
  /** In a cluster: set the upgradeable-to annotation when nothing blocks. */
  apply?: boolean;
  kubeconfig?: string;
  context?: string;
  /** Ask CAP once for each role of a new or changed request, and report whether the certificate may use it. */
  probeCap?: boolean;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/** `cap-token-refresh preflight`: is the upgrade to the next release's CredentialsRequests safe, and what to change first. */
export async function preflightCommand(opts: PreflightOptions, ctx: CommandContext): Promise<number> {
  const offline = validate(opts);
  const features: ClusterFeatures = {
    includeTechPreview: opts.includeTechPreview ?? false,
    featureGates: [opts.featureGates ?? []]
      .flat()
      .flatMap((v) => v.split(','))
      .map((g) => g.trim())
      .filter(Boolean),
    capabilities: await readInstallConfigCapabilities(opts.installConfig, ctx),
  };
  const stdin = async () => (await ctx.readStdin()).toString('utf8');
  const nextParsed = parseCredentialsRequests(await readSources('--to', opts.to, ctx.cwd, stdin)).aws;
  if (nextParsed.length === 0)
    throw new ManifestsError(
      'no-aws-credentials-requests',
      `--to ${opts.to} holds no AWS CredentialsRequest; give the folder oc adm release extract --credentials-requests wrote`,
    );
  const next = selectCredentialsRequests(nextParsed, features).kept;
  const cluster = offline ? undefined : connectForPreflight(opts, ctx);
  let current: AwsCredentialsRequest[];
  let state: CurrentState;
  if (cluster) {
    current = parseCredentialsRequests(clusterRequestSources(await cluster.run(() => cluster.api.listCredentialsRequests()))).aws;
    state = await cluster.run(() => readClusterState(cluster.api, next));
  } else if (offline) {
    current = selectCredentialsRequests(parseCredentialsRequests(await readSources('--from', offline.from, ctx.cwd, stdin)).aws, features).kept;
    state = await readManifestsState(ctx.cwd, offline.manifests);
  } else {
    throw new Error('preflight: neither a cluster nor --from/--manifests');
  }
  const comparison = compareReleases(current, next);
  const newRefs = comparison.requests.filter((r) => r.change === 'new' && !state.secrets.has(secretKey(r.request))).map((r) => r.request.secretRef);
  const { roles } = assignRoles(newRefs, await readRoleSource(opts, ctx.cwd));
  const planned = planPreflight(comparison, state, { policiesUpdated: opts.policiesUpdated ?? false, rolesForNew: roles });
  const report = opts.probeCap ? await probeCap(planned, opts, ctx) : planned;
  if (opts.out !== undefined) {
    const roleSettings = { permissionsBoundary: opts.permissionsBoundary, rolePath: opts.rolePath };
    const written = await writePreflightFiles(resolve(ctx.cwd, opts.out), next, report, state, opts.partition ?? 'aws-iso', roleSettings);
    ctx.stderr(`wrote ${written.length} file(s) under ${opts.out}\n`);
  }
  ctx.stdout(opts.output === 'json' ? `${JSON.stringify(report)}\n` : renderPreflightTable(report));
  const { toVersion } = opts;
  if (cluster && opts.apply && toVersion !== undefined) {
    const applied = await cluster.run(() => applyUpgradeableTo(cluster.api, toVersion, report.blockers));
    ctx.stderr(`${applied.message}\n`);
  } else if (report.blockers === 0 && opts.output !== 'json') {
    const version = opts.toVersion ?? '<major.minor>';
    ctx.stdout(
      `When the upgrade is to ${version}, unblock it with:\n  oc annotate cloudcredential.operator.openshift.io/cluster --overwrite cloudcredential.openshift.io/upgradeable-to=${version}\n`,
    );
  }
  return report.blockers === 0 ? 0 : 1;
}

/**
 * One CAP request per role of a new or changed request, with the settings `refresh` uses. The
 * credentials are dropped unread; a role CAP refuses becomes a blocker, since the upgraded
 * operator would get no credentials.
 */
async function probeCap(report: PreflightReport, opts: PreflightOptions, ctx: CommandContext): Promise<PreflightReport> {
  const logger = loggerFor(ctx, opts);
  const settings = resolveCapSettings(opts, ctx);
  const { agency, mission } = settings;
  if (!agency || !mission) throw new ConfigError('--probe-cap needs the agency and mission (AGENCY and MISSION, or --agency and --mission)');
  const identity = await loadIdentity(settings, ctx, logger);
  const cap = buildCapClient(settings, identity, ctx, logger);
  try {
    const probed = await Promise.all(
      report.requests.map(async (entry) => {
        if ((entry.change !== 'new' && entry.change !== 'changed') || entry.role === null) return entry;
        try {
          await cap.fetchCredentials({ agency, mission, role: entry.role });
          return { ...entry, probe: 'ok' };
        } catch (err) {
          const error = errorMessage(err);
          const action = [
            entry.action,
            `CAP did not issue credentials for role ${entry.role} with this certificate (${error}); ask the CAP administrators to allow it`,
          ];
          return { ...entry, probe: error, blocker: true, action: action.filter(Boolean).join('; ') };
        }
      }),
    );
    return { requests: probed, blockers: probed.filter((e) => e.blocker).length };
  } finally {
    await cap.close();
  }
}

/** The cluster connection, and a wrapper that turns an API failure into an error that says what to fix. */
function connectForPreflight(opts: PreflightOptions, ctx: CommandContext) {
  const loaded = loadKubeConfig(
    { ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), ...(opts.context ? { context: opts.context } : {}) },
    { env: ctx.env, cwd: ctx.cwd },
  );
  const api = createPreflightClusterApi(createKubeCall(loaded.kubeConfig, loaded.server));
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof KubeRequestError)) throw err;
      const connection = describeConnectionFailure(err, loaded);
      if (connection) throw new ConfigError(connection);
      if (err.status === 401)
        throw new ConfigError(`the API server refused the kubeconfig's credentials (${err.message}); log in again (oc login) or give another --kubeconfig`);
      if (err.status === 403) {
        throw new ConfigError(
          `the API server refused a request (${err.message}); preflight needs list on credentialsrequests in openshift-cloud-credential-operator, get on secrets and namespaces, create on subjectaccessreviews, and for --apply get and update on cloudcredentials (a cluster admin's kubeconfig has them)`,
        );
      }
      throw new RunFailedError(`the API server failed a request (${err.message}); try again`);
    }
  };
  return { api, run };
}

/** Checks the flags together; offline (both --from and --manifests given), the folders to compare with instead of a cluster. */
function validate(opts: PreflightOptions): { from: string; manifests: string } | undefined {
  const problems: string[] = [];
  const offline = opts.from !== undefined || opts.manifests !== undefined;
  if (offline && (opts.from === undefined || opts.manifests === undefined)) {
    problems.push(
      "offline, give both --from DIR (the current release's CredentialsRequests) and --manifests DIR (the manifests generate wrote); without either, preflight compares with the cluster",
    );
  }
  if (offline && (opts.kubeconfig !== undefined || opts.context !== undefined || opts.apply)) {
    problems.push('--kubeconfig, --context and --apply are for the comparison with a cluster, not with --from/--manifests');
  }
  if (opts.apply && opts.toVersion === undefined) problems.push('--apply needs --to-version major.minor (the version the annotation unblocks)');
  if (opts.to === '-' && opts.from === '-') problems.push('--to and --from cannot both read standard input');
  if (opts.partition !== undefined && !PARTITIONS.includes(opts.partition)) problems.push(`--partition: use one of ${PARTITIONS.join(', ')}`);
  else if (opts.permissionsBoundary !== undefined) {
    const problem = permissionsBoundaryProblem(opts.permissionsBoundary, opts.partition ?? 'aws-iso');
    if (problem) problems.push(problem);
  }
  if (opts.rolePath !== undefined) {
    const problem = rolePathProblem(opts.rolePath);
    if (problem) problems.push(problem);
  }
  if (opts.toVersion !== undefined && !/^\d+\.\d+$/.test(opts.toVersion)) problems.push('--to-version: give major.minor, e.g. 4.16');
  if (opts.roleMap !== undefined && opts.roleTemplate !== undefined) problems.push('give --role-map or --role-template, not both');
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return opts.from !== undefined && opts.manifests !== undefined ? { from: opts.from, manifests: opts.manifests } : undefined;
}

/** The capabilities of --install-config (undefined without it: every capability); its warnings go to stderr. */
async function readInstallConfigCapabilities(file: string | undefined, ctx: CommandContext): Promise<ClusterCapabilities | undefined> {
  if (file === undefined) return undefined;
  const { capabilities, warnings } = await readInstallConfig(file, ctx.cwd);
  for (const warning of warnings) ctx.stderr(`warning: ${escapeControl(warning)}\n`);
  return capabilities;
}

async function readSources(flag: string, given: string, cwd: string, stdin: () => Promise<string>): Promise<SourceText[]> {
  if (given === '-') return [{ source: '<stdin>', text: await stdin() }];
  const path = resolve(cwd, given);
  const info = await stat(path).catch(() => {
    throw new ManifestsError('input-not-found', `${flag} ${given}: no such file or folder (${path})`);
  });
  if (!info.isDirectory()) return [{ source: given, text: await readFile(path, 'utf8') }];
  const names = (await readdir(path)).filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('.')).sort();
  if (names.length === 0) throw new ManifestsError('input-not-found', `${flag} ${given}: the folder has no .yaml or .yml files`);
  return Promise.all(names.map(async (name) => ({ source: join(given, name), text: await readFile(join(path, name), 'utf8') })));
}

async function readRoleSource(opts: PreflightOptions, cwd: string): Promise<RoleSource> {
  if (opts.roleMap === undefined) {
    return { kind: 'template', template: opts.roleTemplate ?? DEFAULT_ROLE_TEMPLATE, clusterName: opts.clusterName ?? DEFAULT_CLUSTER_NAME };
  }
  const text = await readFile(resolve(cwd, opts.roleMap), 'utf8').catch(() => {
    throw new ManifestsError('input-not-found', `--role-map ${opts.roleMap}: cannot be read`);
  });
  return { kind: 'map', source: opts.roleMap, roles: parseRoleMap(opts.roleMap, text) };
}

interface ManifestObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  rules?: { resources?: string[]; resourceNames?: string[]; verbs?: string[] }[];
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/** The managed Secrets, their roles, and the Secrets the job's Roles (bound to its service account) let it get and update. */
export async function readManifestsState(cwd: string, shown: string): Promise<CurrentState> {
  const sources = await readSources('--manifests', shown, cwd, async () => '').catch((err) => {
    throw err instanceof ManifestsError ? err : new ManifestsError('input-not-found', `--manifests ${shown}: cannot be read`);
  });
  const objects: ManifestObject[] = [];
  for (const { source, text } of sources) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new ManifestsError('invalid-yaml', `${source} is not valid YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
      const value = doc.toJS() as unknown;
      if (value && typeof value === 'object') objects.push(value as ManifestObject);
    }
  }
  const secrets = new Map<string, { role: string | undefined }>();
  for (const o of objects) {
    if (o.kind !== 'Secret' || !o.metadata?.name || !o.metadata.namespace) continue;
    const role = o.metadata.annotations?.[ANNOTATION_ROLE];
    if (role === undefined && o.metadata.labels?.[LABEL_MANAGED] !== 'true') continue;
    secrets.set(`${o.metadata.namespace}/${o.metadata.name}`, { role });
  }
  const bound = new Set(
    objects
      .filter((o) => o.kind === 'RoleBinding' && o.roleRef?.kind === 'Role')
      .filter((o) => o.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === TOOL_NAME && s.namespace === TOOL_NAMESPACE))
      .map((o) => `${o.metadata?.namespace}/${o.roleRef?.name}`),
  );
  const granted = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'Role' || !bound.has(`${o.metadata?.namespace}/${o.metadata?.name}`)) continue;
    for (const rule of o.rules ?? []) {
      if (!rule.resources?.includes('secrets') || !rule.verbs?.includes('get') || !rule.verbs.includes('update')) continue;
      for (const name of rule.resourceNames ?? []) granted.add(`${o.metadata?.namespace}/${name}`);
    }
  }
  return { secrets, granted };
}

/** Secret and RBAC manifests for new requests; IAM policies and update-roles.sh for new and changed ones. Checked before anything is written. */
async function writePreflightFiles(
  outDir: string,
  next: readonly AwsCredentialsRequest[],
  report: PreflightReport,
  state: CurrentState,
  partition: Partition,
  roleSettings: RoleSettings,
): Promise<string[]> {
  const byKey = new Map(next.map((r) => [secretKey(r), r]));
  const components = componentNames(next.map((r) => r.secretRef));
  const files: { path: string; content: string; mode: number }[] = [];
  const newEntries = report.requests.flatMap((e) => (e.change === 'new' && e.role !== null ? [{ ...e, role: e.role }] : []));
  const namesByNamespace = new Map<string, Set<string>>();
  for (const key of state.granted) {
    const [namespace, name] = key.split('/') as [string, string];
    namesByNamespace.set(namespace, (namesByNamespace.get(namespace) ?? new Set()).add(name));
  }
  for (const entry of newEntries) {
    const key = `${entry.secret.namespace}/${entry.secret.name}`;
    if (!state.secrets.has(key)) {
      files.push({
        path: join(outDir, `cap-${components.get(key)}-secret.yaml`),
        content: renderKubernetesYaml(operatorSecretObject(entry.secret, entry.role)),
        mode: 0o600,
      });
    }
    namesByNamespace.set(entry.secret.namespace, (namesByNamespace.get(entry.secret.namespace) ?? new Set()).add(entry.secret.name));
  }
  for (const namespace of new Set(newEntries.map((e) => e.secret.namespace))) {
    files.push(
      {
        path: join(outDir, `cap-rbac-${namespace}-role.yaml`),
        content: renderKubernetesYaml(secretsWriterRole(namespace, [...(namesByNamespace.get(namespace) ?? [])])),
        mode: 0o644,
      },
      { path: join(outDir, `cap-rbac-${namespace}-rolebinding.yaml`), content: renderKubernetesYaml(secretsWriterRoleBinding(namespace)), mode: 0o644 },
    );
  }
  const iamDir = join(outDir, 'iam');
  const roles = report.requests.flatMap((e) => {
    const request = byKey.get(`${e.secret.namespace}/${e.secret.name}`);
    const updated =
      e.change === 'new' || (e.change === 'changed' && needsPolicyUpdate({ added: e.added ?? [], removed: [], conditionChanged: e.conditionChanged ?? [] }));
    return e.role !== null && request && updated ? [{ role: e.role, request }] : [];
  });
  for (const { role, request } of roles) {
    files.push({ path: join(iamDir, policyFileName(role)), content: renderJson(permissionPolicy(request.statementEntries, partition)), mode: 0o644 });
  }
  if (roles.length > 0) {
    files.push({ path: join(iamDir, TRUST_POLICY_FILE), content: renderJson(trustPolicyPlaceholder(partition)), mode: 0o644 });
    files.push({
      path: join(iamDir, UPDATE_ROLES_SCRIPT_FILE),
      content: updateRolesScript(
        roles.map(({ role, request }) => ({ role, policyName: request.name, policyFile: policyFileName(role) })),
        partition,
        roleSettings,
      ),
      mode: 0o755,
    });
  }
  // A trust policy already filled in beside an earlier run's files is the site's own: keep it.
  const trustPolicy = join(iamDir, TRUST_POLICY_FILE);
  const keep = await stat(trustPolicy).then(
    () => true,
    () => false,
  );
  const toWrite = files.filter((f) => !(keep && f.path === trustPolicy));
  await mkdir(outDir, { recursive: true });
  if (roles.length > 0) await mkdir(iamDir, { recursive: true });
  for (const file of toWrite) await writeFileAtomic(file.path, file.content, file.mode);
  return toWrite.map((f) => f.path);
}
