/**
 * Versioned schema migrations, run at start in one transaction per version. The applied version is
 * recorded in `schema_version`; a store newer than this build is refused rather than guessed at.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from './dialect.js';
import * as v1 from './migrations/001-initial.js';
import * as v2 from './migrations/002-conversations.js';
import * as v3 from './migrations/003-graph-edges.js';
import * as v4 from './migrations/004-conversations-by-bucket.js';
import * as v5 from './migrations/005-report-batches-by-time.js';

interface Migration {
  version: number;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, up: v1.up },
  { version: 2, up: v2.up },
  { version: 3, up: v3.up },
  { version: 4, up: v4.up },
  { version: 5, up: v5.up },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Key of the PostgreSQL advisory lock that serialises migrations (any constant unique to mseg). */
const MIGRATION_LOCK = 0x6d736567;

/**
 * Brings the schema to SCHEMA_VERSION. On PostgreSQL several replicas may start at once on an empty
 * database; an advisory lock held on one connection makes them migrate one after the other (the
 * later ones then find nothing to do) instead of racing on CREATE TABLE.
 */
export async function migrate(db: Kysely<unknown>, dialect: Dialect): Promise<number> {
  if (dialect !== 'postgres') return migrateOn(db, dialect);
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      return await migrateOn(conn, dialect);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
    }
  });
}

async function migrateOn(db: Kysely<unknown>, dialect: Dialect): Promise<number> {
  await db.schema.createTable('schema_version').ifNotExists().addColumn('version', 'integer', (c) => c.notNull()).execute();
  const row = await sql<{ version: number }>`select max(version) as version from schema_version`.execute(db);
  const current = Number(row.rows[0]?.version ?? 0);
  if (current > SCHEMA_VERSION) {
    throw new Error(`store schema version ${current} is newer than this controller (${SCHEMA_VERSION}); upgrade the controller`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    await db.transaction().execute(async (tx) => {
      await m.up(tx, dialect);
      await sql`insert into schema_version (version) values (${m.version})`.execute(tx);
    });
  }
  return SCHEMA_VERSION;
}
