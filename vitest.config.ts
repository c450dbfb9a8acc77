import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    globalSetup: ['test/support/warm-iam-cache.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Sandbox scenarios install a virtual clock per test file; isolate files from each other.
    pool: 'forks',
    // The first sandbox of a fleet variant synthesizes its stack for the IAM policies (cached afterwards).
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
