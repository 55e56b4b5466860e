import { describe, expect, it } from 'vitest';
import type { AwsCredentialsRequest } from './credentials-requests.js';
import { selectCredentialsRequests, type ClusterFeatures } from './select-credentials-requests.js';

function request(annotations: Record<string, string>): AwsCredentialsRequest {
  return {
    source: 'test.yaml',
    name: 'r',
    annotations,
    secretRef: { namespace: 'ns', name: 's' },
    statementEntries: [{ effect: 'Allow', action: ['s3:GetObject'], resource: '*' }],
  };
}

const off: ClusterFeatures = { includeTechPreview: false, featureGates: [] };
const preview: ClusterFeatures = { includeTechPreview: true, featureGates: [] };
const gates = (...featureGates: string[]): ClusterFeatures => ({ includeTechPreview: false, featureGates });

describe('selectCredentialsRequests', () => {
  it.each([
    ['no release annotations', {}, off, true],
    ['delete "true"', { 'release.openshift.io/delete': 'true' }, preview, false],
    ['delete "false"', { 'release.openshift.io/delete': 'false' }, off, true],
    ['TechPreviewNoUpgrade, default cluster', { 'release.openshift.io/feature-set': 'TechPreviewNoUpgrade' }, off, false],
    ['TechPreviewNoUpgrade, tech preview', { 'release.openshift.io/feature-set': 'TechPreviewNoUpgrade' }, preview, true],
    ['CustomNoUpgrade,TechPreviewNoUpgrade, tech preview', { 'release.openshift.io/feature-set': 'CustomNoUpgrade,TechPreviewNoUpgrade' }, preview, true],
    ['CustomNoUpgrade only, tech preview', { 'release.openshift.io/feature-set': 'CustomNoUpgrade' }, preview, false],
    ['Default,TechPreviewNoUpgrade, default cluster', { 'release.openshift.io/feature-set': 'Default,TechPreviewNoUpgrade' }, off, true],
    ['gate A,B with none', { 'release.openshift.io/feature-gate': 'A,B' }, off, false],
    ['gate A,B with A', { 'release.openshift.io/feature-gate': 'A,B' }, gates('A'), false],
    ['gate A,B with A and B', { 'release.openshift.io/feature-gate': 'A,B' }, gates('B', 'A'), true],
    ['gate -A with none', { 'release.openshift.io/feature-gate': '-A' }, off, true],
    ['gate -A with A', { 'release.openshift.io/feature-gate': '-A' }, gates('A'), false],
    ['tech preview does not open gates', { 'release.openshift.io/feature-gate': 'A' }, preview, false],
  ] as const)('%s', (_, annotations, features, kept) => {
    const selected = selectCredentialsRequests([request(annotations)], features);
    expect(selected.kept.length).toBe(kept ? 1 : 0);
    expect(selected.skipped.length).toBe(kept ? 0 : 1);
  });

  it('says why it skipped', () => {
    const { skipped } = selectCredentialsRequests(
      [request({ 'release.openshift.io/delete': 'true' }), request({ 'release.openshift.io/feature-gate': 'A,B' })],
      gates('A'),
    );
    expect(skipped.map((s) => s.reason)).toEqual([
      'annotated release.openshift.io/delete: "true" (the release removes it)',
      'behind feature gate A,B (not met: B); include it with --feature-gates A,B',
    ]);
  });
});
