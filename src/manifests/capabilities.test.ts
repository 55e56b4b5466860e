import { describe, expect, it } from 'vitest';
import { CAPABILITY_SETS, capabilityReasonToSkip, KNOWN_CAPABILITIES, parseInstallConfigCapabilities } from './capabilities.js';
import { ManifestsError } from './errors.js';

const stanza = (yaml: string) => parseInstallConfigCapabilities('install-config.yaml', `apiVersion: v1\nmetadata: {name: c}\n${yaml}`);
const enabledBy = (yaml: string) => {
  const { capabilities } = stanza(yaml);
  return capabilities.kind === 'every' ? 'every' : [...capabilities.enabled].sort();
};
const errorOf = (yaml: string): ManifestsError => {
  try {
    stanza(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestsError);
    return error as ManifestsError;
  }
  throw new Error('no error');
};

describe('the capability sets of openshift/api', () => {
  it('has every baseline value the API accepts, each set made of known capabilities, growing release by release', () => {
    expect(Object.keys(CAPABILITY_SETS)).toEqual(['None', 'v4.11', 'v4.12', 'v4.13', 'v4.14', 'v4.15', 'v4.16', 'v4.17', 'v4.18', 'vCurrent']);
    const fixed = Object.values(CAPABILITY_SETS).filter((set): set is readonly string[] => Array.isArray(set));
    for (const set of fixed) for (const name of set) expect(KNOWN_CAPABILITIES).toContain(name);
    for (const [earlier, later] of fixed.slice(0, -1).map((set, i) => [set, fixed[i + 1]!] as const)) for (const name of earlier) expect(later).toContain(name);
  });

  it.each([
    // The sets where capabilities the AWS requests name first appear (types_cluster_version.go).
    ['v4.11', ['MachineAPI'], ['Storage', 'ImageRegistry', 'CloudCredential', 'Ingress']],
    ['v4.12', ['MachineAPI', 'Storage'], ['ImageRegistry', 'CloudCredential', 'Ingress']],
    ['v4.14', ['MachineAPI', 'Storage', 'ImageRegistry'], ['CloudCredential', 'Ingress']],
    ['v4.15', ['ImageRegistry', 'CloudCredential'], ['Ingress', 'CloudControllerManager']],
    ['v4.16', ['CloudCredential', 'Ingress', 'CloudControllerManager'], ['OperatorLifecycleManagerV1', 'ClusterAPI']],
    ['v4.18', ['OperatorLifecycleManagerV1'], ['ClusterAPI', 'CompatibilityRequirements']],
  ])('%s enables %j and not %j', (baseline, inside, outside) => {
    const enabled = enabledBy(`capabilities: {baselineCapabilitySet: ${baseline}}`);
    for (const name of inside) expect(enabled).toContain(name);
    for (const name of outside) expect(enabled).not.toContain(name);
  });
});

describe('parseInstallConfigCapabilities', () => {
  it('reads no capabilities stanza, an empty one, and baseline vCurrent as every capability', () => {
    expect(enabledBy('')).toBe('every');
    expect(enabledBy('capabilities: {}')).toBe('every');
    expect(enabledBy('capabilities: {additionalEnabledCapabilities: [Console]}')).toBe('every');
    expect(enabledBy('capabilities: {baselineCapabilitySet: vCurrent}')).toBe('every');
  });

  it('adds additionalEnabledCapabilities to the baseline', () => {
    expect(enabledBy('capabilities: {baselineCapabilitySet: None, additionalEnabledCapabilities: [CloudCredential, Ingress]}')).toEqual([
      'CloudCredential',
      'Ingress',
    ]);
  });

  it('refuses an unknown baseline as a configuration error listing the known ones', () => {
    const error = errorOf('capabilities: {baselineCapabilitySet: v4.41}');
    expect(error.code).toBe('invalid-install-config');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      '--install-config install-config.yaml: capabilities.baselineCapabilitySet "v4.41" is not a capability set; use one of None, v4.11, v4.12, v4.13, v4.14, v4.15, v4.16, v4.17, v4.18, vCurrent',
    );
  });

  it('refuses a stanza of the wrong shape, and a file that is not YAML, without quoting the file', () => {
    expect(errorOf('capabilities: {additionalEnabledCapabilities: Console}').message).toContain('capabilities.additionalEnabledCapabilities:');
    const secret = 'ZmFrZTpzZWNyZXQ=';
    const broken = errorOf(`pullSecret: '{"auths":{"x":{"auth":"${secret}"}}}'\ncapabilities: [\n`);
    expect(broken.message).toMatch(/^--install-config install-config\.yaml is not valid YAML \([A-Z_]+ at line \d+\); fix the file$/);
    expect(broken.message).not.toContain(secret);
    // The library's own first line names an unresolved alias, and an alias can be anything in the file.
    const alias = errorOf(`pullSecret: *${secret.replace('=', '')}\n`);
    expect(alias.message).toMatch(/is not valid YAML \(/);
    expect(alias.message).not.toContain(secret.replace('=', ''));
  });

  it('warns about an additional capability it does not know, and counts it as enabled', () => {
    const { capabilities, warnings } = stanza('capabilities: {baselineCapabilitySet: None, additionalEnabledCapabilities: [CloudCredentials]}');
    expect(capabilities.kind === 'listed' && capabilities.enabled.has('CloudCredentials')).toBe(true);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^--install-config install-config\.yaml: additionalEnabledCapabilities names "CloudCredentials", which is not a capability this tool knows \(baremetal, /,
      ),
    ]);
  });
});

describe('capabilityReasonToSkip', () => {
  const v412 = stanza(
    'capabilities: {baselineCapabilitySet: v4.12, additionalEnabledCapabilities: [CloudCredential, CloudControllerManager, Ingress]}',
  ).capabilities;

  it('keeps a request whose capabilities are all enabled, or that names none, or when every capability is on', () => {
    expect(capabilityReasonToSkip('MachineAPI+CloudCredential', v412)).toBeUndefined();
    expect(capabilityReasonToSkip(undefined, v412)).toBeUndefined();
    expect(capabilityReasonToSkip('', v412)).toBeUndefined();
    expect(capabilityReasonToSkip('ImageRegistry+CloudCredential', stanza('').capabilities)).toBeUndefined();
    expect(capabilityReasonToSkip('ImageRegistry+CloudCredential', undefined)).toBeUndefined();
  });

  it('says which capability is missing, where it comes from, and how to keep the request', () => {
    expect(capabilityReasonToSkip('ImageRegistry+CloudCredential', v412)).toBe(
      'needs capability ImageRegistry+CloudCredential, and ImageRegistry is not enabled by install-config.yaml ' +
        '(baselineCapabilitySet v4.12 + CloudCredential, CloudControllerManager, Ingress); to keep it, add ImageRegistry to capabilities.additionalEnabledCapabilities',
    );
  });

  it('names the installer rule when CloudCredential is off', () => {
    const none = stanza('capabilities: {baselineCapabilitySet: None}').capabilities;
    expect(capabilityReasonToSkip('Storage+CloudCredential', none)).toBe(
      'needs capability Storage+CloudCredential, and Storage, CloudCredential are not enabled by install-config.yaml (baselineCapabilitySet None); ' +
        'openshift-install refuses to disable CloudCredential on AWS; to keep it, add Storage, CloudCredential to capabilities.additionalEnabledCapabilities',
    );
  });
});
