import { escapeControl } from '../core/display-text.js';
import { type ReleaseComparison, type RequestChange, needsPolicyUpdate, secretKey } from './compare-releases.js';

/** What the cluster (or the manifests on disk) holds today, as far as the upgrade cares. */
export interface CurrentState {
  /** Managed Secrets by `namespace/name`, with the IAM role each carries (undefined: no role annotation). */
  secrets: ReadonlyMap<string, { role: string | undefined }>;
  /** `namespace/name` of the Secrets the job's service account may get and update. */
  granted: ReadonlySet<string>;
  /** Namespaces that exist; undefined when unknown (offline). */
  namespaces?: ReadonlySet<string>;
}

export interface PreflightSettings {
  /** The administrator has run the updated IAM script (`--policies-updated`). */
  policiesUpdated: boolean;
  /** Roles for Secrets that do not exist yet, from `--role-map` or `--role-template`. */
  rolesForNew: ReadonlyMap<string, string>;
}

export type PreflightChange = RequestChange | 'namespace-missing' | 'stale';

/** One line of the preflight report; the JSON report is a list of these. */
export interface PreflightEntry {
  /** The CredentialsRequest. */
  namespace: string;
  name: string;
  secret: { namespace: string; name: string };
  change: PreflightChange;
  role: string | null;
  added?: string[];
  removed?: string[];
  conditionChanged?: string[];
  blocker: boolean;
  action?: string;
  /** With --probe-cap: `ok`, or why CAP did not issue credentials for the role. */
  probe?: string;
}

export interface PreflightReport {
  requests: PreflightEntry[];
  blockers: number;
}

const CREDENTIALS_REQUESTS_NAMESPACE = 'openshift-cloud-credential-operator';

/** Turns a comparison of releases and what exists today into the report: what blocks the upgrade, and what to do. */
export function planPreflight(comparison: ReleaseComparison, state: CurrentState, settings: PreflightSettings): PreflightReport {
  const requests: PreflightEntry[] = comparison.requests.map(({ request, change, diff }) => {
    const key = secretKey(request);
    const existing = state.secrets.get(key);
    const role = existing?.role ?? settings.rolesForNew.get(key) ?? null;
    const base = { namespace: CREDENTIALS_REQUESTS_NAMESPACE, name: request.name, secret: { ...request.secretRef }, role };
    const permissions = {
      ...(diff.added.length > 0 ? { added: diff.added } : {}),
      ...(diff.removed.length > 0 ? { removed: diff.removed } : {}),
      ...(diff.conditionChanged.length > 0 ? { conditionChanged: diff.conditionChanged } : {}),
    };
    if (state.namespaces && !state.namespaces.has(request.secretRef.namespace)) {
      return {
        ...base,
        change: 'namespace-missing',
        ...permissions,
        blocker: true,
        action: `create namespace ${request.secretRef.namespace} (the next release's operator lives there), then rerun preflight`,
      };
    }
    const todo: string[] = [];
    if (change === 'new') {
      if (!existing) todo.push(`create Secret ${key} with annotation cap-token-refresh/role (preflight --out writes it)`);
      else if (existing.role === undefined) todo.push(`annotate Secret ${key} with cap-token-refresh/role`);
      if (!state.granted.has(key)) todo.push(`let the job get and update Secret ${key} (apply the Role in preflight --out)`);
      if (!existing) todo.push(`create IAM role ${role ?? '(its role)'} with its policy (iam/update-roles.sh)`);
    }
    const policyUpdate = change === 'changed' && needsPolicyUpdate(diff);
    if (policyUpdate && !settings.policiesUpdated)
      todo.push(`update the IAM policy of role ${role ?? '(its role)'} (iam/update-roles.sh), then rerun with --policies-updated`);
    const blocker = todo.length > 0;
    const info =
      !blocker && diff.removed.length > 0 && change === 'changed' ? `role ${role ?? '(its role)'} may drop ${diff.removed.length} permission(s)` : undefined;
    const action = blocker ? todo.join('; ') : info;
    return { ...base, change, ...permissions, blocker, ...(action ? { action } : {}) };
  });
  for (const request of comparison.stale) {
    const key = secretKey(request);
    requests.push({
      namespace: CREDENTIALS_REQUESTS_NAMESPACE,
      name: request.name,
      secret: { ...request.secretRef },
      change: 'stale',
      role: state.secrets.get(key)?.role ?? null,
      blocker: false,
      action: `the next release drops this request; after the upgrade, Secret ${key} and its IAM role may be removed (nothing does it in Manual mode)`,
    });
  }
  return { requests, blockers: requests.filter((entry) => entry.blocker).length };
}

/** The table a person reads: request, Secret, change, role, what to do. */
export function renderPreflightTable(report: PreflightReport): string {
  const rows = report.requests.map((e) =>
    [
      e.name,
      `${e.secret.namespace}/${e.secret.name}`,
      e.blocker ? `${e.change} (blocker)` : e.change,
      e.role ?? '-',
      [
        e.added && `+${e.added.join(' +')}`,
        e.removed && `-${e.removed.join(' -')}`,
        e.conditionChanged && `condition changed: ${e.conditionChanged.join(', ')}`,
        e.action,
      ]
        .filter(Boolean)
        .join('; ') || '-',
    ].map((cell) => escapeControl(cell)),
  );
  const header = ['REQUEST', 'SECRET', 'CHANGE', 'ROLE', 'WHAT TO DO'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const summary =
    report.blockers === 0 ? 'Nothing blocks the upgrade.' : `${report.blockers} request(s) block the upgrade; do what the table says, then rerun preflight.`;
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${summary}\n`;
}
