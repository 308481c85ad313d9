/**
 * Where a report's ingest goes (see group-commit.ts for the batching): on SQLite to the store's
 * writer thread as an op log (writer-worker.ts), so the event loop that answers agents and REST
 * requests never runs the transaction; on PostgreSQL (asynchronous already) to a group commit on
 * this thread. Either way the promise resolves once the report's transaction committed.
 */
import type { Context } from '../server/context.js';
import { IngestBatch, type IngestSink } from './batch.js';
import { GroupCommit, type Pacing } from './group-commit.js';
import { OpLog } from './oplog.js';
import { runInTransaction } from './statements.js';

/** PostgreSQL: transactions of ≤ 5,000 records, the next one after 4× the last one's time (≤ 250 ms). */
export const PG_PACING: Pacing = { pauseFactor: 4, maxPauseMs: 250, maxRecords: 5_000 };

const perContext = new WeakMap<Context, GroupCommit<IngestBatch>>();

/**
 * Adds a report's updates (`fill` runs at once) and resolves once the transaction that wrote
 * them committed.
 */
export function commitBatch(ctx: Context, fill: (sink: IngestSink) => void): Promise<void> {
  const { store } = ctx;
  if (store.writer) {
    const log = new OpLog();
    fill(log);
    return store.writer.submit(log.encode());
  }
  let g = perContext.get(ctx);
  if (!g) {
    g = new GroupCommit(() => new IngestBatch(), (batch) => runInTransaction(store.db, batch.statements(store.dialect)), PG_PACING);
    perContext.set(ctx, g);
  }
  return g.submit(fill);
}
