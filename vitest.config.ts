import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // Sandbox scenarios install a virtual clock per test file; isolate files from each other.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
