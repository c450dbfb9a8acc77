import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/support/setup.ts'],
    globalSetup: ['test/support/warm-iam-cache.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Sandbox scenarios install a virtual clock per test file; isolate files from each other.
    pool: 'forks',
    // The first sandbox of a fleet variant synthesizes its stack for the IAM policies (cached afterwards).
    testTimeout: 180_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      // The scenario suites again, with EventBridge delivering as AWS may: duplicates, reordering, varied latency.
      {
        extends: true,
        test: { name: 'at-least-once', include: ['test/state-machines/**/*.test.ts'], env: { ASSURE_SANDBOX_DELIVERY: 'at-least-once' } },
      },
    ],
  },
});
