/**
 * Worker thread of kysely's SQLite connection (store/db.ts): every query of the REST API, the
 * agents' registration and heartbeats, policy and the roll-up runs here, so a 50 ms graph query
 * or a second-long roll-up never holds the event loop that answers agents and other requests.
 *
 * A transaction starts with `begin immediate`: it takes the write lock at once (waiting for the
 * ingest writer's transaction to end) instead of upgrading a read snapshot later, which fails
 * at once with SQLITE_BUSY whenever the ingest writer committed in between.
 */
import type SQLite from 'better-sqlite3';
import { parseBigInt, type IGenericSqlite } from 'kysely-generic-sqlite';
import { createNodeOnMessageCallback } from 'kysely-generic-sqlite/worker-helper-node';
import { openSqlite } from './sqlite-open.js';

function executor(file: string): IGenericSqlite<SQLite.Database> {
  const db = openSqlite(file);
  return {
    db,
    query: (_isSelect, text, parameters) => {
      const stmt = db.prepare(text === 'begin' ? 'begin immediate' : text);
      if (stmt.reader) return { rows: stmt.all(parameters ?? []) };
      const r = stmt.run(parameters ?? []);
      return { rows: [], numAffectedRows: parseBigInt(r.changes), insertId: parseBigInt(r.lastInsertRowid) };
    },
    close: () => db.close(),
  };
}

createNodeOnMessageCallback<{ file: string }>((data) => executor(data.file));
