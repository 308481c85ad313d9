import { describe, expect, it } from 'vitest';
import { DpiEngine, DpiStatus } from './engine.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiParser } from './parser.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Claims "FOLLOW…" payloads and follows forever; keeps a buffer while undecided. */
const follower: DpiParser & { slot: number } = {
  app: 1,
  name: 'follower',
  transports: TCP,
  slot: -1,
  classify(f, d, off) {
    f.state[this.slot] = new Uint8Array(1024);
    if (d[off] === 0x46) return MATCH;
    return d[off] === 0x57 ? CONTINUE : NO_MATCH;
  },
  follow: () => true,
};

/** Always waits; its state must be freed once another parser wins. */
const waiter: DpiParser & { slot: number } = {
  app: 2,
  name: 'waiter',
  transports: TCP,
  slot: -1,
  classify(f) {
    f.state[this.slot] = { big: new Uint8Array(4096) };
    return CONTINUE;
  },
};

const noReport = (): void => undefined;

describe('DPI engine', () => {
  it('frees the state of parsers that lost once one wins', () => {
    const e = new DpiEngine(4, [waiter, follower]);
    const h = e.open(6, 40000, 80, 0, noReport);
    expect(e.inspect(h, bytes('FOLLOW'), 0, 6, true, 1)).toBe(DpiStatus.busy);
    const s = e.get(h)!;
    expect(s.winner).toBe(1);
    expect(s.state[0]).toBeUndefined();
    expect(s.meta.app).toBe(1);
  });

  it('retires the oldest follower to classify a new session, and overflows only when all are classifying', () => {
    const retired: number[] = [];
    const e = new DpiEngine(2, [follower]);
    e.onRetire = (row) => retired.push(row);
    const a = e.open(6, 1, 80, 10, noReport);
    const b = e.open(6, 2, 80, 11, noReport);
    e.inspect(a, bytes('FOLLOW'), 0, 6, true, 1);
    e.inspect(b, bytes('FOLLOW'), 0, 6, true, 1);
    const c = e.open(6, 3, 80, 12, noReport);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(retired).toEqual([10]);
    expect(e.get(a)?.row === 10).toBe(false);
    e.inspect(c, bytes('WAIT'), 0, 4, true, 1);
    const d = e.open(6, 4, 80, 13, noReport);
    expect(retired).toEqual([10, 11]);
    e.inspect(d, bytes('WAIT'), 0, 4, true, 1);
    expect(e.open(6, 5, 80, 14, noReport)).toBe(-1);
    expect(e.overflow).toBe(1);
    expect(e.retired).toBe(2);
    expect(e.active).toBe(2);
  });

  it('skips TCP retransmissions and holds threats of parsers that do not win', () => {
    const threats: number[] = [];
    const noisy: DpiParser & { slot: number } = {
      app: 3,
      name: 'noisy',
      transports: TCP,
      slot: -1,
      classify(f) {
        f.threat(9, 'from a loser');
        return NO_MATCH;
      },
    };
    const e = new DpiEngine(4, [noisy, follower]);
    const h = e.open(6, 1, 80, 0, (_row, id) => threats.push(id));
    e.inspect(h, bytes('WAIT'), 0, 4, true, 100);
    const s = e.get(h)!;
    expect(s.clientPackets).toBe(1);
    e.inspect(h, bytes('WAIT'), 0, 4, true, 100);
    expect(s.clientPackets).toBe(1);
    expect(threats).toEqual([]);
  });
});
