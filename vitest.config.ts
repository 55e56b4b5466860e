import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Builds dist/ first: the end-to-end tests run the built bin/cap-token-refresh.
    globalSetup: ['./test/support/build-once.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
