// Equality-based label and field selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), enough for list calls.

import { isRecord, type KubeObject } from './objects.js';
import { badRequest } from './status.js';

type Lookup = (key: string) => string | undefined;

function matchesTerm(term: string, lookup: Lookup): boolean {
  const parts = /^(.*?)(!=|==|=)(.*)$/.exec(term);
  if (!parts) {
    if (/[()\s]/.test(term)) throw badRequest(`unable to parse requirement: unsupported selector "${term}"`);
    return term.startsWith('!') ? lookup(term.slice(1)) === undefined : lookup(term) !== undefined;
  }
  const [, key = '', op, value = ''] = parts;
  const actual = lookup(key.trim());
  return op === '!=' ? actual !== value.trim() : actual === value.trim();
}

function matchesSelector(selector: string | null, lookup: Lookup): boolean {
  if (!selector) return true;
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .every((t) => matchesTerm(t, lookup));
}

function fieldValue(object: KubeObject, path: string): string | undefined {
  let current: unknown = object;
  for (const part of path.split('.')) current = isRecord(current) ? current[part] : undefined;
  return current === undefined || current === null ? undefined : String(current);
}

export function matchesSelectors(object: KubeObject, labelSelector: string | null, fieldSelector: string | null): boolean {
  const labels = object.metadata.labels ?? {};
  return matchesSelector(labelSelector, (k) => labels[k]) && matchesSelector(fieldSelector, (k) => fieldValue(object, k));
}
