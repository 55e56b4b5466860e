import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { escapeControl } from '../core/display-text.js';
import { displayUrl, hasUserinfo } from '../core/display-url.js';
import { ConfigError, errorMessage, UsageError } from '../core/errors.js';
import type { SourceText } from '../manifests/credentials-requests.js';
import { describeCapabilities, type InstallConfigCapabilities, parseInstallConfigCapabilities } from '../manifests/capabilities.js';
import { ManifestsError } from '../manifests/errors.js';
import { PARTITIONS, type Partition, permissionsBoundaryProblem, rolePathProblem } from '../manifests/iam.js';
import {
  buildInstallFiles,
  type FileArea,
  type InstallFilesInput,
  type ManagedSecret,
  type PlannedFile,
  type SkippedDocument,
} from '../manifests/install-files.js';
import { validateCapUrl } from '../cap/url.js';
import { writeFileAtomic } from '../disk/atomic-write.js';
import { DEFAULT_RENEW_BEFORE, DEFAULT_SCHEDULE, PLACEHOLDERS, type CertsSecretContents } from '../manifests/kubernetes-objects.js';
import { httpsProxyProblem, parseNoProxy, type ProxyEnv } from '../manifests/proxy-env.js';
import { cronJobSchedule } from '../manifests/schedule-spread.js';
import type { CommandContext } from './context.js';
import { DEFAULT_CLUSTER_NAME, DEFAULT_ROLE_TEMPLATE, parseRoleMap, type RoleSource } from '../manifests/role-names.js';

export interface GenerateOptions {
  /** A file, a folder (its .yaml and .yml files) or `-` for `stdinText`. */
  credentialsRequests: string;
  /** What standard input held, when `credentialsRequests` is `-` (the CLI reads it). */
  stdinText?: string;
  /** Kubernetes manifests go here. Default `manifests`. */
  out?: string;
  /** IAM policies and the script go here. Default: `iam` beside `out` (manifests/ → iam/), so `out` holds only Kubernetes objects. */
  iamOut?: string;
  cert?: string;
  key?: string;
  ca?: string;
  image?: string;
  capUrl?: string;
  agency?: string;
  mission?: string;
  account?: string;
  /** The CronJob's schedule, kept as given. Default: every 5 minutes, at a minute offset from `clusterName` (schedule-spread.ts). */
  schedule?: string;
  /** `--renew-before` of the CronJob's refresh; the alert thresholds follow from it and the schedule. */
  renewBefore?: string;
  /** HTTPS_PROXY of the CronJob: the proxy the pod reaches CAP through. */
  httpsProxy?: string;
  /** NO_PROXY of the CronJob (comma-separated); only with httpsProxy. */
  noProxy?: string;
  roleMap?: string;
  roleTemplate?: string;
  clusterName?: string;
  partition?: Partition;
  /** `--permissions-boundary ARN`: a managed policy ARN of the partition, given to every create-role. */
  permissionsBoundary?: string;
  /** `--role-path PATH`: the IAM path of the roles create-role makes (`/.../`). */
  rolePath?: string;
  /** `--install-config FILE`: requests of capabilities it does not enable are left out. */
  installConfig?: string;
  includeTechPreview?: boolean;
  featureGates?: string[];
  /** Overwrite files that exist with other content. */
  force?: boolean;
}

export type FileStatus = 'written' | 'overwritten' | 'unchanged';

export interface GeneratedFile {
  path: string;
  area: FileArea;
  status: FileStatus;
}

export interface GenerateResult {
  outDir: string;
  /** The CronJob's schedule as written. */
  schedule: string;
  /** With --install-config: which capabilities it enables, for a person. */
  capabilities?: string;
  iamDir: string;
  files: GeneratedFile[];
  /** The operator Secrets the manifests manage, with their roles. */
  secrets: ManagedSecret[];
  /** Documents of the input left out, and why. */
  skipped: SkippedDocument[];
  unusedRoleMapEntries: string[];
  /** `cap-*.yaml` files in the out folder that this run would not write (left in place). */
  stale: string[];
  /** What the administrator should look at (printed on stderr as `warning: ...`); nothing was refused for it. */
  warnings: string[];
}

/**
 * Why an image reference is risky in an enclave, or undefined when it is pinned by digest.
 * A tag can be moved, and the job must never depend on what it keeps alive: the image comes
 * from the enclave's mirror registry, pinned, never from the in-cluster registry.
 */
export function imageReferenceWarning(image: string): string | undefined {
  const problems: string[] = [];
  if (!/@sha256:[0-9a-f]{64}$/.test(image)) problems.push('it is not pinned by digest (@sha256:...), so what runs can change under the same name');
  if (/^image-registry\.openshift-image-registry\.svc(:\d+)?\//.test(image) || /^default-route-openshift-image-registry\./.test(image)) {
    problems.push('it names the in-cluster registry, which needs the very credentials this job keeps alive');
  }
  if (problems.length === 0) return undefined;
  return `--image ${image}: ${problems.join('; and ')}; push it to the enclave's mirror registry and give it as REGISTRY/NAME@sha256:DIGEST (README: "The image")`;
}

/**
 * Writes the install manifests and IAM files for the CredentialsRequests; relative paths are
 * resolved from `ctx.cwd`. Checks every file first: if any exists with other content and
 * `force` is not set, writes nothing and throws. Each file is written by the one atomic writer
 * (temporary file, fsync, rename, folder fsync) with its planned mode: 0600 for the Secrets.
 */
export async function generate(options: GenerateOptions, ctx: Pick<CommandContext, 'cwd'>): Promise<GenerateResult> {
  const { cwd } = ctx;
  const outDir = resolve(cwd, options.out ?? 'manifests');
  const iamDir = options.iamOut ? resolve(cwd, options.iamOut) : join(dirname(outDir), 'iam');
  const { input, warnings: inputWarnings } = await readInstallInput(options, cwd);
  const plan = buildInstallFiles(input);
  const targets = plan.files.map((file) => ({ file, path: join(file.area === 'manifests' ? outDir : iamDir, file.name) }));
  const read = await Promise.all(targets.map((target) => readExisting(target.path)));
  const unwritable = targets.flatMap((target, i) => {
    const r = read[i];
    return r && 'problem' in r ? [`${target.path}: ${r.problem}`] : [];
  });
  if (unwritable.length > 0) {
    throw new ManifestsError(
      'files-differ',
      `${unwritable.length} file(s) cannot be written; nothing was written. Move what is in the way, or give another --out / --iam-out:`,
      unwritable,
    );
  }
  const existing = read.map((r) => ('content' in r ? r.content : undefined));
  const differing = targets.filter((target, i) => existing[i] !== undefined && existing[i] !== target.file.content);
  if (differing.length > 0 && !options.force) {
    throw new ManifestsError(
      'files-differ',
      `${differing.length} file(s) already exist with other content; nothing was written. Rerun with --force to overwrite them:`,
      differing.map((target) => target.path),
    );
  }
  await mkdir(outDir, { recursive: true });
  await mkdir(iamDir, { recursive: true });
  const files: GeneratedFile[] = [];
  for (const [i, { file, path }] of targets.entries()) {
    const before = existing[i];
    if (before === file.content) {
      files.push({ path, area: file.area, status: 'unchanged' });
      continue;
    }
    await writeFileAtomic(path, file.content, file.mode);
    files.push({ path, area: file.area, status: before === undefined ? 'written' : 'overwritten' });
  }
  const stale = await findStaleManifests(outDir, plan.files);
  const imageWarning = options.image === undefined ? undefined : imageReferenceWarning(options.image);
  const warnings = [...inputWarnings, ...(imageWarning ? [imageWarning] : [])];
  const capabilities = input.features.capabilities === undefined ? {} : { capabilities: describeCapabilities(input.features.capabilities) };
  return {
    outDir,
    schedule: input.cronJob.schedule,
    ...capabilities,
    iamDir,
    files,
    secrets: plan.secrets,
    skipped: plan.skipped,
    unusedRoleMapEntries: plan.unusedRoleMapEntries,
    stale,
    warnings,
  };
}

async function readInstallInput(options: GenerateOptions, cwd: string): Promise<{ input: InstallFilesInput; warnings: string[] }> {
  const partition = options.partition ?? 'aws-iso';
  const schedule = cronJobSchedule(options);
  validateOptions(options, partition, schedule);
  const installConfig = options.installConfig === undefined ? undefined : await readInstallConfig(options.installConfig, cwd);
  const input: InstallFilesInput = {
    sources: await readCredentialsRequestSources(options, cwd),
    features: {
      includeTechPreview: options.includeTechPreview ?? false,
      featureGates: (options.featureGates ?? []).map((gate) => gate.trim()).filter(Boolean),
      capabilities: installConfig?.capabilities,
    },
    roleSource: await readRoleSource(options, cwd),
    cronJob: {
      image: options.image ?? PLACEHOLDERS.image,
      capUrl: options.capUrl ?? PLACEHOLDERS.capUrl,
      agency: options.agency ?? PLACEHOLDERS.agency,
      mission: options.mission ?? PLACEHOLDERS.mission,
      ...(options.account !== undefined ? { account: options.account.trim() } : {}),
      schedule,
      renewBefore: options.renewBefore ?? DEFAULT_RENEW_BEFORE,
      ...proxyEnv(options),
    },
    certs: await readCertsSecretContents(options, cwd),
    partition,
    roleSettings: { permissionsBoundary: options.permissionsBoundary, rolePath: options.rolePath },
  };
  return { input, warnings: installConfig?.warnings ?? [] };
}

function validateOptions(options: GenerateOptions, partition: string, schedule: string): void {
  // A password in the CAP URL would be written into the CronJob: refused first, as a
  // configuration error (exit 3, as refresh refuses it), and never quoted.
  if (options.capUrl !== undefined && hasUserinfo(options.capUrl)) {
    throw new ConfigError('--cap-url must not carry a user name or password (it would be written into the CronJob); CAP authenticates the client certificate');
  }
  if (options.httpsProxy !== undefined && hasUserinfo(options.httpsProxy)) {
    throw new ConfigError(
      '--https-proxy must not carry a user name or password (it would be written into the CronJob in plain text); give the proxy as http://HOST:PORT and let it admit the pod by address',
    );
  }
  const problems: string[] = [];
  const knownPartition = (PARTITIONS as readonly string[]).includes(partition);
  if (!knownPartition) problems.push(`--partition ${partition}: use one of ${PARTITIONS.join(', ')}`);
  if (options.permissionsBoundary !== undefined && knownPartition) {
    const problem = permissionsBoundaryProblem(options.permissionsBoundary, partition as Partition);
    if (problem) problems.push(problem);
  }
  if (options.rolePath !== undefined) {
    const problem = rolePathProblem(options.rolePath);
    if (problem) problems.push(problem);
  }
  if (!/^(@\w+|\S+( \S+){4})$/.test(schedule.trim()))
    problems.push(`--schedule ${JSON.stringify(schedule)}: give a cron schedule of five fields, e.g. "${DEFAULT_SCHEDULE}"`);
  if (options.renewBefore !== undefined && !((parseDuration(options.renewBefore) ?? 0) > 0))
    problems.push(`--renew-before ${JSON.stringify(options.renewBefore)}: give a duration such as ${DEFAULT_RENEW_BEFORE}`);
  if (options.capUrl !== undefined && !isHttpsUrl(options.capUrl)) problems.push(`--cap-url ${displayUrl(options.capUrl)}: give an https:// URL`);
  else if (options.capUrl !== undefined) {
    try {
      validateCapUrl(options.capUrl);
    } catch (err) {
      problems.push(`--cap-url: ${errorMessage(err)}`);
    }
  }
  if (options.httpsProxy !== undefined) {
    const problem = httpsProxyProblem(options.httpsProxy);
    if (problem) problems.push(problem);
  }
  if (options.noProxy !== undefined) {
    const parsed = parseNoProxy(options.noProxy);
    if ('problem' in parsed) problems.push(parsed.problem);
    if (options.httpsProxy === undefined) problems.push('--no-proxy goes with --https-proxy: without a proxy the pod reaches every host directly');
  }
  if (options.image !== undefined && !/^\S+$/.test(options.image)) problems.push(`--image ${JSON.stringify(options.image)}: give an image reference`);
  for (const [flag, value] of [
    ['--agency', options.agency],
    ['--mission', options.mission],
    ['--account', options.account],
    ['--cluster-name', options.clusterName],
  ] as const) {
    if (value !== undefined && value.trim() === '') problems.push(`${flag} is empty`);
  }
  if (options.roleMap !== undefined && options.roleTemplate !== undefined) problems.push('give --role-map or --role-template, not both');
  if (problems.length > 0) throw new UsageError(problems.join('; '));
}

/** HTTPS_PROXY and NO_PROXY of the CronJob, validated by validateOptions before. */
function proxyEnv(options: GenerateOptions): { proxy?: ProxyEnv } {
  if (options.httpsProxy === undefined) return {};
  const noProxy = options.noProxy === undefined ? undefined : parseNoProxy(options.noProxy);
  return { proxy: { httpsProxy: options.httpsProxy, ...(noProxy && 'value' in noProxy ? { noProxy: noProxy.value } : {}) } };
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

async function readCredentialsRequestSources(options: GenerateOptions, cwd: string): Promise<SourceText[]> {
  const given = options.credentialsRequests;
  if (given === '-') {
    if (options.stdinText === undefined) throw new ManifestsError('input-not-found', '--credentials-requests - reads standard input, but none was given');
    return [{ source: '<stdin>', text: options.stdinText }];
  }
  const path = resolve(cwd, given);
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw inputNotFound(err, `--credentials-requests ${given}`, path);
  });
  if (!info.isDirectory()) return [{ source: given, text: await readFile(path, 'utf8') }];
  const names = (await readdir(path)).filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('.')).sort();
  if (names.length === 0) {
    throw new ManifestsError(
      'input-not-found',
      `--credentials-requests ${given}: the folder has no .yaml or .yml files; give the folder \`oc adm release extract --credentials-requests --cloud=aws --to=DIR\` wrote`,
    );
  }
  return Promise.all(names.map(async (name) => ({ source: join(given, name), text: await readFile(join(path, name), 'utf8') })));
}

async function readRoleSource(options: GenerateOptions, cwd: string): Promise<RoleSource> {
  if (options.roleMap === undefined) {
    return { kind: 'template', template: options.roleTemplate ?? DEFAULT_ROLE_TEMPLATE, clusterName: options.clusterName ?? DEFAULT_CLUSTER_NAME };
  }
  const text = await readInputFile(`--role-map ${options.roleMap}`, resolve(cwd, options.roleMap));
  return { kind: 'map', source: options.roleMap, roles: parseRoleMap(options.roleMap, text) };
}

async function readCertsSecretContents(options: GenerateOptions, cwd: string): Promise<CertsSecretContents> {
  const readPem = async (flag: string, file: string | undefined, placeholder: string): Promise<string> => {
    if (file === undefined) return placeholder;
    const text = await readInputFile(`${flag} ${file}`, resolve(cwd, file));
    if (!text.includes('-----BEGIN ')) {
      throw new ManifestsError('invalid-pem', `${flag} ${file} is not PEM (no "-----BEGIN" line); give the PEM file (for a PKCS#12 bundle, convert it first)`);
    }
    return text;
  };
  return {
    cert: await readPem('--cert', options.cert, PLACEHOLDERS.cert),
    key: await readPem('--key', options.key, PLACEHOLDERS.key),
    ca: await readPem('--ca', options.ca, PLACEHOLDERS.ca),
  };
}

/** The capabilities of `--install-config FILE` (relative to `cwd`), for generate and preflight alike; nothing else of the file is read. */
export async function readInstallConfig(file: string, cwd: string): Promise<InstallConfigCapabilities> {
  return parseInstallConfigCapabilities(file, await readInputFile(`--install-config ${file}`, resolve(cwd, file)));
}

async function readInputFile(what: string, path: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw inputNotFound(err, what, path);
  });
}

function inputNotFound(err: NodeJS.ErrnoException, what: string, path: string): Error {
  if (err.code === 'ENOENT') return new ManifestsError('input-not-found', `${what}: no such file or folder (${path})`);
  if (err.code === 'EACCES') return new ManifestsError('input-not-found', `${what}: permission denied (${path})`);
  if (err.code === 'EISDIR') return new ManifestsError('input-not-found', `${what}: is a folder, not a file (${path})`);
  return new ManifestsError('input-not-found', `${what}: cannot be read (${err.code ?? 'error'}, ${path})`);
}

/** What a target holds now: its content, nothing (`{}`), or why it cannot be replaced by a file. */
async function readExisting(path: string): Promise<{ content: string } | { problem: string } | Record<string, never>> {
  try {
    return { content: await readFile(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    if (code === 'EISDIR') return { problem: 'is a folder' };
    if (code === 'ENOTDIR') return { problem: 'a part of its path is a file, not a folder' };
    if (code === 'EACCES') return { problem: 'permission denied' };
    return { problem: `cannot be read (${code ?? 'error'})` };
  }
}

async function findStaleManifests(outDir: string, planned: readonly PlannedFile[]): Promise<string[]> {
  const plannedNames = new Set(planned.filter((f) => f.area === 'manifests').map((f) => f.name));
  const names = await readdir(outDir);
  return names
    .filter((name) => /^cap-.*\.ya?ml$/.test(name) && !plannedNames.has(name))
    .sort()
    .map((name) => join(outDir, name));
}

/** The flags of `cap-token-refresh generate` as commander hands them over. */
export type GenerateFlags = Omit<GenerateOptions, 'stdinText' | 'featureGates' | 'noProxy'> & {
  featureGates?: string[] | string;
  /** `--no-proxy <hosts>`: commander reads a `--no-` flag as the negation of `proxy`, so it arrives as `proxy` (true when not given). */
  proxy?: string | boolean;
};

/** `cap-token-refresh generate`: runs generate from the CLI and prints what it did. */
export async function generateCommand(flags: GenerateFlags, ctx: CommandContext): Promise<number> {
  const { proxy, ...rest } = flags;
  const featureGates = [rest.featureGates ?? []].flat().flatMap((value) => value.split(','));
  const stdinText = rest.credentialsRequests === '-' ? (await ctx.readStdin()).toString('utf8') : undefined;
  const result = await generate(
    {
      ...rest,
      featureGates,
      ...(typeof proxy === 'string' ? { noProxy: proxy } : {}),
      ...(stdinText === undefined ? {} : { stdinText }),
    },
    ctx,
  );
  for (const warning of result.warnings) ctx.stderr(`warning: ${escapeControl(warning)}\n`);
  ctx.stdout(renderGenerateSummary(result, ctx.cwd));
  return 0;
}

/** What generate did, for a person: the Secrets and their roles, what was skipped and why, the files. */
export function renderGenerateSummary(result: GenerateResult, cwd: string): string {
  const show = (path: string) => relative(cwd, path) || '.';
  const lines = result.capabilities === undefined ? [] : [`Capabilities: ${result.capabilities}.`];
  lines.push(`${result.secrets.length} AWS CredentialsRequest(s) kept:`);
  for (const s of result.secrets) lines.push(`  ${s.namespace}/${s.name}  role ${s.role}  ${s.file}`);
  if (result.skipped.length > 0) {
    lines.push(`${result.skipped.length} document(s) skipped:`);
    for (const s of result.skipped) lines.push(`  ${s.name} (${s.source}): ${s.reason}`);
  }
  const count = (status: FileStatus) => result.files.filter((f) => f.status === status).length;
  lines.push(
    `Files in ${show(result.outDir)}/ and ${show(result.iamDir)}/: ${count('written')} written, ${count('overwritten')} overwritten, ${count('unchanged')} unchanged.`,
  );
  lines.push(`CronJob schedule: ${result.schedule}`);
  if (result.stale.length > 0) lines.push(`Not written by this run, left in place: ${result.stale.map(show).join(', ')}`);
  if (result.unusedRoleMapEntries.length > 0) lines.push(`Role map entries for no request: ${result.unusedRoleMapEntries.join(', ')}`);
  lines.push(
    `Next: fill in ${show(join(result.iamDir, 'trust-policy.json'))} and run ${show(join(result.iamDir, 'create-roles.sh'))}; then seed the Secrets (cap-token-refresh fill) and copy ${show(result.outDir)}/ into the installer's manifests folder.`,
  );
  return `${lines.map((l) => escapeControl(l)).join('\n')}\n`;
}
