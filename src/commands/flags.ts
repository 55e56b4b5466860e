import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { DEFAULT_RETRY, MAX_RETRY_FOR_MS } from '../core/retry.js';

/**
 * The checks of the command line's values, one schema per command, written once for the
 * flags commands share. A command parses its options with `parseFlags` before it reads any
 * configuration, so every usage problem is reported at once, by flag name, with exit 2.
 */

const HOUR_MS = 3600_000;

/** A duration flag (`20m`, `1h30m`, `90`) as milliseconds, above `min` and at most `max`. */
function duration(example: string, bounds: { min?: 'zero' | 'positive'; max?: [number, string] } = {}) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    const [maxMs, maxText] = bounds.max ?? [Number.POSITIVE_INFINITY, ''];
    const tooSmall = ms === undefined || (bounds.min === 'zero' ? ms < 0 : ms <= 0);
    if (tooSmall || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `${text} is not a duration${maxText ? ` up to ${maxText}` : ''}; use for example ${example}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** The flags of every command that asks CAP (cap-settings.ts reads the rest: URL, identity). */
export const capFlags = z.looseObject({
  timeout: duration('15s or 1m').default(15_000),
  retryFor: duration('1m or 20m', { max: [MAX_RETRY_FOR_MS, '1h'] }).default(DEFAULT_RETRY.deadlineMs),
  assumeLifetime: duration('1h', { max: [36 * HOUR_MS, '36h'] }).optional(),
});

/** Where refresh and status look (a folder of manifests, or the cluster's Secrets), and the margin that makes a Secret due. */
const targetFlags = z.looseObject({
  manifests: z.string().optional(),
  target: z.array(z.string()).optional(),
  renewBefore: duration('20m or 1h', { min: 'zero' }).default(0),
});

/** A whole-number flag from MIN to MAX. */
function wholeNumber(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((given, ctx) => {
    const n = Number(given);
    if (String(given).trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, not ${given}` });
      return z.NEVER;
    }
    return n;
  });
}

/** --manifests and --target exclude each other; checked even when other flags are wrong, so all is said at once. */
function manifestsOrTargets(flags: { manifests?: string | undefined; target?: string[] | undefined }): boolean {
  return !(flags.manifests && flags.target?.length);
}
const MANIFESTS_OR_TARGETS = { path: ['target'], message: 'names Secrets in a cluster; it cannot be combined with --manifests', when: () => true };

export const refreshFlags = capFlags
  .extend(targetFlags.shape)
  .extend({ concurrency: wholeNumber(1, 64).default(4) })
  .refine(manifestsOrTargets, MANIFESTS_OR_TARGETS);

export const statusFlags = targetFlags.refine(manifestsOrTargets, MANIFESTS_OR_TARGETS);

export const credentialProcessFlags = capFlags.extend({
  role: z.string().trim().min(1, { message: 'is empty; give the IAM role CAP should issue credentials for' }),
  minRemaining: duration('5m or 90s').default(5 * 60_000),
});

/** Flag name of an option key: `renewBefore` -> `--renew-before`. */
function flagName(key: PropertyKey | undefined): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** OPTIONS checked by SCHEMA: the parsed values, or a UsageError naming every problem by its flag. */
export function parseFlags<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${flagName(issue.path[0])} ${issue.message}`);
  throw new UsageError(
    problems.length === 1 ? String(problems[0]) : `the command line has ${problems.length} problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
  );
}
