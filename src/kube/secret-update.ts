import type { V1Secret } from '@kubernetes/client-node';
import { buildSecretStringData, type CapCredentials } from '../core/credentials.js';
import {
  ANNOTATION_ACCOUNT,
  ANNOTATION_AGENCY,
  ANNOTATION_EXPIRATION,
  ANNOTATION_ISSUED_ROLE,
  ANNOTATION_MISSION,
  ANNOTATION_REFRESHED_AT,
  ANNOTATION_CLOCK_OFFSET,
  ANNOTATION_ROLE,
  LABEL_MANAGED,
  SECRET_CREDENTIAL_KEYS,
} from '../core/names.js';
import { formatRfc3339, type SecretState } from '../core/policy.js';
import { findSecretDataProblem } from '../core/secret-data.js';
import { parseClockOffset, reportableSkewSeconds } from '../core/clock-skew.js';

/** Whether an API answer holds an object at all: a 2xx with an empty body (or `null`) does not, and cannot be read as a Secret. */
export function isSecretObject(answer: unknown): answer is V1Secret {
  return typeof answer === 'object' && answer !== null && !Array.isArray(answer);
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
  const account = pick(ANNOTATION_ACCOUNT)?.trim();
  if (account) state.account = account;
  const expiration = pick(ANNOTATION_EXPIRATION);
  if (expiration) state.expiration = expiration;
  const refreshedAt = pick(ANNOTATION_REFRESHED_AT);
  if (refreshedAt) state.refreshedAt = refreshedAt;
  const issuedRole = pick(ANNOTATION_ISSUED_ROLE)?.trim();
  if (issuedRole) state.issuedRole = issuedRole;
  const clockOffsetSeconds = parseClockOffset(pick(ANNOTATION_CLOCK_OFFSET));
  if (clockOffsetSeconds !== undefined) state.clockOffsetSeconds = clockOffsetSeconds;
  const dataProblem = findSecretDataProblem(readCredentialValues(secret));
  if (dataProblem) state.dataProblem = dataProblem;
  return state;
}

/** The three credential keys of a Secret as read, decoded (`stringData` wins over `data`, as on a write). */
function readCredentialValues(secret: V1Secret): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const key of SECRET_CREDENTIAL_KEYS) {
    const plain = secret.stringData?.[key];
    const encoded = secret.data?.[key];
    values[key] = typeof plain === 'string' ? plain : typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
  }
  return values;
}

/**
 * The Secret as it is to be written: the three credential keys (base64 in `data`; the same keys
 * dropped from `stringData`, which would otherwise win), the expiration, refreshed-at and
 * issued-role annotations (issued-role removed when none is given: seeded) and the managed label. Everything else, `resourceVersion` included, stays as read,
 * so the update is refused with 409 if the Secret changed since.
 */
export function applyCredentialsToSecret(secret: V1Secret, creds: CapCredentials, refreshedAt: Date, issuedRole?: string): V1Secret {
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
    ...(issuedRole !== undefined ? { [ANNOTATION_ISSUED_ROLE]: issuedRole } : {}),
  };
  if (issuedRole === undefined) delete metadata.annotations[ANNOTATION_ISSUED_ROLE];
  const skew = reportableSkewSeconds(creds.capClockOffsetMs);
  if (skew !== undefined) metadata.annotations[ANNOTATION_CLOCK_OFFSET] = String(skew);
  else delete metadata.annotations[ANNOTATION_CLOCK_OFFSET];
  metadata.labels = { ...(metadata.labels ?? {}), [LABEL_MANAGED]: 'true' };
  next.metadata = metadata;
  return next;
}
