// A role, agency or mission with CR, LF, ESC or another control character must not inject
// lines or terminal sequences into the text report, the text log or an error (issue 13,
// should fix): every text output escapes them (`\n`, `\r`, `\x1b`); JSON escapes its own.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCapFixture, type CapFixture } from './support/cap-fixture.js';
import { makeManifestDir } from './support/manifest-dir.js';
import type { CliResult } from './support/run-cli.js';
import { runInProcess } from './support/run-in-process.js';

// In YAML's double-quoted style: CR LF, a forged report row, ESC (\e) with a sequence that
// clears the line, NEL (a C1 line break), DEL and a BEL.
const EVIL_ROLE_YAML = '"ok\\r\\nteam/forged  forged-role  refreshed  59m\\e[2K\\x85\\x7f\\a"';
const FORGED = 'team/forged';

// No control character besides the line breaks of the output's own lines.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let cap: CapFixture;

beforeAll(async () => {
  cap = await startCapFixture();
});

afterAll(async () => {
  await cap?.stop();
});

function expectNoInjection(r: CliResult): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    expect(text, stream).not.toMatch(CONTROL);
    // The forged row never starts a line of its own.
    for (const line of text.split('\n')) expect(line.trimStart().startsWith(FORGED), `${stream}: ${line}`).toBe(false);
  }
}

it('refresh: the text report and the text log escape a role with CR, LF and ESC', async () => {
  const dir = await makeManifestDir([
    { file: 'a.yaml', namespace: 'team', name: 'evil', role: EVIL_ROLE_YAML },
    { file: 'b.yaml', namespace: 'team', name: 'plain', role: 'plain-role' },
  ]);
  const r = await runInProcess(['refresh', '--manifests', dir, '--log-format', 'text'], { env: cap.env });
  expect(r.code, r.stderr).toBe(0);
  expectNoInjection(r);
  // The role is shown, escaped, in the report row and the log line.
  expect(r.stdout).toContain('ok\\r\\nteam/forged  forged-role  refreshed  59m\\x1b[2K\\x85\\x7f\\x07');
  expect(r.stderr).toContain('refreshed target=team/evil role="ok\\r\\nteam/forged');
  // Two targets, one header: three lines.
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
});

it('refresh: a failed target with such a role has its error escaped as well', async () => {
  cap.sim.setBehaviour('ok\r\nteam/forged  forged-role  refreshed  59m\x1b[2K\x85\x7f\x07', { kind: 'status', status: 403 });
  try {
    const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'team', name: 'evil', role: EVIL_ROLE_YAML }]);
    const r = await runInProcess(['refresh', '--manifests', dir, '--log-format', 'text'], { env: cap.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('failed');
    expectNoInjection(r);
  } finally {
    cap.sim.setBehaviour('ok\r\nteam/forged  forged-role  refreshed  59m\x1b[2K\x85\x7f\x07', { kind: 'ok' });
  }
});

it('status: the text table escapes a role with CR, LF and ESC', async () => {
  const dir = await makeManifestDir([{ file: 'a.yaml', namespace: 'team', name: 'evil', role: EVIL_ROLE_YAML }]);
  const r = await runInProcess(['status', '--manifests', dir, '--log-format', 'text'], { env: cap.env });
  expectNoInjection(r);
  expect(r.stdout).toContain('ok\\r\\nteam/forged');
});

it('credential-process: a role, agency and mission with LF and ESC are escaped in the error line and the text log', async () => {
  const role = `r\n${FORGED} x\x1b[2K`;
  cap.sim.setBehaviour(role, { kind: 'status', status: 403 });
  const r = await runInProcess(
    ['credential-process', '--role', role, '--no-cache', '--log-format', 'text', '--agency', `A\n${FORGED}\x1b[2K`, '--mission', 'M\r\x9b31m'],
    {
      env: cap.env,
    },
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('role r\\nteam/forged x\\x1b[2K');
  expectNoInjection(r);
});
