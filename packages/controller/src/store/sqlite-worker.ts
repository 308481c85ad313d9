/**
 * A worker thread holding one SQLite connection for kysely (sqlite-thread-dialect.ts): it runs
 * each statement it is sent and answers with the rows or the change count. The store has two of
 * these, one for reads and one for writes and transactions, so no statement runs on the event
 * loop (better-sqlite3 is synchronous) and reads never queue behind a write waiting for the
 * ingest writer's lock. The read thread's connection refuses writes (query_only).
 */
import { workerData } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { openSqlite } from './sqlite-open.js';
import { serveCalls } from './thread-rpc.js';

export interface SqlCall {
  sql: string;
  params: readonly unknown[];
}

export interface SqlResult {
  rows: unknown[];
  changes?: number;
  lastInsertRowid?: number;
}

const { file, readOnly } = workerData as { file: string; readOnly: boolean };
const db = openSqlite(file);
if (readOnly) db.pragma('query_only = ON');

// Kysely sends the same few hundred texts over and over; preparing is a parse and plan each time.
const statements = new Map<string, SQLite.Statement>();
const MAX_STATEMENTS = 500;

function prepared(text: string): SQLite.Statement {
  let s = statements.get(text);
  if (!s) {
    s = db.prepare(text);
    if (statements.size >= MAX_STATEMENTS) statements.clear();
    statements.set(text, s);
  }
  return s;
}

serveCalls(
  ({ sql, params }: SqlCall): SqlResult => {
    const stmt = prepared(sql);
    if (stmt.reader) return { rows: stmt.all(params) };
    const r = stmt.run(params);
    return { rows: [], changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
  },
  () => {
    db.close();
  },
);
