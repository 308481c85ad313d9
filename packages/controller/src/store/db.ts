/**
 * Opens the store: an embedded SQLite file (WAL) by default, or PostgreSQL for several hosts and
 * controller replicas. Both speak the same kysely schema; `dialect` tells the few places that differ.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Dialect } from './dialect.js';
import { migrate } from './migrate.js';
import type { Database } from './schema.js';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL pool (LISTEN/NOTIFY needs its own client from it); null on SQLite. */
  pool: pg.Pool | null;
  /**
   * The SQLite connection itself (null on PostgreSQL), for ingest's prepared statements. Use it
   * only while holding kysely's connection (`db.connection().execute`), which serializes it with
   * every other query and transaction.
   */
  sqlite: SQLite.Database | null;
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
    return { db, dialect: 'postgres', pool, sqlite: null, close: () => db.destroy() };
  }
  const file = url ? url.replace(/^sqlite:(\/\/)?/, '') : join(dataDir, 'mseg.db');
  if (!url) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sqlite = new SQLite(file);
  // WAL: readers never block the writer; synchronous=NORMAL is durable against a process crash
  // (SIGKILL), which is what an acknowledged report must survive.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Conversation tables and their indexes grow to hundreds of MB; the default 2 MB page cache
  // would send most ingest upserts and graph reads to the OS for pages. Sorts and GROUP BY
  // temporaries stay in memory.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoint every 64 MB of WAL instead of 4 MB: ingest rewrites the same index pages over and
  // over, and a page is copied back to the database once per checkpoint however often it changed.
  sqlite.pragma('wal_autocheckpoint = 16384');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateOrClose(db, 'sqlite');
  return { db, dialect: 'sqlite', pool: null, sqlite, close: () => db.destroy() };
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
