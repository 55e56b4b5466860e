import { describe, expect, it } from 'vitest';
import {
  credentialsRequestsReaderRole,
  credentialsRequestsReaderRoleBinding,
  operatorSecretObject,
  secretsWriterRole,
  secretsWriterRoleBinding,
} from './kubernetes-objects.js';
import { checkRbacCoverage } from './rbac-coverage.js';

const secret = (namespace: string, name: string) => operatorSecretObject({ namespace, name }, 'role');
const good = () => [
  secret('ns-a', 'one'),
  secret('ns-a', 'two'),
  secretsWriterRole('ns-a', ['two', 'one']),
  secretsWriterRoleBinding('ns-a'),
  credentialsRequestsReaderRole(),
  credentialsRequestsReaderRoleBinding(),
];

describe('checkRbacCoverage', () => {
  it('accepts exactly the managed Secrets', () => {
    expect(checkRbacCoverage(good())).toEqual([]);
  });

  it.each([
    ['a Secret not granted', (o: any[]) => [...o, secret('ns-a', 'three')], 'namespace ns-a: Secrets granted [one, two] but managed [one, three, two]'],
    ['a namespace without Role', (o: any[]) => [...o, secret('ns-b', 'x')], 'namespace ns-b: Secrets granted [] but managed [x]'],
    [
      'an extra verb',
      (o: any[]) => {
        o[2].rules[0].verbs.push('delete');
        return o;
      },
      'Role ns-a/cap-token-refresh: verbs [delete] on secrets are more than needed',
    ],
    [
      'patch on Secrets (the tool never sends PATCH)',
      (o: any[]) => {
        o[2].rules[0].verbs.push('patch');
        return o;
      },
      'Role ns-a/cap-token-refresh: verbs [patch] on secrets are more than needed',
    ],
    [
      'events.k8s.io Events (the tool writes core/v1 Events only)',
      (o: any[]) => {
        o[2].rules[1].apiGroups.push('events.k8s.io');
        o[2].rules[1].verbs.push('patch');
        return o;
      },
      [
        'Role ns-a/cap-token-refresh: verbs [patch] on events are more than needed',
        'Role ns-a/cap-token-refresh: API groups [events.k8s.io] for events are not needed',
      ],
    ],
    [
      'secrets by every name',
      (o: any[]) => {
        delete o[2].rules[0].resourceNames;
        return o;
      },
      ['Role ns-a/cap-token-refresh: secrets without resourceNames reaches every Secret in ns-a', 'namespace ns-a: Secrets granted [] but managed [one, two]'],
    ],
    [
      'another resource',
      (o: any[]) => {
        o[2].rules.push({ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] });
        return o;
      },
      "Role ns-a/cap-token-refresh: resources [configmaps] are not the job's to touch",
    ],
    ['a ClusterRole', (o: any[]) => [...o, { kind: 'ClusterRole', metadata: { name: 'x' }, rules: [] }], 'ClusterRole x: no cluster-wide RBAC is allowed'],
    [
      'an unbound Role',
      (o: any[]) => o.filter((x) => !(x.kind === 'RoleBinding' && x.metadata.namespace === 'ns-a')),
      'Role ns-a/cap-token-refresh is bound by no RoleBinding',
    ],
    [
      'another subject',
      (o: any[]) => {
        o[3].subjects.push({ kind: 'Group', name: 'system:authenticated' });
        return o;
      },
      'RoleBinding ns-a/cap-token-refresh: must bind only ServiceAccount cap-token-refresh/cap-token-refresh',
    ],
  ])('finds %s', (_, change, problem) => {
    expect(checkRbacCoverage(change(good()))).toEqual([problem].flat());
  });
});
