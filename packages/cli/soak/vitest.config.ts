import { defineConfig } from 'vitest/config';

// `npm run soak` (scripts/soak.sh builds first): the one long run, never part of `npm test`.
export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['packages/cli/soak/soak.test.ts'],
    testTimeout: 4 * 60 * 60_000,
    hookTimeout: 20 * 60_000,
    pool: 'forks',
  },
});
