/**
 * Group commit: the batches of reports that arrive close together are merged and written in ONE
 * transaction, and each report is acknowledged only once that transaction committed (so an
 * acknowledged report survives a crash, as before). A transaction per report made SQLite spend
 * most of its time on per-transaction and per-statement work, and wrote the two ends of a
 * conversation as two row updates; merged, they are one.
 *
 * The first report waits at most WINDOW_MS for company, less once MAX_RECORDS records gathered
 * (on SQLite a transaction runs on the event loop, and a REST request waits for it, so they are
 * kept short); while a transaction runs on PostgreSQL, the next one gathers, and starts as soon
 * as the running one ends.
 */
import type { Context } from '../server/context.js';
import { addressBook } from './address-book.js';
import { IngestBatch } from './batch.js';
import { runInTransaction } from './statements.js';

export const WINDOW_MS = 20;
export const MAX_RECORDS = 8_000;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

class GroupCommit {
  /** What the next transaction writes: every report since the last one began, merged. */
  private pending = new IngestBatch();
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing = false;

  constructor(private readonly ctx: Context) {}

  submit(fill: (batch: IngestBatch) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      fill(this.pending);
      this.waiters.push({ resolve, reject });
      if (this.writing) return;
      if (this.pending.records >= MAX_RECORDS) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        void this.flush();
      } else if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.flush();
        }, WINDOW_MS);
      }
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = new IngestBatch();
    this.waiters = [];
    try {
      const { store } = this.ctx;
      const book = await addressBook(this.ctx);
      await runInTransaction(store.db, store.sqlite, batch.statements(store.dialect, this.ctx.now(), book));
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
    // Whatever gathered meanwhile has waited a transaction's time already: write it next, still
    // as the only writer (no timer can start another flush meanwhile).
    if (this.waiters.length > 0) setImmediate(() => void this.flush());
    else this.writing = false;
  }
}

const perContext = new WeakMap<Context, GroupCommit>();

/**
 * Adds a report's updates (`fill` runs at once, on the batch the next transaction writes) and
 * resolves once that transaction committed.
 */
export function commitBatch(ctx: Context, fill: (batch: IngestBatch) => void): Promise<void> {
  let g = perContext.get(ctx);
  if (!g) {
    g = new GroupCommit(ctx);
    perContext.set(ctx, g);
  }
  return g.submit(fill);
}
