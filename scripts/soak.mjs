// `npm run soak [-- --json] [--days N] [--seed N]`: the time-compressed soak (scripts/soak/simulate.ts).
// It runs the refresh command's code in process, so it is bundled here with esbuild (as the
// benchmark is) into a temporary folder that is removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = await mkdtemp(join(tmpdir(), 'ctr-soak-build-'));
try {
  await build({
    entryPoints: { soak: join(root, 'scripts', 'soak', 'main.ts') },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: { js: "import { createRequire as __soakCreateRequire } from 'node:module'; const require = __soakCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const { main } = await import(pathToFileURL(join(out, 'soak.mjs')).href);
  process.exitCode = await main(process.argv.slice(2));
} finally {
  await rm(out, { recursive: true, force: true });
}
