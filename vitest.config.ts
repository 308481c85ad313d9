import { defineConfig } from 'vitest/config';

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
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        test: { ...common, name: 'default', include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'] },
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
