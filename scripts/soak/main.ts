// `npm run soak [-- --json] [--days N] [--seed N]`: prints the figures of the simulated span.
import { runSoak, type SoakResult } from './simulate.js';

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`soak: ${flag} takes a positive number`);
    return n;
  };
  const result = await runSoak({ days: value('--days', 30), seed: value('--seed', 1), progress: (line) => process.stderr.write(`soak: ${line}\n`) });
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : render(result));
  return 0;
}

function render(r: SoakResult): string {
  const lines = [
    `Soak: ${r.days} simulated days, seed ${r.seed}, schedule "${r.schedule}", renew before ${r.renew_before}, CAP retried for ${r.retry_for}; ${r.wall_seconds} s of wall time`,
    `runs ${r.runs} (failed ${r.failed_runs}, skipped ${r.skipped_runs}, overlapping pairs ${r.overlapping_runs})`,
    `expired seconds outside the revoked role: ${r.expired_seconds} (goal 0); of credentials that outlive the longest outage: ${r.expired_seconds_outliving_outages}; of the revoked role: ${r.expired_seconds_revoked}`,
    `least time left on any Secret: ${r.least_seconds_left ?? '-'} s`,
    `max writes per Secret per lifetime: ${r.max_writes_per_secret_per_lifetime} (goal <= 1.5); max CAP calls per role per lifetime: ${r.max_cap_calls_per_role_per_lifetime} (goal <= 1.5)`,
    '',
    'TARGET                                                              ROLE                 LIFETIME  WRITES/LT  CAP/LT  EXPIRED_S  LEAST_LEFT_S',
    ...r.targets.map(
      (t) =>
        `${`${t.namespace}/${t.name}`.padEnd(68)}${t.role.padEnd(21)}${String(t.lifetime_seconds).padEnd(10)}${String(t.writes_per_lifetime).padEnd(11)}${String(t.cap_calls_per_lifetime).padEnd(8)}${String(t.expired_seconds).padEnd(11)}${t.least_seconds_left ?? '-'}${t.revoked ? '  (revoked for a day)' : ''}`,
    ),
    '',
    'Failed runs, by what failed:',
    ...Object.entries(r.failures).map(([why, n]) => `  ${n} x ${why}`),
  ];
  return `${lines.join('\n')}\n`;
}
