/**
 * A queue of keys for level-triggered loops: adding a key that is already waiting does nothing,
 * a key being handled is handled once more afterwards (whatever changed meanwhile is seen), and a
 * failing key is retried with exponential backoff (100 ms → 60 s, as statedb's reconciler).
 * The handler may return a delay to look at the key again later.
 */

export interface WorkQueueOptions {
  concurrency?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, err: unknown, retryInMs: number) => void;
}

export type Handler = (key: string) => Promise<number | void>;

export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly concurrency: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;

  constructor(
    private readonly handle: Handler,
    private readonly opts: WorkQueueOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 4;
    this.minBackoff = opts.minBackoffMs ?? 100;
    this.maxBackoff = opts.maxBackoffMs ?? 60_000;
  }

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.running.has(key)) this.dirty.add(key);
    else this.waiting.add(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Resolves when nothing waits or runs (scheduled retries do not count). */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    this.dirty.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private pump(): void {
    for (const key of this.waiting) {
      if (this.running.size >= this.concurrency) return;
      this.waiting.delete(key);
      this.running.add(key);
      void this.runOne(key);
    }
    if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async runOne(key: string): Promise<void> {
    let again: number | void = undefined;
    try {
      again = await this.handle(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      again = Math.min(this.maxBackoff, this.minBackoff * 2 ** (n - 1));
      this.opts.onError?.(key, err, again);
    }
    this.running.delete(key);
    if (this.dirty.delete(key)) this.waiting.add(key);
    else if (typeof again === 'number') this.addAfter(key, again);
    this.pump();
  }
}
