/**
 * Ingest's SQL: multi-row upserts whose text depends only on the table and the row count, so
 * SQLite prepares each shape once and reuses it (kysely would build and prepare a new statement
 * of thousands of parameters for every batch). One text per dialect: `?` or `$n` placeholders.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type SQLite from 'better-sqlite3';
import type { Dialect } from '../store/dialect.js';
import type { Database } from '../store/schema.js';

export interface UpsertTable {
  table: string;
  columns: readonly string[];
  conflict: readonly string[];
  /** `col = expr, …` for a conflicting row (the stored row by table name, the new one as `excluded`); '' = keep the stored row. */
  update: string;
}

/** One statement to run: its text and parameters. */
export interface Statement {
  text: string;
  params: unknown[];
}

// SQLite allows 32,766 bound values per statement and PostgreSQL 65,535; rows have ≤ 20 columns.
// 500 rows is past the point where the per-statement cost stops mattering.
export const ROWS_PER_STATEMENT = 500;

const texts = new Map<string, string>();

function upsertText(t: UpsertTable, rows: number, dialect: Dialect): string {
  const id = `${dialect}|${t.table}|${rows}`;
  const cached = texts.get(id);
  if (cached !== undefined) return cached;
  const width = t.columns.length;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const marks: string[] = [];
    for (let c = 1; c <= width; c++) marks.push(dialect === 'postgres' ? `$${r * width + c}` : '?');
    tuples.push(`(${marks.join(',')})`);
  }
  const action = t.update === '' ? 'do nothing' : `do update set ${t.update}`;
  const text = `insert into ${t.table} (${t.columns.join(', ')}) values ${tuples.join(',')} on conflict (${t.conflict.join(', ')}) ${action}`;
  texts.set(id, text);
  return text;
}

/**
 * Upserts of `items`, `row` writing each one's values (in `t.columns` order) into the parameter
 * array at `at` (no array per row: ingest writes hundreds of thousands of rows a minute, and each
 * array is garbage). ROWS_PER_STATEMENT rows at a time, the rest in power-of-two parts, so a table
 * has a dozen statement shapes (each prepared statement holds its compiled program: one per row
 * count would be hundreds of MB).
 */
export function* upserts<T>(t: UpsertTable, items: T[], dialect: Dialect, row: (item: T, out: unknown[], at: number) => void): Generator<Statement> {
  const width = t.columns.length;
  let i = 0;
  while (i < items.length) {
    const left = items.length - i;
    const n = left >= ROWS_PER_STATEMENT ? ROWS_PER_STATEMENT : 2 ** Math.floor(Math.log2(left));
    const params = new Array<unknown>(n * width);
    for (let r = 0; r < n; r++) row(items[i + r], params, r * width);
    i += n;
    yield { text: upsertText(t, n, dialect), params };
  }
}

/** Runs statements in one transaction through kysely (PostgreSQL). */
export async function runInTransaction(db: Kysely<Database>, statements: Iterable<Statement>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const s of statements) await tx.executeQuery(CompiledQuery.raw(s.text, s.params));
  });
}

/** Runs statements in one write transaction on a SQLite connection, each text prepared once. */
export function runInSqliteTransaction(sqlite: SQLite.Database, statements: Iterable<Statement>): void {
  sqlite.transaction(() => {
    for (const s of statements) prepared(sqlite, s.text).run(s.params);
  }).immediate();
}

const cache = new WeakMap<SQLite.Database, Map<string, SQLite.Statement>>();

function prepared(sqlite: SQLite.Database, text: string): SQLite.Statement {
  let m = cache.get(sqlite);
  if (!m) {
    m = new Map();
    cache.set(sqlite, m);
  }
  let s = m.get(text);
  if (!s) {
    s = sqlite.prepare(text);
    m.set(text, s);
  }
  return s;
}
