import { execFileSync } from 'node:child_process';
import { startTestPostgres } from './packages/controller/test/support/postgres.js';

/**
 * Tests that run the CLIs need the built packages; build them once per run. The controller suite
 * also runs on PostgreSQL: a throwaway server on loopback lives for the run, its URL in
 * MSEG_TEST_PG_URL (test workers are forked after this and inherit it). An outside server can be
 * used instead by setting MSEG_TEST_PG_URL before `npm test`.
 */
export default async function setup(): Promise<() => void> {
  execFileSync('bash', ['scripts/build.sh'], { stdio: 'inherit' });
  if (process.env.MSEG_TEST_PG_URL) return () => {};
  const pg = await startTestPostgres();
  process.env.MSEG_TEST_PG_URL = pg.url;
  // Teardown runs when the run ends, failed or not; the exit hook covers an interrupted run.
  process.once('exit', pg.stop);
  return () => {
    process.off('exit', pg.stop);
    pg.stop();
  };
}
