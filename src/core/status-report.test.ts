import { describe, expect, it } from 'vitest';
import {
  buildStatusReport,
  type CronJobHealthReport,
  createJudge,
  describeRecordedSkew,
  renderStatusJson,
  renderStatusTable,
  type StatusExtras,
  type StatusTarget,
  statusSucceeded,
  toStatusTarget,
  type Verdict,
} from './status-report.js';

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
      { clientCertificate: { file: '/c/tls.crt', subject: 'CN=client', notAfter: '2031-01-01T00:00:00Z' } },
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

const FIRING: CronJobHealthReport = {
  findings: [{ alert: 'CapTokenRefreshFailing', severity: 'critical', summary: 'the refresh failed', description: 'look at the last Job' }],
  notes: ['the CronJob has no --renew-before'],
};
const HEALTHY: CronJobHealthReport = { findings: [], notes: [] };

describe('status rendering', () => {
  const judge = createJudge({ renewBeforeMs: 0, force: false });
  const ok: StatusTarget = { ...base, refreshedAt: at(-10), expiration: at(50) };

  // [what, targets, extras, lines the table holds (each a whole line), lines it must not hold, succeeded]
  const cases: [string, StatusTarget[], StatusExtras, string[], (RegExp | string)[], boolean][] = [
    ['no target', [], {}, ['No managed targets found.'], [/^TARGET/m, /CAP client certificate/], true],
    [
      'a certificate that expires later, and one that has expired',
      [ok],
      { clientCertificate: { file: '/c/tls.crt', subject: 'CN=a', notAfter: '2030-06-03T12:00:00Z' } },
      ['CAP client certificate CN=a (/c/tls.crt) expires 2030-06-03T12:00:00Z (in 2d00h)'],
      [/EXPIRED/],
      true,
    ],
    [
      'an expired client certificate',
      [ok],
      { clientCertificate: { file: '/certs/client.p12', subject: 'CN=b', notAfter: '2030-06-01T11:00:00Z' } },
      ['CAP client certificate CN=b (/certs/client.p12) EXPIRED on 2030-06-01T11:00:00Z; renew it, the next refresh will fail'],
      [/expires 2030/],
      true,
    ],
    ['a healthy CronJob', [ok], { cronJob: HEALTHY }, ['CronJob cap-token-refresh/cap-token-refresh: no alert would fire.'], [/^ALERT/m], true],
    [
      'an alert that would fire fails status though every target is ok',
      [ok],
      { cronJob: FIRING },
      ['ALERT CapTokenRefreshFailing (critical): the refresh failed', '  look at the last Job', 'note: the CronJob has no --renew-before'],
      [/no alert would fire/],
      false,
    ],
    [
      'a recorded clock skew AWS still accepts',
      [{ ...ok, clockOffsetSeconds: 90 }],
      {},
      [`clock skew: ns/secret: ${describeRecordedSkew(90)}`],
      [/AWS will refuse/],
      true,
    ],
    [
      'a recorded clock skew AWS refuses',
      [{ ...ok, clockOffsetSeconds: -600 }],
      {},
      [
        "clock skew: ns/secret: at its last refresh the refreshing node's clock was ahead of CAP's by 600s; AWS will refuse requests signed on that node (SigV4 allows 5 minutes of skew); fix that node's time source (NTP/chrony)",
      ],
      [],
      true,
    ],
    [
      'control characters in a name and a problem are escaped, never printed',
      [{ namespace: 'ns', name: 'a\u001b[2Jb', problem: 'bad\rline' }],
      {},
      ['unmanaged: ns/a\\x1b[2Jb: bad\\rline'],
      ['\u001b', '\r'],
      false,
    ],
  ];

  it.each(cases)('%s', (_what, targets, extras, lines, absent, succeeded) => {
    const report = buildStatusReport(targets, judge, NOW, extras);
    const table = renderStatusTable(report, NOW);
    expect(table.endsWith('\n')).toBe(true);
    const tableLines = table.split('\n');
    for (const line of lines) expect(tableLines).toContain(line);
    for (const pattern of absent) {
      if (typeof pattern === 'string') expect(table).not.toContain(pattern);
      else expect(table).not.toMatch(pattern);
    }
    expect(statusSucceeded(report)).toBe(succeeded);
    // The JSON form carries the same report, whole.
    expect(JSON.parse(renderStatusJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(renderStatusJson(report).endsWith('}\n')).toBe(true);
  });

  it.each<[string, StatusTarget, Record<string, unknown>, string[]]>([
    [
      'an ok target: the DESIGN.md fields, no error, no note',
      ok,
      { namespace: 'ns', name: 'secret', role: 'r', result: 'fresh', verdict: 'ok', expiration: at(50), timeLeftSeconds: 3000, refreshedAt: at(-10) },
      ['error', 'note', 'file', 'clockOffsetSeconds'],
    ],
    [
      'a due target carries its note, not an error',
      { ...base, file: '/m/a.yaml' },
      {
        result: 'fresh',
        verdict: 'due',
        expiration: null,
        timeLeftSeconds: null,
        refreshedAt: null,
        file: '/m/a.yaml',
        note: expect.stringMatching(/^never refreshed/),
      },
      ['error'],
    ],
    [
      'an unmanaged target fails with its problem as the error',
      { namespace: '', name: '/m/b.yaml', problem: 'it is not valid YAML', clockOffsetSeconds: 120 },
      { role: null, result: 'failed', verdict: 'unmanaged', error: 'it is not valid YAML', clockOffsetSeconds: 120 },
      ['note'],
    ],
  ])('JSON: %s', (_what, target, fields, absentKeys) => {
    const json = JSON.parse(renderStatusJson(buildStatusReport([target], judge, NOW)));
    expect(json.targets[0]).toMatchObject(fields);
    for (const key of absentKeys) expect(json.targets[0]).not.toHaveProperty(key);
    expect(json).not.toHaveProperty('clientCertificate');
    expect(json).not.toHaveProperty('cronJob');
  });

  it('toStatusTarget keeps what status judges and drops where a refresh would write', () => {
    const fromRefresh = { ...ok, agency: 'A', mission: 'M', account: 'acct', file: '/m/a.yaml', docIndex: 2, role: '', dataProblem: '' };
    expect(toStatusTarget(fromRefresh)).toEqual({ namespace: 'ns', name: 'secret', issuedRole: 'r', refreshedAt: at(-10), expiration: at(50) });
  });
});
