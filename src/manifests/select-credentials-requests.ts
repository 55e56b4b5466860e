import { ANNOTATION_CAPABILITY, capabilityReasonToSkip, type ClusterCapabilities } from './capabilities.js';
import type { AwsCredentialsRequest } from './credentials-requests.js';
import { ManifestsError } from './errors.js';

export const ANNOTATION_RELEASE_DELETE = 'release.openshift.io/delete';
export const ANNOTATION_FEATURE_SET = 'release.openshift.io/feature-set';
export const ANNOTATION_FEATURE_GATE = 'release.openshift.io/feature-gate';
const TECH_PREVIEW_FEATURE_SET = 'TechPreviewNoUpgrade';
const DEFAULT_FEATURE_SET = 'Default';

/** What the cluster will run: the feature set, the feature gates that are on, and its capabilities (every one when undefined). */
export interface ClusterFeatures {
  includeTechPreview: boolean;
  featureGates: readonly string[];
  capabilities?: ClusterCapabilities | undefined;
}

export interface SkippedRequest {
  source: string;
  name: string;
  reason: string;
}

export interface SelectedRequests {
  kept: AwsCredentialsRequest[];
  skipped: SkippedRequest[];
}

/**
 * Keeps the AWS CredentialsRequests the release applies to a cluster with these features,
 * as the cluster-version operator decides it: not deleted, in the cluster's feature set,
 * with every named feature gate on (a gate written `-Name` must be off), and with every
 * capability of its `capability.openshift.io/name` enabled.
 * Throws when two kept requests name the same Secret.
 */
export function selectCredentialsRequests(requests: readonly AwsCredentialsRequest[], features: ClusterFeatures): SelectedRequests {
  const kept: AwsCredentialsRequest[] = [];
  const skipped: SkippedRequest[] = [];
  for (const request of requests) {
    const reason = reasonToSkip(request.annotations, features);
    if (reason) skipped.push({ source: request.source, name: request.name, reason });
    else kept.push(request);
  }
  assertOneRequestPerSecret(kept);
  return { kept, skipped };
}

function reasonToSkip(annotations: Record<string, string>, features: ClusterFeatures): string | undefined {
  if (annotations[ANNOTATION_RELEASE_DELETE] === 'true') {
    return `annotated ${ANNOTATION_RELEASE_DELETE}: "true" (the release removes it)`;
  }
  const featureSet = annotations[ANNOTATION_FEATURE_SET];
  if (featureSet !== undefined && !isInClusterFeatureSet(featureSet, features)) {
    const hint = splitList(featureSet).includes(TECH_PREVIEW_FEATURE_SET) ? '; include it with --include-tech-preview' : '';
    return `only in feature set ${featureSet}${hint}`;
  }
  const gates = annotations[ANNOTATION_FEATURE_GATE];
  if (gates !== undefined) {
    const unmet = unmetFeatureGates(gates, features.featureGates);
    if (unmet.length > 0) {
      return `behind feature gate ${gates} (not met: ${unmet.join(', ')}); include it with --feature-gates ${gates}`;
    }
  }
  return capabilityReasonToSkip(annotations[ANNOTATION_CAPABILITY], features.capabilities);
}

function isInClusterFeatureSet(annotation: string, features: ClusterFeatures): boolean {
  const sets = splitList(annotation).map((set) => (set === '' ? DEFAULT_FEATURE_SET : set));
  if (sets.includes(DEFAULT_FEATURE_SET)) return true;
  return features.includeTechPreview && sets.includes(TECH_PREVIEW_FEATURE_SET);
}

function unmetFeatureGates(annotation: string, enabled: readonly string[]): string[] {
  return splitList(annotation)
    .filter((gate) => gate !== '')
    .filter((gate) => (gate.startsWith('-') ? enabled.includes(gate.slice(1)) : !enabled.includes(gate)));
}

function splitList(value: string): string[] {
  return value.split(',').map((item) => item.trim());
}

function assertOneRequestPerSecret(kept: readonly AwsCredentialsRequest[]): void {
  const bySecret = new Map<string, AwsCredentialsRequest[]>();
  for (const request of kept) {
    const key = `${request.secretRef.namespace}/${request.secretRef.name}`;
    bySecret.set(key, [...(bySecret.get(key) ?? []), request]);
  }
  const problems = [...bySecret]
    .filter(([, requests]) => requests.length > 1)
    .map(([secret, requests]) => `${secret} is named by ${requests.map((r) => `${r.name} (${r.source})`).join(' and ')}`);
  if (problems.length > 0) {
    throw new ManifestsError('duplicate-secret', 'Two CredentialsRequests name the same Secret; give only one version of each request:', problems);
  }
}
