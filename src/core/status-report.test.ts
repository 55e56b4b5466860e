import { describe, expect, it } from 'vitest';
import { buildStatusReport, createJudge, renderStatusTable, statusSucceeded, type StatusTarget, type Verdict } from '../src/commands/status.js';

const NOW = new Date('2030-06-01T12:00:00Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const base = { namespace: 'ns', name: 'secret', role: 'r', issuedRole: 'r' };
/** base without the issued-role annotation (a Secret seeded by fill). */
const { issuedRole: _, ...seeded } = base;

const cases: [string, StatusTarget, Verdict, number][] = [
  ['fresh credentials are ok', { ...base, refreshedAt: at(-10), expiration: at(50) }, 'ok', 0],
  ['less than a third of the lifetime left is due', { ...base, refreshedAt: at(-50), expiration: at(10) }, 'due', 0],
  ['no expiration annotation is due (never refreshed)', { ...base }, 'due', 0],
  ['an unreadable expiration is due', { ...base, expiration: 'tomorrow' }, 'due', 0],
  ['past the expiration is expired', { ...base, refreshedAt: at(-70), expiration: at(-10) }, 'expired', 1],
  ['seeded by fill (no issued-role) is due', { ...seeded, refreshedAt: at(-10), expiration: at(50) }, 'due', 0],
  ['issued for another role is due', { ...base, issuedRole: 'old', refreshedAt: at(-10), expiration: at(50) }, 'due', 0],
  ['data that cannot serve is due', { ...base, dataProblem: 'credentials is empty or missing', refreshedAt: at(-10), expiration: at(50) }, 'due', 0],
  ['seeded and expired is expired', { ...seeded, refreshedAt: at(-70), expiration: at(-10) }, 'expired', 1],
  ['no role is unmanaged', { namespace: 'ns', name: 'secret' }, 'unmanaged', 1],
  ['an unreadable file is unmanaged', { namespace: '', name: '/m/broken.yaml', problem: 'it is not valid YAML' }, 'unmanaged', 1],
];

describe('status verdicts', () => {
  const judge = createJudge({ renewBeforeMs: 0, force: false });
  it.each(cases)('%s', (_name, target, verdict, exit) => {
    expect(judge(target, NOW).verdict).toBe(verdict);
    const report = buildStatusReport([target], judge, NOW);
    const t = report.targets[0]!;
    expect(t.verdict).toBe(verdict);
    expect(t.result).toBe(exit ? 'failed' : 'fresh');
    if (exit) expect(t.error).toBeTruthy();
    else expect(t.error).toBeUndefined();
    expect(statusSucceeded(report)).toBe(exit === 0);
  });

  it.each([
    ['seeded', { seeded: true }, /^seeded: no cap-token-refresh\/issued-role annotation .*asks CAP for its own role/],
    ['role changed', { issuedRole: 'old' }, /^role changed: issued for "old", the cap-token-refresh\/role annotation now says "r"/],
    ['empty', { dataProblem: 'aws_access_key_id is empty or missing' }, /^empty: its data cannot serve the operator \(aws_access_key_id is empty or missing\)/],
  ])('a %s Secret is due with the reason', (_, extra, note) => {
    const { seeded: withoutIssuedRole, ...rest } = { seeded: false, ...extra };
    const t: StatusTarget = { ...(withoutIssuedRole ? seeded : base), refreshedAt: at(-10), expiration: at(50), ...rest };
    const report = buildStatusReport([t], judge, NOW);
    expect(report.targets[0]).toMatchObject({ verdict: 'due', note: expect.stringMatching(note), expiration: at(50) });
    expect(renderStatusTable(report, NOW)).toMatch(/^due: ns\/secret: /m);
  });

  it('--renew-before makes an ok target due', () => {
    const t = { ...base, refreshedAt: at(-10), expiration: at(50) };
    expect(createJudge({ renewBeforeMs: 3600_000, force: false })(t, NOW).verdict).toBe('due');
  });

  it('reports time left, last refresh and the client certificate', () => {
    const report = buildStatusReport(
      [
        { ...base, refreshedAt: at(-10), expiration: at(50) },
        { ...base, name: 'old', refreshedAt: at(-70), expiration: at(-10) },
      ],
      judge,
      NOW,
      {
        file: '/c/tls.crt',
        subject: 'CN=client',
        notAfter: '2031-01-01T00:00:00Z',
      },
    );
    expect(report.targets.map((t) => [t.timeLeftSeconds, t.refreshedAt, t.expiration])).toEqual([
      [3000, at(-10), at(50)],
      [-600, at(-70), at(-10)],
    ]);
    expect(report.clientCertificate?.notAfter).toBe('2031-01-01T00:00:00Z');
    const table = renderStatusTable(report, NOW);
    expect(table).toMatch(/^TARGET\s+ROLE\s+VERDICT\s+EXPIRATION\s+TIME LEFT\s+LAST REFRESH$/m);
    expect(table).toMatch(/^ns\/secret\s+r\s+ok\s+2030-06-01T12:50:00Z\s+50m\s+10m ago$/m);
    expect(table).toMatch(/^ns\/old\s+r\s+expired\s+2030-06-01T11:50:00Z\s+-10m\s+1h10m ago$/m);
    expect(table).toMatch(/^expired: ns\/old: the credentials expired at 2030-06-01T11:50:00Z/m);
    expect(table).toContain('CAP client certificate CN=client (/c/tls.crt) expires 2031-01-01T00:00:00Z');
  });
});
