import { link, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCachedCredentials } from './credential-cache.js';
import { cacheFileName, serializeCacheEntry, type CacheKey } from '../aws/process-credentials.js';

const key: CacheKey = { capUrl: 'https://cap.example/api/v1/credentials', agency: 'A', mission: 'M', role: 'r' };
const now = new Date('2026-01-01T00:00:00Z');
const good = { accessKeyId: 'ASIAGOODGOODGOOD', secretAccessKey: 'good-secret', sessionToken: 'good-token', expiration: new Date('2026-01-01T01:00:00Z') };
const evil = { accessKeyId: 'ASIAEVILEVILEVIL', secretAccessKey: 'evil-secret', sessionToken: 'evil-token', expiration: new Date('2026-01-01T01:00:00Z') };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctr-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readCachedCredentials', () => {
  it('reads only what it checked: a file swapped for a link to an untrusted file is never served', async () => {
    const file = join(dir, cacheFileName(key));
    // "Another user's" file: readable by others, so never trusted, and reached through a link.
    const evilFile = join(dir, 'evil.json');
    await writeFile(evilFile, serializeCacheEntry(key, evil), { mode: 0o644 });
    await writeFile(join(dir, 'good.json'), serializeCacheEntry(key, good), { mode: 0o600 });
    await symlink(evilFile, join(dir, 'evil.link'));
    let stop = false;
    // The swapper flips the cache file between a good entry and the link, as fast as it can.
    const swapper = (async () => {
      let i = 0;
      while (!stop) {
        const next = i++ % 2 === 0 ? 'evil' : 'good';
        if (next === 'evil') {
          await symlink(evilFile, join(dir, 'tmp.link')).catch(() => undefined);
          await rename(join(dir, 'tmp.link'), file).catch(() => undefined);
        } else {
          await writeFile(join(dir, 'tmp.good'), serializeCacheEntry(key, good), { mode: 0o600 });
          await rename(join(dir, 'tmp.good'), file).catch(() => undefined);
        }
      }
    })();
    const served: string[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      for (let n = 0; n < 400; n++) {
        const hit = await readCachedCredentials(dir, key, now, 0);
        if (hit.usable) served.push(hit.creds.accessKeyId);
      }
    });
    await Promise.all(readers);
    stop = true;
    await swapper;
    expect(served).not.toContain(evil.accessKeyId);
    expect(served.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'a link to a good entry',
      async (file: string) => {
        await writeFile(join(dir, 'target'), serializeCacheEntry(key, good), { mode: 0o600 });
        await symlink(join(dir, 'target'), file);
      },
    ],
    [
      'a hard link (two names)',
      async (file: string) => {
        await writeFile(join(dir, 'target'), serializeCacheEntry(key, good), { mode: 0o600 });
        await link(join(dir, 'target'), file);
      },
    ],
    [
      'a FIFO (would block a plain read)',
      async (file: string) => {
        execFileSync('mkfifo', [file]);
      },
    ],
    [
      'a folder',
      async (file: string) => {
        await mkdir(file);
      },
    ],
  ])('%s is not trusted and does not hang', async (_name, plant) => {
    const file = join(dir, cacheFileName(key));
    await plant(file);
    const hit = await readCachedCredentials(dir, key, now, 0);
    expect(hit.usable).toBe(false);
  });

  it('a good entry is served', async () => {
    await writeFile(join(dir, cacheFileName(key)), serializeCacheEntry(key, good), { mode: 0o600 });
    const hit = await readCachedCredentials(dir, key, now, 0);
    expect(hit.usable && hit.creds.accessKeyId).toBe(good.accessKeyId);
  });
});
