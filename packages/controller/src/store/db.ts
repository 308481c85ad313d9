/**
 * Opens the store: an embedded SQLite file (WAL) by default, or PostgreSQL for several hosts and
 * controller replicas. Both speak the same kysely schema; `dialect` tells the few places that differ.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Dialect } from './dialect.js';
import { IngestWriter } from './ingest-writer.js';
import { migrate } from './migrate.js';
import type { Database } from './schema.js';
import { SqliteThreadDialect } from './sqlite-thread-dialect.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL pool (LISTEN/NOTIFY needs its own client from it); null on SQLite. */
  pool: pg.Pool | null;
  /**
   * SQLite: the ingest writer thread, with a write connection of its own (null on PostgreSQL,
   * where ingest runs its transactions through `db`).
   */
  writer: IngestWriter | null;
  close(): Promise<void>;
}

// PostgreSQL returns int8 as text to keep precision; our int64 values (ms, counters) fit doubles.
pg.types.setTypeParser(20, (v: string) => Number(v));

export async function openStore(url: string | undefined, dataDir: string): Promise<Store> {
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // An idle client whose server connection dies (restart, terminated backend) is dropped and
    // replaced at the next checkout; without a listener the pool's 'error' would end the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await migrateOrClose(db, 'postgres');
    return { db, dialect: 'postgres', pool, writer: null, close: () => db.destroy() };
  }
  const file = url ? url.replace(/^sqlite:(\/\/)?/, '') : join(dataDir, 'mseg.db');
  if (!url) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // kysely's statements run in two worker threads (a read and a write connection), the ingest
  // writer's in a third: no SQLite statement runs on the event loop.
  const db = new Kysely<Database>({ dialect: new SqliteThreadDialect(file) });
  await migrateOrClose(db, 'sqlite');
  const writer = new IngestWriter(file);
  return {
    db,
    dialect: 'sqlite',
    pool: null,
    writer,
    close: async () => {
      await writer.close();
      await db.destroy();
    },
  };
}

/** A store that cannot be migrated is not handed out, so its connections must not outlive the error. */
async function migrateOrClose(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  try {
    await migrate(db as unknown as Kysely<unknown>, dialect);
  } catch (err) {
    await db.destroy();
    throw err;
  }
}
