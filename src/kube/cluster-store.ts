import type { V1Secret } from '@kubernetes/client-node';
import type { Limiter } from '../core/limiter.js';
import { roleChangedMessage, writtenOutcome, type RefreshTarget, type TargetStore, type WriteBatch, type WriteOutcome } from '../core/target-store.js';
import type { Logger } from '../log/logger.js';
import { describeSecretFailure, emptySecretMessage } from './describe-kube-failure.js';
import { toKubeRequestError, type KubeApi } from './kube-api.js';
import { applyCredentialsToSecret, isSecretObject, readSecretState } from './secret-update.js';

/** A Secret in the cluster as it was read, ready for the engine. */
export interface ClusterTarget extends RefreshTarget {
  /** The Secret as read; absent when it could not be read (then `problem` says why). */
  secret?: V1Secret;
}

export interface ClusterStoreOptions {
  api: KubeApi;
  /** The run's API limiter: every call of the store goes through it. */
  limit: Limiter;
  logger: Logger;
  /** Update attempts per Secret when the API server answers 409 Conflict. */
  maxAttempts?: number;
}

export const DEFAULT_WRITE_ATTEMPTS = 5;

export const targetKey = (t: { namespace: string; name: string }): string => `${t.namespace}/${t.name}`;

/**
 * Writes credentials into Secrets with `replace`, carrying the resourceVersion that was read.
 * On 409 the Secret is read again: if another writer refreshed it meanwhile (the engine's
 * WriteBatch.keptExpiration) it is left alone, outcome `kept` (never written twice for one due
 * period); otherwise the write is retried on the fresh copy, so changes others made to other keys
 * survive. Any other answer fails this target only.
 */
export function createClusterStore(opts: ClusterStoreOptions): TargetStore<ClusterTarget> {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_WRITE_ATTEMPTS;
  const { api, limit, logger } = opts;

  const fail = (error: string): WriteOutcome => ({ kind: 'failed', error });

  async function writeOne(target: ClusterTarget, batch: WriteBatch<ClusterTarget>): Promise<WriteOutcome> {
    const { namespace, name } = target;
    if (!target.secret) return fail(target.problem ?? `Secret ${namespace}/${name} was not read`);
    let current = target.secret;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const saved = await limit(() =>
          api.replaceSecret(namespace, name, applyCredentialsToSecret(current, batch.creds, batch.refreshedAt, batch.issuedRole)),
        );
        // A 2xx is a write, even one answered with no body (then the Event names the object as read).
        return writtenOutcome(batch.creds, { uid: saved?.metadata?.uid, resourceVersion: saved?.metadata?.resourceVersion });
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
      if (!isSecretObject(current)) return fail(emptySecretMessage(namespace, name));
      const state = readSecretState(current);
      if (state.role !== target.role) return fail(roleChangedMessage(namespace, name, state.role));
      const kept = batch.keptExpiration(target, state);
      if (kept) return { kind: 'kept', expiration: kept };
    }
    return fail(
      `Secret ${namespace}/${name} changed every time it was written (HTTP 409 Conflict on ${maxAttempts} attempts): another writer keeps updating it; ` +
        'check that nothing else manages it (a second cap-token-refresh job?); it was left as it is and the next run will try again',
    );
  }

  return {
    // Every API call goes through `limit`: the writes need no CAP slot, and the next CAP request never waits for them.
    writesInCapSlot: false,
    write: (targets, batch) => Promise.all(targets.map((t) => writeOne(t, batch))),
  };
}
