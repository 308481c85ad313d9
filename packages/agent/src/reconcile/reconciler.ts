/**
 * A desired-state reconciler after cilium/statedb's contract: the caller sets the full desired
 * set of objects; each new or changed object is `update`d (idempotent, may be retried with a
 * newer object), each object that left the set is `delete`d (missing is success), and `prune`
 * (given every desired object) removes what exists but is not desired. Work is level-triggered:
 * a change only marks a key; the loop re-reads the kernel in the ops. Failures retry with
 * exponential backoff (100 ms → 1 min); a TerminalError (a kernel feature missing) is reported
 * and not retried until the object changes. Done objects are refreshed periodically, so drift
 * made behind the agent's back is repaired; prune runs at the first pass and then periodically.
 *
 * A pass runs up to `concurrency` objects at once (never one key twice), and objects never
 * applied yet go first: a new container's tap or table must not queue behind the refresh of
 * fifty others (each op is a few process spawns). Objects that exist already (changed, refreshed,
 * deleted) take at most `busyConcurrency` of the workers, unless `urgent`: on a 2-core host a
 * burst of rewrites (a new peer changes the table of every member of a service) would otherwise
 * take the CPU from the new objects. Workers pick the next object when they finish one, so objects that become due
 * during a pass join it.
 */

export interface Operations<T> {
  update(obj: T): Promise<void>;
  delete(obj: T): Promise<void>;
  prune(all: readonly T[]): Promise<void>;
}

/** An error that retrying cannot fix (missing kernel feature): reported, never retried. */
export class TerminalError extends Error {
  readonly code = 'MSEG_ERR_AGENT_TERMINAL';
}

export type StatusKind = 'pending' | 'done' | 'error';

export interface ObjectStatus {
  key: string;
  kind: StatusKind;
  /** Error text (or what it waits for); empty when done. */
  message: string;
  /** When the status last changed, ms since the epoch. */
  since: number;
  /** Failed attempts since the last success. */
  failures: number;
  terminal: boolean;
  deleting: boolean;
}

export interface ReconcilerOptions<T> {
  key(obj: T): string;
  /** Whether two versions of one object need no update (deep equality of the desired form). */
  equal(a: T, b: T): boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  refreshMs?: number;
  pruneMs?: number;
  /** Objects applied at the same time (default 4). */
  concurrency?: number;
  /** Of those, objects that were applied before (default 1). */
  busyConcurrency?: number;
  /** Objects applied before that still go first, like new ones (e.g. a stand-in to replace). */
  urgent?(obj: T): boolean;
  /** Objects wait (pending) while this returns a reason, e.g. the namespace they go in is not ready. */
  blockedBy?(): string | null;
  /** Called after every status change (API/CLI views, logs). */
  onStatus?(status: ObjectStatus): void;
  now?(): number;
}

const BLOCKED_RECHECK_MS = 1000;

interface Pool {
  /** Keys being worked on: never two workers on one key. */
  inflight: Set<string>;
  /** How many of them were applied before (see busyConcurrency). */
  busy: number;
  size: number;
  workers: Promise<void>[];
}

interface Entry<T> {
  obj: T;
  status: ObjectStatus;
  dirty: boolean;
  retryAt: number;
  /** Some version of this object was applied: it exists, a new one waits for nobody. */
  applied: boolean;
}

export class Reconciler<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly refreshMs: number;
  private readonly pruneMs: number;
  private readonly concurrency: number;
  private readonly busyConcurrency: number;
  private readonly now: () => number;
  private pruneAt = 0;
  private pruneError: string | null = null;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private started = false;
  /** The workers of the running pass. */
  private pool: Pool | null = null;

  constructor(
    readonly name: string,
    private readonly ops: Operations<T>,
    private readonly opts: ReconcilerOptions<T>,
  ) {
    this.minBackoff = opts.minBackoffMs ?? 100;
    this.maxBackoff = opts.maxBackoffMs ?? 60_000;
    this.refreshMs = opts.refreshMs ?? 30 * 60_000;
    this.pruneMs = opts.pruneMs ?? 60 * 60_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.busyConcurrency = Math.max(1, Math.min(this.concurrency, opts.busyConcurrency ?? 1));
    this.now = opts.now ?? Date.now;
  }

  /** Replaces the desired set: marks new and changed objects for update, missing ones for delete. */
  setDesired(objs: readonly T[]): void {
    const seen = new Set<string>();
    for (const obj of objs) {
      const key = this.opts.key(obj);
      seen.add(key);
      const e = this.entries.get(key);
      if (e && !e.status.deleting && this.opts.equal(e.obj, obj)) continue;
      const status: ObjectStatus = { key, kind: 'pending', message: '', since: this.now(), failures: 0, terminal: false, deleting: false };
      this.entries.set(key, { obj, status, dirty: true, retryAt: 0, applied: e?.applied ?? false });
      this.opts.onStatus?.(status);
    }
    for (const [key, e] of this.entries) {
      if (seen.has(key) || e.status.deleting) continue;
      e.status = { ...e.status, kind: 'pending', message: '', since: this.now(), failures: 0, terminal: false, deleting: true };
      e.dirty = true;
      e.retryAt = 0;
      this.opts.onStatus?.(e.status);
    }
    this.kick();
  }

  /** Marks one object (or every object) for another pass: an event about it arrived. */
  touch(key?: string): void {
    for (const [k, e] of this.entries) {
      if (key !== undefined && k !== key) continue;
      if (e.status.terminal && key === undefined) continue;
      e.dirty = true;
      e.retryAt = 0;
    }
    this.kick();
  }

  desired(): T[] {
    return [...this.entries.values()].filter((e) => !e.status.deleting).map((e) => e.obj);
  }

  statuses(): ObjectStatus[] {
    const out = [...this.entries.values()].map((e) => ({ ...e.status }));
    if (this.pruneError) out.push({ key: `${this.name}:prune`, kind: 'error', message: this.pruneError, since: this.now(), failures: 1, terminal: false, deleting: false });
    return out;
  }

  /** Starts the background loop: first pass (with prune) now, refresh and prune periodically. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.pruneAt = 0;
    this.refreshTimer = setInterval(() => {
      for (const e of this.entries.values()) if (e.status.kind === 'done') e.dirty = true;
      this.kick();
    }, this.refreshMs);
    this.refreshTimer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.timer = null;
    this.refreshTimer = null;
    await this.running;
  }

  /** Runs every due object once (and a due prune); resolves when that pass is over. */
  async pass(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.runPass().finally(() => {
      this.running = null;
    });
    await this.running;
    this.schedule();
  }

  /** Passes until nothing is dirty and due (bounded): what tests and the CLI wait on. */
  async settle(maxPasses = 50): Promise<void> {
    for (let i = 0; i < maxPasses; i++) {
      await this.pass();
      const now = this.now();
      if (![...this.entries.values()].some((e) => e.dirty && e.retryAt <= now && !e.status.terminal && !this.blocked())) return;
    }
  }

  private blocked(): string | null {
    return this.opts.blockedBy?.() ?? null;
  }

  private async runPass(): Promise<void> {
    const blocked = this.blocked();
    if (blocked) {
      for (const e of this.entries.values()) {
        if (!e.dirty || e.retryAt > this.now() || e.status.deleting) continue;
        // Checked again in a second, or at once when the owner touches the key.
        e.retryAt = this.now() + BLOCKED_RECHECK_MS;
        this.setStatus(e, 'pending', `waiting: ${blocked}`);
      }
    }
    const pool: Pool = { inflight: new Set(), busy: 0, size: 0, workers: [] };
    this.pool = pool;
    this.grow();
    // Workers that grow() adds while these run are waited for too.
    for (let i = 0; i < pool.workers.length; i++) await pool.workers[i];
    this.pool = null;
    if (!blocked && this.now() >= this.pruneAt) {
      try {
        await this.ops.prune(this.desired());
        this.pruneError = null;
        this.pruneAt = this.now() + this.pruneMs;
      } catch (err) {
        this.pruneError = err instanceof Error ? err.message : String(err);
        this.pruneAt = this.now() + this.minBackoff;
      }
    }
  }

  /** Adds workers to the running pass, up to the bound: objects that became due join it at once. */
  private grow(): void {
    const pool = this.pool;
    if (!pool) return;
    while (pool.size < this.concurrency && this.nextDue(pool)) {
      pool.size++;
      pool.workers.push(this.work(pool));
    }
  }

  private async work(pool: Pool): Promise<void> {
    for (let next = this.nextDue(pool); next; next = this.nextDue(pool)) {
      const [key, e] = next;
      const busy = isBusy(e);
      pool.inflight.add(key);
      if (busy) pool.busy++;
      await this.runOne(key, e);
      pool.inflight.delete(key);
      if (busy) pool.busy--;
    }
    pool.size--;
  }

  /** The next due object not being worked on: one never applied first, else in insertion order. */
  private nextDue(pool: Pool): [string, Entry<T>] | null {
    const blocked = this.blocked() !== null;
    let first: [string, Entry<T>] | null = null;
    for (const [key, e] of this.entries) {
      if (!e.dirty || e.retryAt > this.now() || pool.inflight.has(key)) continue;
      if (blocked && !e.status.deleting) continue;
      if (!isBusy(e) || (!e.status.deleting && this.opts.urgent?.(e.obj))) return [key, e];
      if (pool.busy < this.busyConcurrency) first ??= [key, e];
    }
    return first;
  }

  private async runOne(key: string, e: Entry<T>): Promise<void> {
    e.dirty = false;
    try {
      if (e.status.deleting) {
        await this.ops.delete(e.obj);
        // setDesired may have brought the key back meanwhile: that new entry stays.
        if (this.entries.get(key) === e) this.entries.delete(key);
        this.opts.onStatus?.({ ...e.status, kind: 'done', message: 'deleted', since: this.now() });
      } else {
        await this.ops.update(e.obj);
        e.applied = true;
        e.status.failures = 0;
        this.setStatus(e, 'done', '');
      }
    } catch (err) {
      const terminal = err instanceof TerminalError;
      e.status.failures++;
      e.status.terminal = terminal;
      if (!terminal) {
        e.dirty = true;
        e.retryAt = this.now() + Math.min(this.maxBackoff, this.minBackoff * 2 ** (e.status.failures - 1));
      }
      this.setStatus(e, 'error', err instanceof Error ? err.message : String(err));
    }
  }

  private setStatus(e: Entry<T>, kind: StatusKind, message: string): void {
    if (e.status.kind === kind && e.status.message === message) return;
    e.status.kind = kind;
    e.status.message = message;
    e.status.since = this.now();
    this.opts.onStatus?.({ ...e.status });
  }

  private kick(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // A pass is running: its pool takes the new work now rather than after the pass.
      if (this.pool) this.grow();
      void this.pass();
    }, 0);
  }

  /** Wakes the loop at the earliest retry or prune time. */
  private schedule(): void {
    if (!this.started || this.timer) return;
    let next = this.pruneAt;
    for (const e of this.entries.values()) if (e.dirty && !e.status.terminal) next = Math.min(next, e.retryAt);
    const delay = Math.max(0, next - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pass();
    }, Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }
}

/** An object that exists already: changed, refreshed or being deleted. */
function isBusy(e: Entry<unknown>): boolean {
  return e.applied || e.status.deleting;
}
