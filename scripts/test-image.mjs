// npm run test:image [-- --json]: builds the image with podman from debootstrap-made base images
// and runs it as OpenShift does (test/image/podman-image.spec.ts), then prints the image size and
// how long it took; with --json, those figures as one JSON line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const json = process.argv.includes('--json');
const dir = mkdtempSync(join(tmpdir(), 'ctr-test-image-'));
const figuresFile = join(dir, 'figures.json');
const started = Date.now();
const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.image.config.ts'], {
  cwd: root,
  stdio: ['ignore', json ? 'ignore' : 'inherit', 'inherit'],
  env: { ...process.env, CTR_IMAGE_FIGURES: figuresFile },
});
let figures = {};
try {
  figures = JSON.parse(readFileSync(figuresFile, 'utf8'));
} catch {}
rmSync(dir, { recursive: true, force: true });
figures.passed = r.status === 0;
figures.seconds = Math.round((Date.now() - started) / 100) / 10;
if (json) console.log(JSON.stringify(figures));
else
  console.log(
    `image: ${figures.imageMB ?? '?'} MB (${figures.imageBytes ?? '?'} bytes); test:image ${figures.passed ? 'passed' : 'FAILED'} in ${figures.seconds} s`,
  );
process.exit(r.status ?? 1);
