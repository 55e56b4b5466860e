// The port between the refresh engine (src/refresh/) and the places Secrets live: manifests
// on disk (src/disk/manifest-store.ts) and a cluster (src/kube/cluster-store.ts). A store reads
// nothing of the policy: it writes, and says what happened in a tagged outcome; the engine alone
// turns outcomes into report results.

import { reportableSkewSeconds } from './clock-skew.js';
import { maskAccessKeyId, type CapCredentials } from './credentials.js';
import { ANNOTATION_ROLE } from './names.js';
import { formatRfc3339, type RefreshState, type SecretState } from './policy.js';

/** A Secret to keep alive, wherever it lives (a manifest file or a cluster). */
export interface RefreshTarget extends SecretState {
  namespace: string;
  name: string;
  file?: string;
  /** Set when the target could not be read; it is reported as failed with this message. */
  problem?: string;
}

/** This run wrote the Secret: what the report and a Kubernetes Event say about it. Never a secret. */
export interface WrittenOutcome {
  kind: 'written';
  /** RFC 3339 expiration of the credentials written. */
  expiration: string;
  /** The access key id written, masked to its last four characters. */
  accessKey: string;
  /** CAP's clock minus this node's in whole seconds, when over 60 s (reportableSkewSeconds). */
  clockOffsetSeconds?: number;
  /** The object as saved, in a cluster (the Event's involvedObject). */
  uid?: string;
  resourceVersion?: string;
}

/**
 * What one target's write came to: `written` by this run; `kept`, because another writer (a
 * concurrent run) refreshed it after this run read it, so its credentials stay (never written
 * twice for one due period), with their expiration; or `failed`, with a message that names the cure.
 */
export type WriteOutcome = WrittenOutcome | { kind: 'kept'; expiration: string } | { kind: 'failed'; error: string };

/** One role's credentials, to be written into every due target of that role. */
export interface WriteBatch<T extends RefreshTarget = RefreshTarget> {
  creds: CapCredentials;
  /** On CAP's clock when it is known (`cap-token-refresh/refreshed-at`). */
  refreshedAt: Date;
  /**
   * The role CAP was asked for, recorded in `cap-token-refresh/issued-role`; without it (`fill`, one
   * response for every Secret) the annotation is removed, so the next refresh asks for each Secret's own role.
   */
  issuedRole?: string;
  /**
   * The engine's judgement of a target that changed since it was read (a store sees it under
   * its file lock, or after an HTTP 409): the expiration to keep when another writer refreshed
   * it and it is no longer due; undefined when this write must go ahead.
   */
  keptExpiration(target: T, now: RefreshState): string | undefined;
}

/** Where targets come from and where credentials go. */
export interface TargetStore<T extends RefreshTarget = RefreshTarget> {
  /** One outcome per target, in order. Never throws for one target's failure; a throw fails the whole batch. */
  write(targets: T[], batch: WriteBatch<T>): Promise<WriteOutcome[]>;
  /**
   * Whether a role's writes run inside its CAP concurrency slot. On disk they do: with
   * `--concurrency 1` one role's files are written before the next CAP request. In a cluster they
   * do not: the store bounds its own API calls (the run's API limiter), so the slot is free for
   * the next CAP request as soon as the credentials arrive, and no CAP request waits for a write.
   */
  readonly writesInCapSlot: boolean;
}

/** The outcome of writing `creds`: expiration, masked access key and clock offset; `saved` adds the object's uid and resourceVersion. */
export function writtenOutcome(creds: CapCredentials, saved: { uid?: string | undefined; resourceVersion?: string | undefined } = {}): WrittenOutcome {
  const skew = reportableSkewSeconds(creds.capClockOffsetMs);
  return {
    kind: 'written',
    expiration: formatRfc3339(creds.expiration),
    accessKey: maskAccessKeyId(creds.accessKeyId),
    ...(skew !== undefined ? { clockOffsetSeconds: skew } : {}),
    ...(saved.uid ? { uid: saved.uid } : {}),
    ...(saved.resourceVersion ? { resourceVersion: saved.resourceVersion } : {}),
  };
}

/**
 * The failure of a Secret whose role annotation changed after this run read it: the credentials at
 * hand are for the old role, so it is left as it is, on disk as in a cluster.
 */
export function roleChangedMessage(namespace: string, name: string, role: string | undefined): string {
  return (
    `the ${ANNOTATION_ROLE} annotation of Secret ${namespace}/${name} changed while it was being refreshed ` +
    `(now ${role === undefined ? 'absent' : JSON.stringify(role)}); it was left as it is, the next run uses the new annotation`
  );
}
