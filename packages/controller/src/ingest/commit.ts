/**
 * Group commit: the batches of reports that arrive close together are merged and written in ONE
 * transaction, and each report is acknowledged only once that transaction committed (so an
 * acknowledged report survives a crash, as before). When both ends of a conversation land in the
 * same transaction, they are one row write instead of two.
 *
 * After a transaction, the next one waits PAUSE_FACTOR times as long as that one took (at most
 * MAX_PAUSE_MS), gathering reports meanwhile: a quick one (little traffic, tests) is followed at
 * once, while under load transactions grow, the writer busy at most a fifth of the time until
 * MAX_RECORDS makes them start sooner. Few
 * large transactions are what make SQLite fast here: a commit writes every page it dirtied to
 * the WAL, and conversations dirty index pages all over (per workload), so a page written once
 * per transaction instead of once per report is most of the cost saved. A transaction starts
 * early once MAX_RECORDS records gathered: on SQLite it runs on the event loop, and REST
 * requests wait for it.
 */
import type { Context } from '../server/context.js';
import { addressBook } from './address-book.js';
import { IngestBatch } from './batch.js';
import { runInTransaction } from './statements.js';

export const PAUSE_FACTOR = 4;
export const MAX_PAUSE_MS = 250;
export const MAX_RECORDS = 5_000;

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
  /** When the next transaction may start (ms, monotonic). */
  private nextStart = 0;

  constructor(private readonly ctx: Context) {}

  submit(fill: (batch: IngestBatch) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      fill(this.pending);
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.writing) return;
    if (this.pending.records >= MAX_RECORDS) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          void this.flush();
        },
        Math.max(0, this.nextStart - performance.now()),
      );
    }
  }

  private async flush(): Promise<void> {
    this.writing = true;
    const started = performance.now();
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
    const ended = performance.now();
    this.nextStart = ended + Math.min(MAX_PAUSE_MS, PAUSE_FACTOR * (ended - started));
    this.writing = false;
    if (this.waiters.length > 0) this.schedule();
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
