import { describe, expect, it } from 'vitest';
import { Turns } from './turns.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('Turns', () => {
  it('runs one waiter per event-loop turn, in arrival order, with timers and I/O between them', async () => {
    const turns = new Turns();
    const order: string[] = [];
    const work = async (name: string) => {
      await turns.next();
      order.push(name);
      busy(20);
    };
    const all = Promise.all(['a', 'b', 'c', 'd'].map(work));
    // Due after the first turn: it runs before the later reports, not after the whole burst.
    setTimeout(() => order.push('timer'), 0);
    await all;
    expect(order.indexOf('timer')).toBeGreaterThan(0);
    expect(order.indexOf('timer')).toBeLessThan(3);
    expect(order.filter((x) => x !== 'timer')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('starts again after it ran dry', async () => {
    const turns = new Turns();
    await turns.next();
    await turns.next();
    await Promise.all([turns.next(), turns.next()]);
  });
});
