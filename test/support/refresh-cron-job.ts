// The refresh's CronJob and Jobs as the API server returns them (with status), for the
// status tests that judge them as the AlertingRule does.
import { cronJobObject, DEFAULT_RENEW_BEFORE, DEFAULT_SCHEDULE } from '../../src/manifests/kubernetes-objects.js';
import type { KubernetesObject } from '../../src/manifests/render.js';
import type { KubeObject } from './kube-api-server.js';

const minutesBefore = (now: Date, minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface CronJobState {
  schedule?: string;
  renewBefore?: string;
  suspend?: boolean;
  createdMinutesAgo?: number;
  lastSuccessfulMinutesAgo?: number;
  lastScheduleMinutesAgo?: number;
}

export function refreshCronJob(now: Date, state: CronJobState = {}): KubernetesObject {
  const object = cronJobObject({
    image: 'registry.enclave.example/cap-token-refresh@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    capUrl: 'https://cap.enclave.example',
    agency: 'AGENCY',
    mission: 'MISSION',
    schedule: state.schedule ?? DEFAULT_SCHEDULE,
    renewBefore: state.renewBefore ?? DEFAULT_RENEW_BEFORE,
  }) as KubernetesObject & { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  object.metadata.creationTimestamp = minutesBefore(now, state.createdMinutesAgo ?? 24 * 60);
  if (state.suspend !== undefined) object.spec.suspend = state.suspend;
  object.status = {
    ...(state.lastSuccessfulMinutesAgo !== undefined ? { lastSuccessfulTime: minutesBefore(now, state.lastSuccessfulMinutesAgo) } : {}),
    ...(state.lastScheduleMinutesAgo !== undefined ? { lastScheduleTime: minutesBefore(now, state.lastScheduleMinutesAgo) } : {}),
  };
  return object;
}

/** A Job of the CronJob (or of `owner`), started some minutes ago, with the status the Job controller writes. */
export function refreshJob(
  now: Date,
  name: string,
  startedMinutesAgo: number,
  outcome: 'succeeded' | 'failed' | 'running',
  owner = 'cap-token-refresh',
): KubeObject & { kind: string; apiVersion: string } {
  const start = minutesBefore(now, startedMinutesAgo);
  const end = minutesBefore(now, startedMinutesAgo - 0.5);
  const status: Record<string, unknown> = { startTime: start };
  if (outcome === 'succeeded') Object.assign(status, { succeeded: 1, completionTime: end, conditions: [{ type: 'Complete', status: 'True' }] });
  if (outcome === 'failed') Object.assign(status, { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] });
  if (outcome === 'running') status.active = 1;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      namespace: 'cap-token-refresh',
      name,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: owner, uid: '00000000-0000-0000-0000-000000000001', controller: true }],
    },
    spec: {},
    status,
  };
}
