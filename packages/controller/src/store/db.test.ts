import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './db.js';
import { SCHEMA_VERSION } from './migrate.js';
import { onPostgres, testDbUrl } from '../../test/support/store-env.js';
import { testDatabase } from '../testing/controller.js';

const dir = mkdtempSync(join(tmpdir(), 'mseg-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The SQLite file store (WAL pragma, data dir); in the controller-postgres project the same
// checks run against this file's PostgreSQL database below instead.
describe.skipIf(onPostgres)('store (SQLite file)', () => {
  it('creates the schema once and reopens without migrating again', async () => {
    const a = await openStore(undefined, dir);
    await a.db.insertInto('config').values({ key: 'k', value: '"v"' }).execute();
    await a.close();
    const b = await openStore(undefined, dir);
    const v = await sql<{ version: number }>`select max(version) as version from schema_version`.execute(b.db);
    expect(Number(v.rows[0].version)).toBe(SCHEMA_VERSION);
    expect(await b.db.selectFrom('config').selectAll().execute()).toEqual([{ key: 'k', value: '"v"' }]);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(b.db);
    expect(mode.rows[0].journal_mode).toBe('wal');
    await b.close();
  });

  it('refuses a store from a newer controller', async () => {
    const s = await openStore(undefined, dir);
    await sql`insert into schema_version (version) values (${SCHEMA_VERSION + 1})`.execute(s.db);
    await s.close();
    await expect(openStore(undefined, dir)).rejects.toThrow(/newer than this controller/);
  });
});

describe.skipIf(!onPostgres)('store (PostgreSQL)', () => {
  it('creates the schema once, reopens without migrating again, refuses a newer schema', async () => {
    const a = await openStore(testDbUrl, dir);
    expect(a.dialect).toBe('postgres');
    expect(a.pool).not.toBeNull();
    await a.db.insertInto('config').values({ key: 'k', value: '"v"' }).execute();
    await a.close();
    const b = await openStore(testDbUrl, dir);
    const v = await sql<{ version: number }>`select max(version) as version from schema_version`.execute(b.db);
    expect(Number(v.rows[0].version)).toBe(SCHEMA_VERSION);
    expect(await b.db.selectFrom('config').selectAll().execute()).toEqual([{ key: 'k', value: '"v"' }]);
    await sql`insert into schema_version (version) values (${SCHEMA_VERSION + 1})`.execute(b.db);
    await b.close();
    await expect(openStore(testDbUrl, dir)).rejects.toThrow(/newer than this controller/);
  });

  it('lets replicas that start at once on an empty database migrate one after the other', async () => {
    const fresh = await testDatabase();
    try {
      const stores = await Promise.all([0, 1, 2].map(() => openStore(fresh.url, dir)));
      const v = await sql<{ n: number }>`select count(*) as n from schema_version`.execute(stores[0].db);
      expect(Number(v.rows[0].n)).toBe(SCHEMA_VERSION);
      await Promise.all(stores.map((st) => st.close()));
    } finally {
      await fresh.drop();
    }
  });
});
