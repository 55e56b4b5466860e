import type { CoreV1Event } from '@kubernetes/client-node';
import { describeSkewEvent } from '../core/clock-skew.js';
import { TOOL_NAME } from '../core/names.js';

export const REASON_REFRESHED = 'CredentialsRefreshed';
export const REASON_FAILED = 'CredentialsRefreshFailed';
export const REASON_CLOCK_SKEW = 'ClockSkew';
const MAX_MESSAGE = 1024;

export type SecretEventSpec =
  | { kind: 'refreshed'; role: string; expiration: string /** Already masked: at most the last four characters. */; accessKey: string }
  | { kind: 'failed'; role: string | null; error: string }
  /** Written with a clock more than 60 s off CAP's: offset (CAP minus this node) and way, nothing else. */
  | { kind: 'clock-skew'; role: string; offsetSeconds: number };

export interface EventSubject {
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/**
 * A core/v1 Event on the Secret: Normal CredentialsRefreshed, Warning CredentialsRefreshFailed, or
 * Warning ClockSkew (the Secret was written by a node whose clock is more than 60 s off CAP's).
 * The message carries the role, the expiration and the masked access key id; never a secret.
 */
export function buildSecretEvent(subject: EventSubject, spec: SecretEventSpec, now: Date, instance: string): CoreV1Event {
  const message =
    spec.kind === 'refreshed'
      ? `Refreshed AWS credentials for role ${spec.role} (access key ${spec.accessKey}); they expire at ${spec.expiration}`
      : spec.kind === 'clock-skew'
        ? describeSkewEvent(spec.offsetSeconds, spec.role)
        : `Could not refresh AWS credentials${spec.role ? ` for role ${spec.role}` : ''}: ${spec.error}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${subject.name.slice(0, 200)}.`, namespace: subject.namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: subject.namespace,
      name: subject.name,
      ...(subject.uid ? { uid: subject.uid } : {}),
      ...(subject.resourceVersion ? { resourceVersion: subject.resourceVersion } : {}),
    },
    type: spec.kind === 'refreshed' ? 'Normal' : 'Warning',
    reason: { refreshed: REASON_REFRESHED, failed: REASON_FAILED, 'clock-skew': REASON_CLOCK_SKEW }[spec.kind],
    action: 'Refresh',
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
    source: { component: TOOL_NAME },
    reportingComponent: TOOL_NAME,
    reportingInstance: instance,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
