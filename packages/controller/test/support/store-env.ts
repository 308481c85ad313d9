/** Which store the controller tests of this run use (see pg-database.setup.ts). */

/** PostgreSQL URL of this test file's database, or undefined when the file runs on SQLite. */
export const testDbUrl: string | undefined = /^postgres(ql)?:\/\//.test(process.env.MSEG_TEST_DB ?? '')
  ? process.env.MSEG_TEST_DB
  : undefined;

export const onPostgres = testDbUrl !== undefined;
