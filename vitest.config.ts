import { defineConfig } from 'vitest/config';

/** Tests that start processes (Prometheus, promtool, the service, the model process, Chromium, Go tools). */
const processTests = ['test/integration/**/*.test.ts', 'test/chart/**/*.test.ts', 'test/dashboards/**/*.test.ts', 'test/alerts/**/*.test.ts', 'test/deploy/**/*.test.ts'];

export default defineConfig({
  test: {
    // Two cores are all CI has (docs/testing.md "How the suite is kept fast").
    fileParallelism: true,
    maxWorkers: 2,
    // No test is timed (docs/testing.md: tests wait for events, never for durations). These bounds
    // only end a test that hangs, far above anything a test needs on two busy cores.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Fails the run when a process a test spawned is still alive at the end (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // Every file of a worker shares one module graph instead of importing src/ afresh (a fifth of
    // the suite's CPU, docs/testing.md). Tests keep no global state: each builds its own service,
    // registry, clock, temp dir and processes, and ends them.
    isolate: false,
    projects: [
      {
        extends: true,
        // Sorted before "unit" (vitest orders projects by name): the long files start first, and
        // the many short unit files fill the end of the run on both workers.
        test: { name: 'integration', include: processTests },
      },
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: processTests },
      },
    ],
  },
});
