// Builds the one bundle that bin/cap-token-refresh runs. Cluster-only code is split
// into chunks loaded on demand, so commands that never touch a cluster start fast.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Start clean: chunk names carry content hashes, so old ones would pile up.
await rm('dist', { recursive: true, force: true });

await build({
  entryPoints: { 'cap-token-refresh': 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  // Smaller code parses faster: every run of the CronJob pays the start-up.
  minify: true,
  alias: { 'node-fetch': './scripts/node-fetch-builtin.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __ctrCreateRequire } from 'node:module'; const require = __ctrCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
