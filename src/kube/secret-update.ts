import type { V1Secret } from '@kubernetes/client-node';
import { buildSecretStringData, type CapCredentials } from '../core/credentials.js';
import { ANNOTATION_AGENCY, ANNOTATION_EXPIRATION, ANNOTATION_MISSION, ANNOTATION_REFRESHED_AT, ANNOTATION_ROLE, LABEL_MANAGED } from '../core/names.js';
import { formatRfc3339 } from '../core/policy.js';

/** What the refresh needs to know of a Secret it read. */
export interface SecretState {
  role?: string;
  agency?: string;
  mission?: string;
  expiration?: string;
  refreshedAt?: string;
}

export function readSecretState(secret: V1Secret): SecretState {
  const a = secret.metadata?.annotations ?? {};
  const pick = (key: string) => (typeof a[key] === 'string' ? a[key] : undefined);
  const state: SecretState = {};
  const role = pick(ANNOTATION_ROLE)?.trim();
  if (role !== undefined) state.role = role;
  const agency = pick(ANNOTATION_AGENCY)?.trim();
  if (agency) state.agency = agency;
  const mission = pick(ANNOTATION_MISSION)?.trim();
  if (mission) state.mission = mission;
  const expiration = pick(ANNOTATION_EXPIRATION);
  if (expiration) state.expiration = expiration;
  const refreshedAt = pick(ANNOTATION_REFRESHED_AT);
  if (refreshedAt) state.refreshedAt = refreshedAt;
  return state;
}

/**
 * The Secret as it is to be written: the three credential keys (base64 in `data`; the same keys
 * dropped from `stringData`, which would otherwise win), the expiration and refreshed-at
 * annotations and the managed label. Everything else, `resourceVersion` included, stays as read,
 * so the update is refused with 409 if the Secret changed since.
 */
export function applyCredentialsToSecret(secret: V1Secret, creds: CapCredentials, refreshedAt: Date): V1Secret {
  const next = structuredClone(secret);
  const values = buildSecretStringData(creds);
  const data = { ...(next.data ?? {}) };
  for (const [key, value] of Object.entries(values)) data[key] = Buffer.from(value, 'utf8').toString('base64');
  next.data = data;
  if (next.stringData) {
    const stringData = { ...next.stringData };
    for (const key of Object.keys(values)) delete stringData[key];
    if (Object.keys(stringData).length > 0) next.stringData = stringData;
    else delete next.stringData;
  }
  const metadata = { ...(next.metadata ?? {}) };
  metadata.annotations = {
    ...(metadata.annotations ?? {}),
    [ANNOTATION_EXPIRATION]: formatRfc3339(creds.expiration),
    [ANNOTATION_REFRESHED_AT]: formatRfc3339(refreshedAt),
  };
  metadata.labels = { ...(metadata.labels ?? {}), [LABEL_MANAGED]: 'true' };
  next.metadata = metadata;
  return next;
}
