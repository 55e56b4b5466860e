import type { V1Secret } from '@kubernetes/client-node';
import { reportableSkewSeconds } from '../core/clock-skew.js';
import { maskAccessKeyId, type CapCredentials } from '../core/credentials.js';
import { ANNOTATION_ROLE } from '../core/names.js';
import { decideRefresh, formatRfc3339, type RefreshPolicy } from '../core/policy.js';
import type { Logger } from '../log/logger.js';
import type { RefreshTarget, TargetStore, WriteOutcome } from '../refresh/engine.js';
import { describeSecretFailure } from './describe-kube-failure.js';
import { toKubeRequestError, type KubeApi } from './kube-api.js';
import type { Limiter } from '../refresh/limiter.js';
import { applyCredentialsToSecret, readSecretState, type SecretState } from './secret-update.js';

/** A Secret in the cluster as it was read, ready for the engine. */
export interface ClusterTarget extends RefreshTarget {
  /** The Secret as read; absent when it could not be read (then `problem` says why). */
  secret?: V1Secret;
}

/** What a write left, for the Event recorded afterwards. */
export interface WrittenSecret {
  uid?: string;
  resourceVersion?: string;
  /** The access key id, masked to its last four characters. */
  accessKey: string;
  expiration: string;
  /** CAP's clock minus this node's in whole seconds, when over 60 s (reportableSkewSeconds). */
  clockOffsetSeconds?: number;
}

export interface ClusterStore extends TargetStore<ClusterTarget> {
  /** Secrets this run wrote, by `namespace/name`. */
  readonly written: ReadonlyMap<string, WrittenSecret>;
  /** Secrets another writer refreshed during this run (seen after a 409), with their expiration. */
  readonly refreshedElsewhere: ReadonlyMap<string, string>;
}

export interface ClusterStoreOptions {
  api: KubeApi;
  limit: Limiter;
  policy: RefreshPolicy;
  now: () => Date;
  logger: Logger;
  /** Update attempts per Secret when the API server answers 409 Conflict. */
  maxAttempts?: number;
}

export const DEFAULT_WRITE_ATTEMPTS = 5;

export const targetKey = (t: { namespace: string; name: string }): string => `${t.namespace}/${t.name}`;

/**
 * Writes credentials into Secrets with `replace`, carrying the resourceVersion that was read.
 * On 409 the Secret is read again: if another writer refreshed it meanwhile it is left alone
 * (never written twice for one due period); otherwise the write is retried on the fresh copy,
 * so changes others made to other keys survive. Any other answer fails this target only.
 */
export function createClusterStore(opts: ClusterStoreOptions): ClusterStore {
  const written = new Map<string, WrittenSecret>();
  const refreshedElsewhere = new Map<string, string>();
  const maxAttempts = opts.maxAttempts ?? DEFAULT_WRITE_ATTEMPTS;
  const { api, limit, logger } = opts;

  const fail = (error: string): WriteOutcome => ({ ok: false, error });

  async function writeOne(target: ClusterTarget, creds: CapCredentials, refreshedAt: Date, issuedRole?: string): Promise<WriteOutcome> {
    const { namespace, name } = target;
    if (!target.secret) return fail(target.problem ?? `Secret ${namespace}/${name} was not read`);
    const original: SecretState = {
      ...(target.expiration ? { expiration: target.expiration } : {}),
      ...(target.refreshedAt ? { refreshedAt: target.refreshedAt } : {}),
    };
    let current = target.secret;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const saved = await limit(() => api.replaceSecret(namespace, name, applyCredentialsToSecret(current, creds, refreshedAt, issuedRole)));
        const expiration = formatRfc3339(creds.expiration);
        const skew = reportableSkewSeconds(creds.capClockOffsetMs);
        written.set(targetKey(target), {
          ...(saved.metadata?.uid ? { uid: saved.metadata.uid } : {}),
          ...(saved.metadata?.resourceVersion ? { resourceVersion: saved.metadata.resourceVersion } : {}),
          accessKey: maskAccessKeyId(creds.accessKeyId),
          expiration,
          ...(skew !== undefined ? { clockOffsetSeconds: skew } : {}),
        });
        return { ok: true, expiration };
      } catch (err) {
        const failure = await toKubeRequestError(err);
        if (failure.status !== 409) return fail(describeSecretFailure(failure, 'update', namespace, name, api));
        logger.debug('conflict on update; reading the Secret again', { target: targetKey(target), attempt });
      }
      try {
        current = await limit(() => api.readSecret(namespace, name));
      } catch (err) {
        return fail(describeSecretFailure(await toKubeRequestError(err), 'read', namespace, name, api));
      }
      const state = readSecretState(current);
      if (state.role !== target.role) {
        return fail(
          `the ${ANNOTATION_ROLE} annotation of Secret ${namespace}/${name} changed while it was being refreshed (now ${state.role === undefined ? 'absent' : JSON.stringify(state.role)}); it was left as it is, the next run uses the new annotation`,
        );
      }
      const changed = state.expiration !== original.expiration || state.refreshedAt !== original.refreshedAt;
      const decision = decideRefresh(state, opts.now(), { ...opts.policy, force: false });
      if (changed && !decision.due && decision.expiration) {
        const expiration = formatRfc3339(decision.expiration);
        refreshedElsewhere.set(targetKey(target), expiration);
        logger.info('another writer refreshed the Secret meanwhile; not writing it again', { target: targetKey(target), expiration });
        return { ok: true, expiration };
      }
    }
    return fail(
      `Secret ${namespace}/${name} changed every time it was written (HTTP 409 Conflict on ${maxAttempts} attempts): another writer keeps updating it; ` +
        'check that nothing else manages it (a second cap-token-refresh job?); it was left as it is and the next run will try again',
    );
  }

  return {
    written,
    refreshedElsewhere,
    // Every API call goes through `limit`, so writes need no CAP slot.
    boundsOwnWrites: true,
    write: (targets, creds, refreshedAt, issuedRole) => Promise.all(targets.map((t) => writeOne(t, creds, refreshedAt, issuedRole))),
  };
}
