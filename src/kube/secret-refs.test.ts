import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { parseTargetFlags, secretRefsFromCredentialsRequests } from './secret-refs.js';

const request = (name: string, kind: string, secretRef: unknown, annotations: Record<string, string> = {}) => ({
  apiVersion: 'cloudcredential.openshift.io/v1',
  kind: 'CredentialsRequest',
  metadata: { name, namespace: 'openshift-cloud-credential-operator', annotations },
  spec: { secretRef, providerSpec: { kind } },
});

describe('parseTargetFlags', () => {
  it.each([
    [['openshift-machine-api/aws-cloud-credentials'], [{ namespace: 'openshift-machine-api', name: 'aws-cloud-credentials' }]],
    [
      ['a/b.c', 'a/b.c', 'x/y'],
      [
        { namespace: 'a', name: 'b.c' },
        { namespace: 'x', name: 'y' },
      ],
    ],
  ])('%j', (flags, refs) => {
    expect(parseTargetFlags(flags)).toEqual(refs);
  });

  it.each([['no-slash'], ['a/b/c'], ['/name'], ['ns/'], ['Upper/name'], ['ns/under_score'], ['dotted.ns/name']])('refuses %s', (flag) => {
    expect(() => parseTargetFlags([flag])).toThrow(UsageError);
    expect(() => parseTargetFlags([flag])).toThrow(`--target ${JSON.stringify(flag)} is not NAMESPACE/NAME`);
  });
});

describe('secretRefsFromCredentialsRequests', () => {
  it('keeps AWS requests not being deleted, one ref per Secret, sorted; says why the others were left out', () => {
    const { refs, ignored } = secretRefsFromCredentialsRequests([
      request('zeta', 'AWSProviderSpec', { namespace: 'ns-b', name: 'creds' }),
      request('alpha', 'AWSProviderSpec', { namespace: 'ns-a', name: 'creds' }),
      request('alpha-again', 'AWSProviderSpec', { namespace: 'ns-a', name: 'creds' }),
      request('gcp', 'GCPProviderSpec', { namespace: 'ns-a', name: 'gcp-creds' }),
      request('old', 'AWSProviderSpec', { namespace: 'ns-old', name: 'creds' }, { 'release.openshift.io/delete': 'true' }),
      request('kept', 'AWSProviderSpec', { namespace: 'ns-c', name: 'creds' }, { 'release.openshift.io/delete': 'false' }),
      request('no-ref', 'AWSProviderSpec', undefined),
      { kind: 'CredentialsRequest', metadata: { name: 'no-spec' } },
      'not an object',
    ]);
    expect(refs).toEqual([
      { namespace: 'ns-a', name: 'creds' },
      { namespace: 'ns-b', name: 'creds' },
      { namespace: 'ns-c', name: 'creds' },
    ]);
    expect(ignored).toEqual([
      { name: 'gcp', reason: 'not for AWS (providerSpec.kind GCPProviderSpec)' },
      { name: 'old', reason: 'annotated release.openshift.io/delete: "true"' },
      { name: 'no-ref', reason: 'it has no spec.secretRef' },
      { name: 'no-spec', reason: 'not for AWS (providerSpec.kind missing)' },
      { name: '(unnamed)', reason: 'not for AWS (providerSpec.kind missing)' },
    ]);
  });

  it('turns a secretRef that is not a valid namespace/name into a problem, not a request', () => {
    const { refs } = secretRefsFromCredentialsRequests([request('efs', 'AWSProviderSpec', { namespace: '${NAMESPACE}', name: 'aws-efs-cloud-credentials' })]);
    expect(refs).toEqual([
      {
        namespace: '${NAMESPACE}',
        name: 'aws-efs-cloud-credentials',
        problem:
          'the CredentialsRequest efs names the Secret "${NAMESPACE}/aws-efs-cloud-credentials" in spec.secretRef, which is not a valid namespace/name; fix the CredentialsRequest or name the Secret with --target NAMESPACE/NAME',
      },
    ]);
  });
});
