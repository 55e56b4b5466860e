import { describe, expect, it } from 'vitest';
import { ManifestsError } from './errors.js';
import { assignRoles, parseRoleMap, renderRoleName, shortenRoleName } from './role-names.js';

describe('shortenRoleName', () => {
  it.each([
    ['a'.repeat(64), 'a'.repeat(64)],
    ['short-name', 'short-name'],
  ])('keeps a name of at most 64 characters: %s', (name, expected) => {
    expect(shortenRoleName(name)).toBe(expected);
  });

  it('cuts a longer name to 64 characters with a stable hash of the whole name', () => {
    const long = `${'x'.repeat(70)}-one`;
    const short = shortenRoleName(long);
    expect(short).toHaveLength(64);
    expect(short).toBe(`${'x'.repeat(55)}-${short.slice(-8)}`);
    expect(shortenRoleName(long)).toBe(short);
  });

  it('gives different names to long names that only differ after the cut', () => {
    const shared = 'c'.repeat(64);
    const names = ['-a', '-b', '-c', '-aa'].map((suffix) => shortenRoleName(shared + suffix));
    expect(new Set(names).size).toBe(4);
    expect(names.every((n) => n.length <= 64)).toBe(true);
  });

  it('does not leave a dash before the hash doubled', () => {
    const name = `${'d'.repeat(54)}-${'e'.repeat(20)}`;
    expect(shortenRoleName(name)).toMatch(/^d{54}-[0-9a-f]{8}$/);
  });
});

describe('renderRoleName', () => {
  const ref = { namespace: 'openshift-machine-api', name: 'aws-cloud-credentials' };
  it.each([
    ['{cluster}-{namespace}-{name}', 'prod', 'prod-openshift-machine-api-aws-cloud-credentials'],
    ['ocp_{name}', 'prod', 'ocp_aws-cloud-credentials'],
    ['{namespace}/{name}', 'prod', undefined],
    ['{cluster}-{name}', 'has space', undefined],
  ])('%s with cluster %s', (template, cluster, expected) => {
    if (expected === undefined) expect(() => renderRoleName(template, cluster, ref)).toThrow(ManifestsError);
    else expect(renderRoleName(template, cluster, ref)).toBe(expected);
  });
});

describe('parseRoleMap and assignRoles', () => {
  it('reads a YAML map with comments', () => {
    const roles = parseRoleMap('roles.yaml', '# roles\nns-a/secret.one: Role-A\nns-b/two: role_b@site\n');
    expect([...roles]).toEqual([
      ['ns-a/secret.one', 'Role-A'],
      ['ns-b/two', 'role_b@site'],
    ]);
  });

  it.each([
    ['- a\n- b\n', 'must be a YAML mapping'],
    ['a/b: [x\n', 'roles.yaml:2 is not valid YAML'],
    [`a/b: ${'r'.repeat(65)}\n`, 'at most 64 characters (this one has 65)'],
    ['a/b: 12\n', 'the role must be a string (got number)'],
    ['A/b: r\n', 'the key must be "namespace/name" of a Secret'],
  ])('refuses %j', (text, message) => {
    expect(() => parseRoleMap('roles.yaml', text)).toThrow(message);
  });

  it('refuses one role for two Secrets', () => {
    const roles = new Map([
      ['a/x', 'shared'],
      ['b/y', 'shared'],
    ]);
    expect(() =>
      assignRoles(
        [
          { namespace: 'a', name: 'x' },
          { namespace: 'b', name: 'y' },
        ],
        { kind: 'map', source: 'm', roles },
      ),
    ).toThrow('role shared is given to a/x and b/y');
  });

  it('refuses a template field it does not know', () => {
    expect(() => assignRoles([{ namespace: 'a', name: 'x' }], { kind: 'template', template: '{cluster}-{secret}', clusterName: 'c' })).toThrow(
      'uses {secret}; it may use {cluster}, {namespace} and {name}',
    );
  });
});
