import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { maskAccessKeyId } from '../core/credentials.js';
import { ConfigError, EXIT_OK } from '../core/errors.js';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { startCapSimulator } from '../sim/cap-simulator.js';
import { createThrowawayPki } from '../sim/pki.js';
import { renderSampleManifests } from '../sim/sample-manifests.js';
import type { CommandContext } from './context.js';
import { refresh } from './refresh.js';

export interface DemoOptions {
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

/**
 * Makes a throwaway PKI, starts the CAP simulator on 127.0.0.1, writes sample operator
 * Secret manifests, and refreshes them twice through the same code path users run: the
 * first run writes every manifest, the second finds them fresh and writes nothing.
 */
export async function demo(opts: DemoOptions, ctx: CommandContext): Promise<number> {
  const dir = await makeDemoFolder(ctx.env.TMPDIR || tmpdir());
  const pkiDir = join(dir, 'pki');
  const manifestsDir = join(dir, 'manifests');
  await mkdir(pkiDir, { mode: 0o700 });
  await mkdir(manifestsDir, { mode: 0o700 });

  ctx.stdout(`Demo folder: ${dir}\n\n1. A throwaway PKI (CA, CAP server certificate, client certificate) in ${pkiDir}\n`);
  try {
    return await runDemo(opts, ctx, pkiDir, manifestsDir);
  } finally {
    // The PKI is only for this run; the manifests stay for the user to look at.
    await rm(pkiDir, { recursive: true, force: true });
    ctx.stdout(
      `\nThe throwaway PKI (${pkiDir}) is removed. The manifests stay in ${manifestsDir} (mode 0600; they hold live demo credentials);\n` +
        `remove them with: rm -r ${dir}\n`,
    );
  }
}

/** The demo's folder in the temporary directory; one that cannot be made there is the configuration's fault (TMPDIR), not a bug. */
async function makeDemoFolder(base: string): Promise<string> {
  try {
    return await mkdtemp(join(base, 'cap-token-refresh-demo-'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(
      `the demo cannot make its folder in the temporary directory ${base} (${code}); set TMPDIR to a folder you can write to, for example TMPDIR=$HOME/tmp`,
    );
  }
}

async function runDemo(opts: DemoOptions, ctx: CommandContext, pkiDir: string, manifestsDir: string): Promise<number> {
  const pki = createThrowawayPki(ctx.now());
  const files = { ca: join(pkiDir, 'ca.crt'), cert: join(pkiDir, 'client.crt'), key: join(pkiDir, 'client.key') };
  await writeFile(files.ca, pki.ca.certPem, { mode: 0o644 });
  await writeFile(files.cert, pki.client.certPem, { mode: 0o644 });
  await writeFile(files.key, pki.client.keyPem, { mode: 0o600 });
  ctx.redactor.add(pki.client.keyPem, pki.server.keyPem, pki.ca.keyPem);

  const sim = await startCapSimulator({ server: pki.server, clientCaPem: pki.ca.certPem, delayMs: 50 });
  try {
    ctx.stdout(`2. A CAP simulator demanding client certificates at ${sim.url}/api/v1/credentials\n`);
    const samples = renderSampleManifests('demo');
    const [shown] = samples;
    for (const s of samples) await writeFile(join(manifestsDir, s.file), s.text, { mode: 0o600 });
    ctx.stdout(`3. ${samples.length} operator Secret manifests, as \`generate\` writes them, in ${manifestsDir}\n\n`);

    const common = {
      capUrl: sim.url,
      agency: 'DEMO-AGENCY',
      mission: 'DEMO-MISSION',
      cert: files.cert,
      key: files.key,
      ca: files.ca,
      manifests: manifestsDir,
      logFormat: opts.logFormat ?? ('text' as const),
      logLevel: opts.logLevel ?? ('warn' as const),
    };
    ctx.stdout(`$ cap-token-refresh refresh --manifests ${manifestsDir} --cap-url ${sim.url} --cert … --key … --ca …\n`);
    const first = await refresh(common, ctx);
    ctx.stdout(`\nRun it again right away: nothing is due, so nothing is written and CAP is not called.\n`);
    const callsBefore = sim.calls.length;
    const second = await refresh(common, ctx);
    ctx.stdout(
      `\nCAP calls: ${callsBefore} on the first run (one per role), ${sim.calls.length - callsBefore} on the second.\n` +
        (shown ? await describeManifest(join(manifestsDir, shown.file)) : ''),
    );
    return first.exitCode !== EXIT_OK ? first.exitCode : second.exitCode;
  } finally {
    await sim.stop();
  }
}

/** What a refreshed manifest now carries, values hidden but the last four characters of the key id. */
async function describeManifest(path: string): Promise<string> {
  const secret = parse(await readFile(path, 'utf8')) as {
    metadata: { annotations: Record<string, string>; labels?: Record<string, string> };
    stringData: Record<string, string>;
  };
  const a = secret.metadata.annotations;
  return [
    `\n${path} now holds (secret values hidden):`,
    `  annotations  cap-token-refresh/expiration: ${a['cap-token-refresh/expiration']}, cap-token-refresh/refreshed-at: ${a['cap-token-refresh/refreshed-at']}`,
    `  label        cap-token-refresh/managed: "${secret.metadata.labels?.['cap-token-refresh/managed']}"`,
    `  stringData   aws_access_key_id (${maskAccessKeyId(secret.stringData.aws_access_key_id ?? '')}), aws_secret_access_key, credentials ([default] with the session token)`,
    '',
  ].join('\n');
}
