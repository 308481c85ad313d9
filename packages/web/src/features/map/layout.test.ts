import { afterEach, describe, expect, it, vi } from 'vitest';
import { PositionStore, WRITE_DELAY_MS } from './layout';
import type { ViewNode } from './model';

const at = (id: string, x: number, y: number) => ({ id, x, y }) as ViewNode;

function countingStorage() {
  const data = new Map<string, string>();
  const writes: string[] = [];
  const storage = {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => {
      writes.push(v);
      data.set(k, v);
    },
  } as unknown as Storage;
  return { storage, writes };
}

describe('PositionStore', () => {
  afterEach(() => vi.useRealTimers());

  it('a drag of many moves is one storage write of the last position, after a pause', () => {
    vi.useFakeTimers();
    const { storage, writes } = countingStorage();
    const store = new PositionStore(storage);
    for (let i = 0; i < 100; i++) store.save([at('web-1', i, 2 * i)]);
    expect(store.get('web-1')).toEqual({ x: 99, y: 198 });
    expect(writes).toHaveLength(0);
    vi.advanceTimersByTime(WRITE_DELAY_MS);
    expect(writes.map((w) => JSON.parse(w))).toEqual([{ 'web-1': [99, 198] }]);
    // A new store (a reload) starts from what was written.
    expect(new PositionStore(storage).get('web-1')).toEqual({ x: 99, y: 198 });
  });

  it('flush writes at once and cancels the pending write', () => {
    vi.useFakeTimers();
    const { storage, writes } = countingStorage();
    const store = new PositionStore(storage);
    store.save([at('db-1', 1.26, 3)]);
    store.flush();
    expect(writes.map((w) => JSON.parse(w))).toEqual([{ 'db-1': [1.3, 3] }]);
    vi.advanceTimersByTime(WRITE_DELAY_MS);
    expect(writes).toHaveLength(1);
  });
});
