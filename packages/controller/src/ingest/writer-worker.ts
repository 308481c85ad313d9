/**
 * The SQLite store's ingest writer: a worker thread that owns a write connection of its own and
 * writes the reports the event loop hands it (op logs, oplog.ts) by group commit
 * (group-commit.ts), answering each once its transaction committed. better-sqlite3 is
 * synchronous: on the event loop every ingest transaction held up gRPC and REST, and REST queries
 * held up ingest. Here transactions run beside them, and REST reads (another connection, WAL) do
 * not wait for them.
 *
 * Transactions are larger than on PostgreSQL (up to 20,000 records): they hold up no one but the
 * few writes of kysely's connection (heartbeats, policy edits), and the larger they are, the more
 * reports share each conversation and group-map row and each dirtied page.
 */
import { workerData } from 'node:worker_threads';
import { openSqlite } from '../store/sqlite-open.js';
import { serveCalls } from '../store/thread-rpc.js';
import { IngestBatch } from './batch.js';
import { GroupCommit, type Pacing } from './group-commit.js';
import { replay, type EncodedOps } from './oplog.js';
import { runInSqliteTransaction } from './statements.js';

export const SQLITE_PACING: Pacing = { pauseFactor: 4, maxPauseMs: 250, maxRecords: 20_000 };

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
