/**
 * Setup file of the `controller-postgres` vitest project: every test file gets a fresh database on
 * the run's PostgreSQL server, named in MSEG_TEST_DB (testController() and the tests that start a
 * controller read it), and dropped after the file.
 */
import { afterAll } from 'vitest';
import { createTestDatabase } from './postgres.js';

const server = process.env.MSEG_TEST_PG_URL;
if (!server) throw new Error('MSEG_TEST_PG_URL is not set: the vitest global setup starts PostgreSQL');
const database = await createTestDatabase(server);
process.env.MSEG_TEST_DB = database.url;
afterAll(() => database.drop());
