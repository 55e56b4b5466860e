import { defineConfig } from 'vitest/config';

// `npm run test:image` only (scripts/test-image.mjs): builds and runs the container image with podman.
export default defineConfig({
  test: {
    include: ['test/image/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
  },
});
