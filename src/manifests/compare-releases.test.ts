import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareReleases, diffPermissions, needsPolicyUpdate } from './compare-releases.js';
import { type AwsCredentialsRequest, parseCredentialsRequests, type StatementEntry } from './credentials-requests.js';

import { FIXTURES as FIXTURE_ROOT } from '../../test/support/run-cli.js';
const FIXTURES = join(FIXTURE_ROOT, 'credentials-requests');
const release = (file: string): AwsCredentialsRequest[] => parseCredentialsRequests([{ source: file, text: readFileSync(join(FIXTURES, file), 'utf8') }]).aws;

const allow = (action: string[], resource: string | string[] = '*', policyCondition?: StatementEntry['policyCondition']): StatementEntry => ({
  effect: 'Allow',
  action,
  resource,
  ...(policyCondition ? { policyCondition } : {}),
});

describe('diffPermissions', () => {
  it.each([
    ['same grants in another order and split', [allow(['a:X', 'a:Y'])], [allow(['a:Y']), allow(['a:X'])], [], [], []],
    ['an added action', [allow(['a:X'])], [allow(['a:X', 'a:Y'])], ['a:Y'], [], []],
    ['a removed action', [allow(['a:X', 'a:Y'])], [allow(['a:X'])], [], ['a:Y'], []],
    [
      'a resource narrowed is a new grant and a removed one',
      [allow(['s3:Get'])],
      [allow(['s3:Get'], 'arn:aws:s3:::b')],
      ['s3:Get on arn:aws:s3:::b'],
      ['s3:Get'],
      [],
    ],
    ['resources as a set', [allow(['a:X'], ['r2', 'r1'])], [allow(['a:X'], ['r1', 'r2'])], [], [], []],
    [
      'a changed condition',
      [allow(['kms:Decrypt'], '*', { Bool: { 'kms:GrantIsForAWSResource': true } })],
      [allow(['kms:Decrypt'], '*', { Bool: { 'kms:GrantIsForAWSResource': false } })],
      [],
      [],
      ['kms:Decrypt'],
    ],
    [
      'condition keys in another order are the same condition',
      [allow(['a:X'], '*', { StringEquals: { k1: 'v', k2: 'w' } })],
      [allow(['a:X'], '*', { StringEquals: { k2: 'w', k1: 'v' } })],
      [],
      [],
      [],
    ],
    [
      'a Deny that goes away grants more',
      [allow(['a:X']), { effect: 'Deny' as const, action: ['a:X'], resource: 'r' }],
      [allow(['a:X'])],
      ['Deny a:X on r'],
      [],
      [],
    ],
  ])('%s', (_name, before, after, added, removed, conditionChanged) => {
    expect(diffPermissions(before, after)).toEqual({ added, removed, conditionChanged });
  });

  it('needs a policy update for added grants and changed conditions only', () => {
    expect(needsPolicyUpdate({ added: [], removed: ['a:X'], conditionChanged: [] })).toBe(false);
    expect(needsPolicyUpdate({ added: ['a:X'], removed: [], conditionChanged: [] })).toBe(true);
    expect(needsPolicyUpdate({ added: [], removed: [], conditionChanged: ['a:X'] })).toBe(true);
  });
});

describe('compareReleases on real release pairs', () => {
  it('machine-api-operator 4.8 to 4.12 adds four EC2/ELB actions', () => {
    const { requests, stale } = compareReleases(release('machine-api-operator.release-4.8.yaml'), release('machine-api-operator.release-4.12.yaml'));
    expect(requests.map((r) => [r.request.secretRef.name, r.change])).toEqual([['aws-cloud-credentials', 'changed']]);
    expect(requests[0]?.diff).toEqual({
      added: ['ec2:DescribeInstanceTypes', 'ec2:DescribeInternetGateways', 'ec2:DescribeRegions', 'elasticloadbalancing:DescribeTargetHealth'],
      removed: [],
      conditionChanged: [],
    });
    expect(stale).toEqual([]);
  });

  it('machine-api-operator 4.12 to main adds host and KMS actions', () => {
    const { requests } = compareReleases(release('machine-api-operator.release-4.12.yaml'), release('machine-api-operator.yaml'));
    expect(requests[0]?.diff.added).toEqual(['ec2:AllocateHosts', 'ec2:ReleaseHosts', 'kms:ReEncrypt*']);
    expect(requests[0]?.diff.removed).toEqual([]);
  });

  it('aws-ebs-csi-driver-operator 4.10 to main', () => {
    const { requests } = compareReleases(release('aws-ebs-csi-driver-operator.release-4.10.yaml'), release('aws-ebs-csi-driver-operator.yaml'));
    expect(requests).toHaveLength(1);
    expect(requests[0]?.change).toBe('changed');
    expect(requests[0]?.diff.added).toEqual(expect.arrayContaining(['ec2:CopyVolumes', 'ec2:LockSnapshot', 'kms:ReEncrypt*']));
    expect(requests[0]?.diff.removed).toEqual([]);
  });

  it('cluster-api 4.16 to main: actions added and removed', () => {
    const { requests } = compareReleases(release('cluster-api.release-4.16.yaml'), release('cluster-api.yaml'));
    expect(requests[0]?.change).toBe('changed');
    expect(requests[0]?.diff.added).toEqual(expect.arrayContaining(['ec2:AllocateHosts', 'ec2:ReleaseHosts']));
    expect(requests[0]?.diff.removed).toEqual(expect.arrayContaining(['iam:CreateServiceLinkedRole']));
  });

  it('a release against itself is unchanged; a request added or dropped is new or stale', () => {
    const mao = release('machine-api-operator.yaml');
    const ingress = release('ingress.yaml');
    expect(compareReleases(mao, mao).requests.map((r) => r.change)).toEqual(['unchanged']);
    const { requests, stale } = compareReleases(mao, ingress);
    expect(requests.map((r) => r.change)).toEqual(['new']);
    expect(requests[0]?.diff.added.length).toBeGreaterThan(0);
    expect(stale.map((r) => r.secretRef.name)).toEqual(['aws-cloud-credentials']);
  });
});
