// The short soak: two simulated days (fixed seed) of the real refresh command on the CronJob's
// settings, through CAP outages of up to 20 minutes, API server faults, late, skipped,
// overlapping and cut-off runs, clock drift and a role revoked for a day (scripts/soak/).
// `npm run soak` runs the full 30 days; its figures are in the README.
import { describe, expect, it } from 'vitest';
import { runSoak, type SoakResult } from '../scripts/soak/simulate.js';

let result: SoakResult | undefined;
async function soak(): Promise<SoakResult> {
  result ??= await runSoak({ days: 2, seed: 7 });
  return result;
}

describe('two simulated days of the CronJob', { timeout: 300_000 }, () => {
  it('no Secret whose credentials outlive the longest outage ever held expired credentials', async () => {
    const r = await soak();
    expect(r.runs).toBeGreaterThan(200);
    expect(r.retry_for).toBe('20m');
    const longLived = r.targets.filter((t) => !t.revoked && t.outlives_outages);
    expect(longLived.length).toBeGreaterThanOrEqual(4);
    expect(longLived.map((t) => [t.name, t.expired_seconds])).toEqual(longLived.map((t) => [t.name, 0]));
    expect(r.expired_seconds_outliving_outages).toBe(0);
    // Some time was always left, across outages, API faults and drift.
    for (const t of longLived) expect(t.least_seconds_left).toBeGreaterThan(0);
  });

  // Writes: the 30-minute margin on a 10-minute schedule renews every 30 to 40 minutes (1.5 to 2 per hour); issue 9's bound is 2.
  // CAP calls: the writes, plus the retries (about one a minute) while an outage lasts, plus overlapping runs.
  it('each long-lived Secret is written at most twice per credential lifetime, and CAP asked at most four times', async () => {
    const r = await soak();
    for (const t of r.targets.filter((t) => !t.revoked && t.outlives_outages)) {
      expect(t.writes_per_lifetime, t.name).toBeGreaterThanOrEqual(1);
      expect(t.writes_per_lifetime, t.name).toBeLessThanOrEqual(2);
      expect(t.cap_calls_per_lifetime, t.name).toBeLessThanOrEqual(4);
    }
  });

  it('the revoked role expires alone, and the report says which role and why', async () => {
    const r = await soak();
    const revoked = r.targets.find((t) => t.revoked)!;
    expect(revoked.expired_seconds).toBeGreaterThan(0);
    expect(r.expired_seconds_revoked).toBe(revoked.expired_seconds);
    const why = Object.keys(r.failures).join('\n');
    expect(why).toMatch(new RegExp(`${revoked.role}: CAP does not allow this client certificate to use role ${revoked.role}.*HTTP 403`));
  });
});
