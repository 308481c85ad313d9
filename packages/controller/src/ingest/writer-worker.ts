/**
 * The SQLite store's ingest writer: a worker thread that owns a write connection of its own and
 * writes the reports the event loop hands it (op logs, oplog.ts) by group commit
 * (group-commit.ts), answering each once its transaction committed. better-sqlite3 is
 * synchronous: on the event loop every ingest transaction held up gRPC and REST, and REST queries
 * held up ingest. Here transactions run beside them, and REST reads (another connection, WAL) do
 * not wait for them.
 *
 * Transactions are larger than on PostgreSQL (up to 50,000 records, the next one up to a second
 * after the last): they hold up no one but the few writes of kysely's connection (heartbeats,
 * policy edits), and the larger they are, the more reports share each conversation and group-map
 * row and each dirtied index page (measured alone, 50,000-record transactions wrote ~1.5x the
 * records per second of 20,000-record ones).
 *
 * The thread runs at a lower CPU priority than the event loop and the REST read thread (on Linux
 * a nice value is per thread): when the cores are short, a UI request is answered first and the
 * reports that wait meanwhile make the next transaction larger, not the request slower.
 */
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { openSqlite } from '../store/sqlite-open.js';
import { serveCalls } from '../store/thread-rpc.js';
import { IngestBatch } from './batch.js';
import { GroupCommit, type Pacing } from './group-commit.js';
import { replay, type EncodedOps } from './oplog.js';
import { runInSqliteTransaction } from './statements.js';

export const SQLITE_PACING: Pacing = { pauseFactor: 4, maxPauseMs: 1_000, maxRecords: 50_000 };
/** Nice value of this thread: weight 335 against the other threads' 1024. */
const NICE = 5;

setPriority(NICE);
const sqlite = openSqlite((workerData as { file: string }).file);
const group = new GroupCommit(() => new IngestBatch(), async (batch) => runInSqliteTransaction(sqlite, batch.statements('sqlite')), SQLITE_PACING);

serveCalls(
  async (ops: EncodedOps) => {
    await group.submit((batch) => replay(ops, batch));
    return null;
  },
  async () => {
    await group.drained();
    sqlite.close();
  },
);
