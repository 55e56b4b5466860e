import { parse } from 'yaml';
import { z } from 'zod';
import { escapeControl } from '../core/display-text.js';
import { ManifestsError } from './errors.js';

/**
 * Cluster capabilities, as data. Copied from openshift/api config/v1/types_cluster_version.go
 * (KnownClusterVersionCapabilities and ClusterVersionCapabilitySets, commit 2a3d739 of
 * 2026-08-22). A fixed set (v4.11 ... v4.18) never changes once released; vCurrent grows
 * with each release, so it is read as "every capability", including ones newer than this
 * table, as a cluster of the release being installed enables them.
 */
export const KNOWN_CAPABILITIES = [
  'baremetal',
  'Console',
  'Insights',
  'marketplace',
  'Storage',
  'openshift-samples',
  'CSISnapshot',
  'NodeTuning',
  'MachineAPI',
  'Build',
  'DeploymentConfig',
  'ImageRegistry',
  'OperatorLifecycleManager',
  'OperatorLifecycleManagerV1',
  'CloudCredential',
  'Ingress',
  'CloudControllerManager',
  'CompatibilityRequirements',
  'ClusterAPI',
] as const;

const V4_11 = ['baremetal', 'marketplace', 'openshift-samples', 'MachineAPI'];
const V4_12 = ['baremetal', 'Console', 'Insights', 'marketplace', 'Storage', 'openshift-samples', 'CSISnapshot', 'MachineAPI'];
const V4_13 = [...V4_12, 'NodeTuning'];
const V4_14 = [...V4_13, 'Build', 'DeploymentConfig', 'ImageRegistry'];
const V4_15 = [...V4_14, 'OperatorLifecycleManager', 'CloudCredential'];
const V4_16 = [...V4_15, 'Ingress', 'CloudControllerManager'];
const V4_18 = [...V4_16, 'OperatorLifecycleManagerV1'];

/** baselineCapabilitySet values and what each enables; vCurrent is every capability. */
export const CAPABILITY_SETS: Readonly<Record<string, readonly string[] | 'every capability'>> = {
  None: [],
  'v4.11': V4_11,
  'v4.12': V4_12,
  'v4.13': V4_13,
  'v4.14': V4_14,
  'v4.15': V4_15,
  'v4.16': V4_16,
  'v4.17': V4_16,
  'v4.18': V4_18,
  vCurrent: 'every capability',
};

/** The annotation of a release manifest: the capabilities it belongs to, joined with `+`; all must be enabled. */
export const ANNOTATION_CAPABILITY = 'capability.openshift.io/name';

/** What the cluster will enable, from an install-config (or every capability without one). */
export type ClusterCapabilities =
  | { kind: 'every'; source: string }
  | { kind: 'listed'; source: string; baseline: string; additional: readonly string[]; enabled: ReadonlySet<string> };

export interface InstallConfigCapabilities {
  capabilities: ClusterCapabilities;
  /** What the administrator should look at; nothing was refused for it. */
  warnings: string[];
}

const capabilitiesSchema = z
  .object({
    baselineCapabilitySet: z.string().optional(),
    additionalEnabledCapabilities: z.array(z.string()).nullish(),
  })
  .nullish();

/**
 * The capabilities an install-config.yaml enables, as openshift-install reads them
 * (pkg/types/installconfig.go `Capabilities`): `capabilities.baselineCapabilitySet` (vCurrent
 * when absent, as with no `capabilities` at all) plus `additionalEnabledCapabilities`.
 * Only that stanza is read; nothing else of the file (it holds the pull secret) is ever quoted.
 */
export function parseInstallConfigCapabilities(source: string, text: string): InstallConfigCapabilities {
  let document: unknown;
  try {
    // logLevel error: the library's warnings (an unknown tag, say) would name parts of the file on the process's stderr.
    document = parse(text, { prettyErrors: false, logLevel: 'error' });
  } catch (error) {
    // The error's code and line only: its message can quote the file (an alias, a token), and the file holds the pull secret.
    const { code, pos } = error as { code?: string; pos?: [number, number] };
    const where = pos ? ` at line ${text.slice(0, pos[0]).split('\n').length}` : '';
    throw new ManifestsError('invalid-install-config', `--install-config ${source} is not valid YAML (${code ?? 'parse error'}${where}); fix the file`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ManifestsError(
      'invalid-install-config',
      `--install-config ${source} is not an install-config (a YAML mapping with apiVersion: v1); give the install-config.yaml of the cluster`,
    );
  }
  const parsed = capabilitiesSchema.safeParse((document as Record<string, unknown>).capabilities);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `capabilities.${issue.path.join('.')}: ${issue.message}`);
    throw new ManifestsError('invalid-install-config', `--install-config ${source}: the capabilities stanza is not valid:`, problems);
  }
  const stanza = parsed.data;
  const baseline = stanza?.baselineCapabilitySet ?? 'vCurrent';
  const additional = [...(stanza?.additionalEnabledCapabilities ?? [])];
  const set = CAPABILITY_SETS[baseline];
  if (set === undefined) {
    throw new ManifestsError(
      'invalid-install-config',
      `--install-config ${source}: capabilities.baselineCapabilitySet ${JSON.stringify(escapeControl(baseline.slice(0, 64)))} is not a capability set; use one of ${Object.keys(CAPABILITY_SETS).join(', ')}`,
    );
  }
  const known = new Set<string>(KNOWN_CAPABILITIES);
  const warnings = additional
    .filter((name) => !known.has(name))
    .map(
      (name) =>
        `--install-config ${source}: additionalEnabledCapabilities names ${JSON.stringify(escapeControl(name.slice(0, 64)))}, which is not a capability this tool knows (${KNOWN_CAPABILITIES.join(', ')}); check its spelling (it is counted as enabled)`,
    );
  if (set === 'every capability') return { capabilities: { kind: 'every', source }, warnings };
  return { capabilities: { kind: 'listed', source, baseline, additional, enabled: new Set([...set, ...additional]) }, warnings };
}

/**
 * Why a manifest with this `capability.openshift.io/name` annotation is left out of a cluster
 * with these capabilities, or undefined when every capability it names is enabled (as the
 * cluster-version operator decides: the names joined with `+`, all needed).
 */
export function capabilityReasonToSkip(annotation: string | undefined, capabilities: ClusterCapabilities | undefined): string | undefined {
  if (annotation === undefined || annotation === '' || capabilities === undefined || capabilities.kind === 'every') return undefined;
  const disabled = annotation.split('+').filter((name) => !capabilities.enabled.has(name));
  if (disabled.length === 0) return undefined;
  const by = `baselineCapabilitySet ${capabilities.baseline}${capabilities.additional.length > 0 ? ` + ${capabilities.additional.join(', ')}` : ''}`;
  const installer = disabled.includes('CloudCredential') ? '; openshift-install refuses to disable CloudCredential on AWS' : '';
  return (
    `needs capability ${annotation}, and ${disabled.join(', ')} ${disabled.length === 1 ? 'is' : 'are'} not enabled by ${capabilities.source} (${by})${installer}; ` +
    `to keep it, add ${disabled.join(', ')} to capabilities.additionalEnabledCapabilities`
  );
}

/** One line for a person: which capabilities the install-config enables. */
export function describeCapabilities(capabilities: ClusterCapabilities): string {
  if (capabilities.kind === 'every') return `${capabilities.source} enables every capability (baselineCapabilitySet vCurrent)`;
  const extra = capabilities.additional.length > 0 ? ` + ${capabilities.additional.join(', ')}` : '';
  return `${capabilities.source} enables baselineCapabilitySet ${capabilities.baseline}${extra}: ${[...capabilities.enabled].sort().join(', ') || 'none'}`;
}
