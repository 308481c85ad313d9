import { configDefaults, defineConfig } from 'vitest/config';

// Options every project shares. Not `extends: true`: that would also copy globalSetup into each
// project and build (and start PostgreSQL) once per project.
const common = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    // Build + PostgreSQL, then a Docker engine for the agent's container tests.
    globalSetup: ['./vitest.global-setup.ts', './packages/agent/test/helpers/docker-setup.ts'],
    // Stopping the dockerd a run started (its containers, containerd) takes up to 20 s.
    teardownTimeout: 30_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        test: {
          ...common,
          name: 'default',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'packages/web/src/**'],
        },
      },
      // The web UI's component tests: a DOM (jsdom), Testing Library's matchers, HTTP mocked with msw.
      {
        test: {
          ...common,
          name: 'web',
          environment: 'jsdom',
          include: ['packages/web/src/**/*.test.{ts,tsx}'],
          setupFiles: ['./packages/web/src/testing/setup.ts'],
        },
      },
      // The whole controller suite again on PostgreSQL, a fresh database per file (MSEG_TEST_DB).
      {
        test: {
          ...common,
          name: 'controller-postgres',
          include: ['packages/controller/src/**/*.test.ts', 'packages/controller/test/**/*.test.ts'],
          setupFiles: ['./packages/controller/test/support/pg-database.setup.ts'],
        },
      },
    ],
  },
});
