import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Sandbox scenarios install a virtual clock per test file; isolate files from each other.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
