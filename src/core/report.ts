import { escapeControl } from './display-text.js';
import { formatDuration } from './duration.js';

export type TargetResult = 'refreshed' | 'fresh' | 'failed';

/** One line of the machine-readable report (docs/DESIGN.md: `--output json`). */
export interface TargetReport {
  namespace: string;
  name: string;
  role: string | null;
  result: TargetResult;
  /** RFC 3339 expiration of the credentials the target holds after the run, when known. */
  expiration: string | null;
  error?: string;
  /** CAP sent no Expiration; `expiration` was assumed from --assume-lifetime. */
  expirationAssumed?: true;
  /** Manifest file, for targets on disk. */
  file?: string;
}

export interface Report {
  targets: TargetReport[];
}

export function reportSucceeded(report: Report): boolean {
  return report.targets.every((t) => t.result !== 'failed');
}

export function renderReportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The short human table: target, role, result, expires in; then one line per failure. */
export function renderReportTable(report: Report, now: Date): string {
  if (report.targets.length === 0) return 'No managed targets found.\n';
  const rows = report.targets.map((t) => [
    t.namespace ? `${t.namespace}/${t.name}` : t.name,
    t.role ?? '-',
    t.result,
    t.expiration ? `${formatDuration(Date.parse(t.expiration) - now.getTime())}${t.expirationAssumed ? ' (assumed)' : ''}` : '-',
  ]);
  const lines = renderColumns([['TARGET', 'ROLE', 'RESULT', 'EXPIRES IN'], ...rows]);
  const failures = report.targets.filter((t) => t.result === 'failed');
  if (failures.length > 0) {
    lines.push('', `${failures.length} of ${report.targets.length} target(s) failed:`);
    for (const t of failures) lines.push(`  ${escapeControl(t.namespace ? `${t.namespace}/${t.name}` : t.name)}: ${escapeControl(t.error ?? 'failed')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Rows as aligned columns; every cell is escaped (escapeControl), so no value adds a line or moves the cursor. */
export function renderColumns(given: string[][]): string[] {
  const rows = given.map((r) => r.map((cell) => escapeControl(cell)));
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
