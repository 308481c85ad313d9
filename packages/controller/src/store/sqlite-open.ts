/**
 * Opens a connection to the SQLite store file with the settings every connection needs. The store
 * has three, each in its own worker thread (better-sqlite3 is synchronous: on the event loop every
 * statement would stall gRPC and REST): kysely's read and write connections
 * (sqlite-thread-dialect.ts) and the ingest writer's (ingest/writer-worker.ts). WAL lets reads
 * go on while either writer writes.
 */
import SQLite from 'better-sqlite3';

/**
 * How long a writing connection waits for the other one's write transaction. The ingest writer's
 * transactions last up to a second or so under load, a roll-up of a busy hour several.
 */
export const BUSY_TIMEOUT_MS = 30_000;

export function openSqlite(file: string): SQLite.Database {
  const sqlite = new SQLite(file);
  // WAL: readers never block the writer; synchronous=NORMAL is durable against a process crash
  // (SIGKILL), which is what an acknowledged report must survive.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  // Conversation tables and their indexes grow to hundreds of MB; the default 2 MB page cache
  // would send most ingest upserts and graph reads to the OS for pages. Sorts and GROUP BY
  // temporaries stay in memory.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoint every 64 MB of WAL instead of 4 MB: ingest rewrites the same index pages over and
  // over, and a page is copied back to the database once per checkpoint however often it changed.
  sqlite.pragma('wal_autocheckpoint = 16384');
  return sqlite;
}
