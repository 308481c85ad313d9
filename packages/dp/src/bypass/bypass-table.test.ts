import { bpfMapCreate, bpfMapLookup, bpfMapUpdate, closeFd } from '@mseg/capture';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddress } from '../net/address.js';
import { BypassTable } from './bypass-table.js';
import { KEY_SIZE, MAP_ENTRIES, MAP_NAME, MAP_TYPE_HASH, VALUE_SIZE, writeKey } from './layout.js';

const C = parseAddress('10.0.0.1')!;
const S = parseAddress('fd00::2')!;

function key(port: number, src: Uint32Array, sport: number, dst: Uint32Array, dport: number): Uint8Array {
  const k = new Uint8Array(KEY_SIZE);
  writeKey(new DataView(k.buffer), 0, port, src, sport, dst, dport);
  return k;
}

function read(fd: number, k: Uint8Array): { found: number; packets: bigint; bytes: bigint } {
  const v = new Uint8Array(VALUE_SIZE);
  const found = bpfMapLookup(fd, k, KEY_SIZE, v, VALUE_SIZE);
  const dv = new DataView(v.buffer);
  return { found, packets: dv.getBigUint64(0, true), bytes: dv.getBigUint64(8, true) };
}

/** What the mirror program does for each segment it does not copy. */
function count(fd: number, k: Uint8Array, packets: number, bytes: number): void {
  const now = read(fd, k);
  const v = new Uint8Array(VALUE_SIZE);
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, now.packets + BigInt(packets), true);
  dv.setBigUint64(8, now.bytes + BigInt(bytes), true);
  expect(bpfMapUpdate(fd, k, KEY_SIZE, v, VALUE_SIZE, 2)).toBe(1);
}

const open: number[] = [];
afterEach(() => {
  for (const fd of open.splice(0)) closeFd(fd);
});

function map(entries = MAP_ENTRIES): number {
  const fd = bpfMapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, entries, MAP_NAME);
  open.push(fd);
  return fd;
}

describe('BypassTable over a kernel map', () => {
  it('puts both directions of a session in, reports what the kernel counted, and takes them out at the end', () => {
    const fd = map();
    const t = new BypassTable(fd, 16);
    expect(t.add(3, 7, C, 40000, S, 80)).toBe(true);
    const up = key(7, C, 40000, S, 80);
    const down = key(7, S, 80, C, 40000);
    expect(read(fd, up)).toEqual({ found: 1, packets: 0n, bytes: 0n });
    expect(read(fd, down).found).toBe(1);

    const deltas: number[][] = [];
    const onDelta = (...d: number[]): number => deltas.push(d);
    t.poll(onDelta);
    expect(deltas).toEqual([]);
    count(fd, up, 2, 3000);
    count(fd, down, 1, 52);
    t.poll(onDelta);
    expect(deltas).toEqual([[3, 2, 3000, 1, 52]]);
    count(fd, down, 4, 6000);
    t.poll(onDelta);
    expect(deltas[1]).toEqual([3, 0, 0, 4, 6000]);
    expect([t.packets, t.bytes]).toEqual([7, 9052]);

    count(fd, up, 1, 40);
    t.remove(3, onDelta);
    expect(deltas[2]).toEqual([3, 1, 40, 0, 0]);
    expect(read(fd, up).found).toBe(0);
    expect(read(fd, down).found).toBe(0);
    expect(t.has(3)).toBe(false);
    expect(t.count).toBe(0);
  });

  it('follows rows the session table moves, and keeps its slots packed on removal', () => {
    const fd = map();
    const t = new BypassTable(fd, 16);
    const D = parseAddress('10.0.0.9')!;
    t.add(1, 7, C, 40001, D, 80);
    t.add(2, 7, C, 40002, D, 80);
    t.add(5, 7, C, 40005, D, 80);
    t.remove(1, () => {});
    t.move(5, 1);
    const deltas: number[][] = [];
    count(fd, key(7, C, 40005, D, 80), 1, 100);
    count(fd, key(7, C, 40002, D, 80), 1, 200);
    t.poll((...d) => deltas.push(d));
    expect(deltas.sort((a, b) => a[0] - b[0])).toEqual([[1, 1, 100, 0, 0], [2, 1, 200, 0, 0]]);
    expect(t.has(5)).toBe(false);
    expect(t.count).toBe(2);
  });

  it('leaves a session copied when the map is full, without half an entry', () => {
    const fd = map(3);
    const t = new BypassTable(fd, 16);
    expect(t.add(0, 7, C, 40000, S, 80)).toBe(true);
    expect(t.add(1, 7, C, 40001, S, 80)).toBe(false);
    expect(read(fd, key(7, C, 40001, S, 80)).found).toBe(0);
    expect([t.count, t.full]).toEqual([1, 1]);
  });

  it('clears every entry: the sessions are copied again', () => {
    const fd = map();
    const t = new BypassTable(fd, 16);
    t.add(0, 7, C, 40000, S, 80);
    t.add(4, 7, C, 40004, S, 80);
    t.clear();
    expect(read(fd, key(7, C, 40000, S, 80)).found).toBe(0);
    expect(read(fd, key(7, S, 80, C, 40004)).found).toBe(0);
    expect([t.count, t.has(0), t.has(4)]).toEqual([0, false, false]);
    expect(t.add(4, 7, C, 40004, S, 80)).toBe(true);
  });
});
