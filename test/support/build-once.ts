// vitest globalSetup: builds dist/ once before any test file runs, so a test that runs the
// built CLI (bin/cap-token-refresh) never tests a stale bundle, even under
// `npx vitest run test/x.test.ts`.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: resolve(import.meta.dirname, '..', '..'), stdio: 'inherit' });
}
