import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../test/support/fixtures.js';
import { runInProcess } from '../../test/support/run-in-process.js';
import { makeTestTempDir } from '../../test/support/temp-dir.js';
import { StdinTooLargeError } from '../commands/context.js';
import { streamContext } from './stream-context.js';
import { VERSION } from './version.js';

/** A stream that keeps what is written to it. */
function sink() {
  const written: string[] = [];
  const stream = { write: (chunk: string | Uint8Array) => written.push(Buffer.from(chunk).toString('utf8')) > 0 } as unknown as NodeJS.WritableStream;
  return { stream, written };
}

function contextOver(stdin: Buffer[] = []) {
  const out = sink();
  const err = sink();
  const ctx = streamContext({ env: {}, cwd: '/', stdin: () => Readable.from(stdin), stdout: out.stream, stderr: err.stream, stderrIsTTY: false });
  return { ctx, out, err };
}

describe('the context the bundle and the harness share', () => {
  it.each([
    ['through the context', (ctx: ReturnType<typeof contextOver>) => ctx.ctx.stdout('pass q%7 here\n')],
    ['written to the stream by anything else (commander, a library)', (ctx: ReturnType<typeof contextOver>) => ctx.out.stream.write('pass q%7 here\n')],
    ['as bytes', (ctx: ReturnType<typeof contextOver>) => ctx.out.stream.write(Buffer.from('pass q%7 here\n'))],
  ])('redacts a registered secret of any length %s', (_how, write) => {
    const c = contextOver();
    c.ctx.redactor.add('q%7');
    write(c);
    expect(c.out.written.join('')).toBe('pass [REDACTED] here\n');
  });

  it('guards stderr too, and lets through only what reveal writes on purpose', () => {
    const c = contextOver();
    c.ctx.redactor.add('q%7');
    c.ctx.stderr('q%7\n');
    c.ctx.redactor.reveal(() => c.ctx.stdout('q%7\n'));
    c.ctx.stdout('q%7\n');
    expect(c.err.written).toEqual(['[REDACTED]\n']);
    expect(c.out.written).toEqual(['q%7\n', '[REDACTED]\n']);
  });

  it.each<[string, Buffer[], number | undefined, string | typeof StdinTooLargeError]>([
    ['all of standard input', [Buffer.from('ab'), Buffer.from('cd')], undefined, 'abcd'],
    ['up to the limit', [Buffer.from('ab'), Buffer.from('cd')], 4, 'abcd'],
    ['one byte over the limit is refused', [Buffer.from('ab'), Buffer.from('cde')], 4, StdinTooLargeError],
    ['nothing', [], 4, ''],
  ])('readStdin reads %s', async (_what, chunks, maxBytes, expected) => {
    const read = contextOver(chunks).ctx.readStdin(maxBytes);
    if (typeof expected === 'string') expect((await read).toString()).toBe(expected);
    else await expect(read).rejects.toBeInstanceOf(expected);
  });
});

describe('runInProcess', () => {
  it.each<[string[], number, 'stdout' | 'stderr', RegExp]>([
    [['--version'], 0, 'stdout', new RegExp(`^${VERSION.replace(/\./g, '\\.')}\n$`)],
    [['status', '--help'], 0, 'stdout', /--certs-dir <dir>/],
    [['no-such-command'], 2, 'stderr', /unknown command 'no-such-command'/],
    [['status', '--renew-before', 'soon', '--manifests', '.'], 2, 'stderr', /^error: --renew-before soon is not a duration/],
    [['status', '--manifests', 'no-such-folder'], 3, 'stderr', /^error: the manifests folder .*no-such-folder does not exist/],
  ])('%j exits %i and writes to %s', async (args, code, stream, text) => {
    const r = await runInProcess(args);
    expect(r.code).toBe(code);
    expect(r[stream]).toMatch(text);
    expect(r[stream === 'stdout' ? 'stderr' : 'stdout']).toBe('');
  });

  it('takes its standard input and cwd', async () => {
    const cwd = await makeTestTempDir('ctr-in-process-');
    const input = await readFile(join(FIXTURES, 'credentials-requests', 'cluster-api.yaml'), 'utf8');
    const r = await runInProcess(['generate', '--credentials-requests', '-', '--feature-gates', 'ClusterAPIMachineManagement,ClusterAPIMachineManagementAWS'], {
      stdin: input,
      cwd,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('openshift-cluster-api/capa-manager-bootstrap-credentials');
    expect(await readdir(join(cwd, 'manifests'))).toContain('cap-cronjob.yaml');
  });

  it('a Date is a fake clock: status judges by it', async () => {
    const dir = await makeTestTempDir('ctr-in-process-');
    const expiration = '2030-01-01T01:00:00Z';
    await writeFile(
      join(dir, 'a.yaml'),
      `kind: Secret\nmetadata:\n  name: a\n  namespace: ns\n  annotations:\n    cap-token-refresh/role: r\n    cap-token-refresh/issued-role: r\n    cap-token-refresh/refreshed-at: "2030-01-01T00:00:00Z"\n    cap-token-refresh/expiration: "${expiration}"\nstringData:\n  aws_access_key_id: ASIAEXAMPLE\n  aws_secret_access_key: s\n  credentials: "[default]\\naws_access_key_id = ASIAEXAMPLE\\naws_secret_access_key = s\\naws_session_token = t\\n"\n`,
    );
    const verdictAt = async (now: string) =>
      JSON.parse((await runInProcess(['status', '--manifests', dir, '-o', 'json'], { now: new Date(now) })).stdout).targets[0];
    expect(await verdictAt('2030-01-01T00:10:00Z')).toMatchObject({ verdict: 'ok', timeLeftSeconds: 3000 });
    expect(await verdictAt('2030-01-01T00:50:00Z')).toMatchObject({ verdict: 'due', timeLeftSeconds: 600 });
    expect(await verdictAt('2030-01-01T01:00:01Z')).toMatchObject({ verdict: 'expired', timeLeftSeconds: -1 });
  });
});
