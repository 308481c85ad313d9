/**
 * Group commit: the reports that arrive close together are merged into one batch and written in
 * ONE transaction, and each report is acknowledged only once that transaction committed (so an
 * acknowledged report survives a crash). When both ends of a conversation land in the same
 * transaction, they are one row write instead of two.
 *
 * After a transaction, the next one waits `pauseFactor` times as long as that one took (at most
 * `maxPauseMs`), gathering reports meanwhile: a quick one (little traffic, tests) is followed at
 * once, while under load transactions grow until `maxRecords` makes them start sooner. Few large
 * transactions are what make SQLite fast here: a commit writes every page it dirtied to the WAL,
 * and a report's conversations dirty pages all over its buckets' key ranges, so a page written
 * once per transaction instead of once per report is most of the cost saved.
 *
 * The same pacing serves the SQLite writer thread (writer-worker.ts) and PostgreSQL (commit.ts);
 * what a batch is and how it is written is the caller's.
 */

export interface Pacing {
  pauseFactor: number;
  maxPauseMs: number;
  maxRecords: number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit<B extends { records: number }> {
  /** What the next transaction writes: every report since the last one began, merged. */
  private pending: B;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing = false;
  /** When the next transaction may start (ms, monotonic). */
  private nextStart = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly create: () => B,
    private readonly write: (batch: B) => Promise<void>,
    private readonly pacing: Pacing,
  ) {
    this.pending = create();
  }

  /** Adds a report (`fill` runs at once, on the batch the next transaction writes); resolves once that transaction committed. */
  submit(fill: (batch: B) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      fill(this.pending);
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every report submitted so far is written (or failed). */
  drained(): Promise<void> {
    if (!this.writing && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.writing) return;
    if (this.pending.records >= this.pacing.maxRecords) {
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
    this.pending = this.create();
    this.waiters = [];
    try {
      await this.write(batch);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
    const ended = performance.now();
    this.nextStart = ended + Math.min(this.pacing.maxPauseMs, this.pacing.pauseFactor * (ended - started));
    this.writing = false;
    if (this.waiters.length > 0) this.schedule();
    else for (const done of this.idle.splice(0)) done();
  }
}
