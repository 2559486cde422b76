import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real Prometheus processes; two cores are all we have.
    fileParallelism: true,
    maxWorkers: 2,
    // No test is timed (docs/testing.md: tests wait for events, never for durations). These bounds
    // only end a test that hangs, far above anything a test needs on two busy cores.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Fails the run when a process a test spawned is still alive at the end (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
  },
});
