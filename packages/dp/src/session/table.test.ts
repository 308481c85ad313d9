import { describe, expect, it } from 'vitest';
import { Packet } from '../decode/packet.js';
import { SessionTable } from './table.js';

function packet(a: number, b: number, sport: number, dport: number, proto = 6): Packet {
  const p = new Packet();
  p.src.set([0, 0, 0xffff, a]);
  p.dst.set([0, 0, 0xffff, b]);
  p.sport = sport;
  p.dport = dport;
  p.proto = proto;
  return p;
}

describe('session table', () => {
  it('finds a session from both directions', () => {
    const t = new SessionTable(16);
    const fwd = packet(1, 2, 1000, 80);
    expect(t.lookup(fwd)).toBe(-1);
    const row = t.insert(fwd);
    expect(t.lookup(fwd)).toBe(row);
    const fwdIsA = t.lastIsA;
    expect(t.lookup(packet(2, 1, 80, 1000))).toBe(row);
    expect(t.lastIsA).toBe(!fwdIsA);
    expect(t.lookup(packet(2, 1, 80, 1000, 17))).toBe(-1);
  });

  it('stays consistent with a Map under random insert/remove (backward-shift deletion, row moves)', () => {
    const cap = 512;
    const t = new SessionTable(cap);
    const model = new Map<string, number>();
    const key = (p: Packet): string => `${p.src[3]}|${p.dst[3]}|${p.sport}|${p.dport}`;
    const moved: [number, number][] = [];
    t.onMove = (from, to) => moved.push([from, to]);
    // Rows carry their key in firstSeen so moves can be checked.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 50_000; i++) {
      const p = packet(1 + rnd(40), 100 + rnd(40), 1000 + rnd(8), 80);
      const k = key(p);
      const row = t.lookup(p);
      if (row < 0) {
        expect(model.has(k)).toBe(false);
        if (t.count < cap) {
          p.ts = i;
          const r = t.insert(p);
          model.set(k, i);
          expect(t.firstSeen[r]).toBe(i);
        }
      } else {
        expect(t.firstSeen[row]).toBe(model.get(k));
        if (rnd(2) === 0) {
          t.remove(row);
          model.delete(k);
        }
      }
      expect(t.count).toBe(model.size);
    }
    expect(moved.length).toBeGreaterThan(0);
  });

  it('reports client and server endpoints by the clientIsA flag', () => {
    const t = new SessionTable(4);
    const p = packet(0x0a000002, 0x0a000001, 80, 40000);
    const row = t.insert((t.lookup(p), p));
    t.clientIsA[row] = t.lastIsA ? 0 : 1;
    const w = new Uint32Array(4);
    expect(t.client(row, w)).toBe(40000);
    expect(w[3]).toBe(0x0a000001);
    expect(t.server(row, w)).toBe(80);
    expect(w[3]).toBe(0x0a000002);
  });
});
