import type { AwsCredentialsRequest, StatementEntry } from './credentials-requests.js';

/**
 * What an upgrade does to one CredentialsRequest of the next release, compared with the
 * release the cluster runs. Requests are matched by the Secret they name (spec.secretRef),
 * because that is what the administrator provides in Manual mode.
 */
export type RequestChange = 'new' | 'changed' | 'unchanged';

/** The permission difference of one request, as readable grants ("ec2:RunInstances", "s3:GetObject on arn:..."). */
export interface PermissionDiff {
  /** Grants the next release needs and the current policy lacks: the IAM policy must be updated first. */
  added: string[];
  /** Grants the next release no longer needs: information only. */
  removed: string[];
  /** Grants present in both whose conditions differ: the IAM policy must be updated too. */
  conditionChanged: string[];
}

export interface RequestComparison {
  request: AwsCredentialsRequest;
  change: RequestChange;
  /** The current release's request for the same Secret, when there is one. */
  previous?: AwsCredentialsRequest;
  diff: PermissionDiff;
}

export interface ReleaseComparison {
  /** One entry per request of the next release, in its order. */
  requests: RequestComparison[];
  /** Current requests whose Secret the next release no longer names (nothing cleans them up in Manual mode). */
  stale: AwsCredentialsRequest[];
}

export function secretKey(request: Pick<AwsCredentialsRequest, 'secretRef'>): string {
  return `${request.secretRef.namespace}/${request.secretRef.name}`;
}

/** Compares the next release's AWS requests with the current ones, statement entries taken as sets of grants. */
export function compareReleases(current: readonly AwsCredentialsRequest[], next: readonly AwsCredentialsRequest[]): ReleaseComparison {
  const currentBySecret = new Map(current.map((request) => [secretKey(request), request]));
  const nextSecrets = new Set(next.map(secretKey));
  const requests = next.map((request): RequestComparison => {
    const previous = currentBySecret.get(secretKey(request));
    if (!previous) return { request, change: 'new', diff: diffPermissions([], request.statementEntries) };
    const diff = diffPermissions(previous.statementEntries, request.statementEntries);
    const same = diff.added.length === 0 && diff.removed.length === 0 && diff.conditionChanged.length === 0;
    return { request, previous, change: same ? 'unchanged' : 'changed', diff };
  });
  const stale = current.filter((request) => !nextSecrets.has(secretKey(request)));
  return { requests, stale };
}

/** Whether the IAM policy of this request must be updated before the upgrade: it grants more, or grants under other conditions. */
export function needsPolicyUpdate(diff: PermissionDiff): boolean {
  return diff.added.length > 0 || diff.conditionChanged.length > 0;
}

/**
 * One grant per (effect, action, resource); its conditions are a set of canonical JSON texts
 * (two statements may grant the same action under different conditions). A Deny that goes away
 * grants more, so it counts as added; a Deny that appears counts as removed.
 */
export function diffPermissions(before: readonly StatementEntry[], after: readonly StatementEntry[]): PermissionDiff {
  const was = grants(before);
  const is = grants(after);
  const added: string[] = [];
  const removed: string[] = [];
  const conditionChanged: string[] = [];
  for (const [key, grant] of is) {
    const old = was.get(key);
    if (!old) (grant.effect === 'Allow' ? added : removed).push(grant.label);
    else if (!sameSet(old.conditions, grant.conditions)) conditionChanged.push(grant.label);
  }
  for (const [key, grant] of was) {
    if (!is.has(key)) (grant.effect === 'Allow' ? removed : added).push(grant.label);
  }
  return { added: sorted(added), removed: sorted(removed), conditionChanged: sorted(conditionChanged) };
}

interface Grant {
  effect: StatementEntry['effect'];
  label: string;
  conditions: Set<string>;
}

function grants(entries: readonly StatementEntry[]): Map<string, Grant> {
  const byKey = new Map<string, Grant>();
  for (const entry of entries) {
    const resources = [entry.resource].flat().slice().sort();
    const resourceText = resources.join(', ');
    const condition = canonicalJson(entry.policyCondition ?? {});
    for (const action of entry.action) {
      const key = JSON.stringify([entry.effect, action, resources]);
      let grant = byKey.get(key);
      if (!grant) {
        const label = `${entry.effect === 'Deny' ? 'Deny ' : ''}${action}${resourceText === '*' ? '' : ` on ${resourceText}`}`;
        grant = { effect: entry.effect, label, conditions: new Set() };
        byKey.set(key, grant);
      }
      grant.conditions.add(condition);
    }
  }
  return byKey;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}

function sorted(items: string[]): string[] {
  return [...new Set(items)].sort();
}
