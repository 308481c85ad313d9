import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('handles a key added many times while waiting once', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { concurrency: 1 });
    q.add('a'); // starts at once
    q.add('b'); // waits behind a
    q.add('b');
    q.add('b');
    await q.idle();
    expect(seen).toEqual(['a', 'b']);
  });

  it('handles a key again when it was added while being handled', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const q = new WorkQueue(async (k) => {
      seen.push(k);
      if (seen.length === 1) await new Promise<void>((r) => (release = r));
    });
    q.add('a');
    await tick();
    q.add('a');
    q.add('a');
    release();
    await q.idle();
    await tick();
    await q.idle();
    expect(seen).toEqual(['a', 'a']);
  });

  it('retries a failing key with growing backoff and reports each failure', async () => {
    const delays: number[] = [];
    let calls = 0;
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls < 3) throw new Error('docker busy');
      },
      { minBackoffMs: 5, onError: (_k, _e, ms) => delays.push(ms) },
    );
    q.add('a');
    for (let i = 0; i < 100 && calls < 3; i++) await tick(5);
    expect(calls).toBe(3);
    expect(delays).toEqual([5, 10]);
    q.stop();
  });

  it('looks at a key again after the delay the handler returns, and not after stop', async () => {
    let calls = 0;
    const q = new WorkQueue(async () => (++calls < 2 ? 5 : undefined));
    q.add('a');
    for (let i = 0; i < 100 && calls < 2; i++) await tick(5);
    expect(calls).toBe(2);
    q.stop();
    q.add('a');
    await tick(20);
    expect(calls).toBe(2);
  });

  it('never runs more than `concurrency` handlers at once', async () => {
    let now = 0;
    let peak = 0;
    const q = new WorkQueue(
      async () => {
        peak = Math.max(peak, ++now);
        await tick(2);
        now--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.idle();
    expect(peak).toBe(3);
  });
});
