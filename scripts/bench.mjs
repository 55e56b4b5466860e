// `npm run bench [-- --json] [--runs N] [--shell-runs N] [--concurrency N]`: the benchmark of
// issue 5. Needs `npm run build` first (it runs the built bin/cap-token-refresh) and kubectl,
// jq and curl on the PATH (the shell way it compares against). The benchmark itself is
// TypeScript that uses the CAP simulator (src/sim) and the Kubernetes API test server
// (test/support); it is bundled here with esbuild, as scripts/build.mjs bundles the CLI, into a
// temporary folder that is removed afterwards. See scripts/bench/run.ts for what is measured.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(root, 'dist', 'cap-token-refresh.js'))) {
  console.error('bench: dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const out = await mkdtemp(join(tmpdir(), 'ctr-bench-build-'));
try {
  await build({
    // The bench, and the CAP simulator's thread (a second, self-contained file).
    entryPoints: { bench: join(root, 'scripts', 'bench', 'run.ts'), 'cap-worker': join(root, 'scripts', 'bench', 'cap-worker.ts') },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: { js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const { main } = await import(pathToFileURL(join(out, 'bench.mjs')).href);
  process.exitCode = await main({ root, capWorker: join(out, 'cap-worker.mjs'), argv: process.argv.slice(2) });
} finally {
  await rm(out, { recursive: true, force: true });
}
