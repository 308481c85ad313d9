/**
 * Failed-login limiter: at most `max` failures per key in a sliding window. Keys are the username
 * and the client address, so neither guessing one account from many addresses nor many accounts
 * from one address gets more than `max` tries a window. Kept in memory: a restart or another
 * replica grants a fresh window, which still caps guessing at a few tries per minute per process.
 */
const SWEEP_AT = 10_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until `key` may try again, 0 when it may try now. */
  retryAfter(key: string, now: number): number {
    const times = this.recent(key, now);
    return times.length >= this.max ? times[0] + this.windowMs - now : 0;
  }

  fail(key: string, now: number): void {
    const times = this.recent(key, now);
    times.push(now);
    this.failures.set(key, times);
    // A spray of distinct usernames must not grow the map without bound: drop stale keys now and then.
    if (this.failures.size > SWEEP_AT) for (const k of [...this.failures.keys()]) this.recent(k, now);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const times = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length === 0) this.failures.delete(key);
    return times;
  }
}
