/**
 * A kysely dialect for the SQLite store whose statements run in two worker threads
 * (sqlite-worker.ts), each with its own connection: reads outside a transaction on one, writes
 * and transactions on the other. better-sqlite3 is synchronous, so on the event loop a 50 ms
 * graph query or a second-long roll-up held up gRPC and every other request; and with one
 * connection, a read waited behind any write, which waits for the ingest writer's lock (WAL:
 * reads never wait for it).
 *
 * The write connection is used by one kysely connection at a time (a mutex, as kysely's own
 * SQLite driver does), so a transaction's statements are never mixed with another's. A
 * transaction starts with `begin immediate`: it takes the write lock at once, instead of
 * upgrading a read snapshot later, which fails at once (SQLITE_BUSY) whenever the ingest writer
 * committed in between.
 */
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import type { SqlCall, SqlResult } from './sqlite-worker.js';
import { ThreadRpc } from './thread-rpc.js';
import { workerFile } from './worker-file.js';

class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with the unlock function once every earlier holder unlocked. */
  lock(): Promise<() => void> {
    let unlock!: () => void;
    const held = new Promise<void>((resolve) => (unlock = resolve));
    const ready = this.tail.then(() => unlock);
    this.tail = this.tail.then(() => held);
    return ready;
  }
}

const READ_TEXT = /^\s*select\b/i;

class ThreadConnection implements DatabaseConnection {
  /** Set while this connection holds the write connection (a transaction). */
  unlock: (() => void) | null = null;

  constructor(private readonly driver: SqliteThreadDriver) {}

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const call: SqlCall = { sql: q.sql, params: q.parameters };
    let r: SqlResult;
    if (this.unlock) r = await this.driver.writer.call(call);
    else if (SelectQueryNode.is(q.query) || READ_TEXT.test(q.sql)) r = await this.driver.reader.call(call);
    else {
      const unlock = await this.driver.writeLock.lock();
      try {
        r = await this.driver.writer.call(call);
      } finally {
        unlock();
      }
    }
    if (r.changes === undefined) return { rows: r.rows as R[] };
    return { rows: r.rows as R[], numAffectedRows: BigInt(r.changes), insertId: r.lastInsertRowid === undefined ? undefined : BigInt(r.lastInsertRowid) };
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('the SQLite store does not stream query results');
  }
}

class SqliteThreadDriver implements Driver {
  readonly reader: ThreadRpc<SqlCall, SqlResult>;
  readonly writer: ThreadRpc<SqlCall, SqlResult>;
  readonly writeLock = new Mutex();

  constructor(file: string) {
    const script = workerFile('./sqlite-worker.js', import.meta.url);
    this.reader = new ThreadRpc(script, { file, readOnly: true });
    this.writer = new ThreadRpc(script, { file, readOnly: false });
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ThreadConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as ThreadConnection;
    const unlock = await this.writeLock.lock();
    try {
      await this.writer.call({ sql: 'begin immediate', params: [] });
    } catch (err) {
      unlock();
      throw err;
    }
    c.unlock = unlock;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection as ThreadConnection, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection as ThreadConnection, 'rollback');
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    await Promise.all([this.reader.close(), this.writer.close()]);
  }

  private async end(c: ThreadConnection, sql: string): Promise<void> {
    try {
      await this.writer.call({ sql, params: [] });
    } finally {
      c.unlock?.();
      c.unlock = null;
    }
  }
}

export class SqliteThreadDialect implements Dialect {
  constructor(private readonly file: string) {}

  createDriver(): Driver {
    return new SqliteThreadDriver(this.file);
  }

  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }

  createAdapter() {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db);
  }
}
