import { bpfMapCreate, bpfMapLookup, bpfMapUpdate, closeFd } from '@mseg/capture';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BypassTable } from '../bypass/bypass-table.js';
import { KEY_SIZE, MAP_ENTRIES, MAP_NAME, MAP_TYPE_HASH, VALUE_SIZE, writeKey } from '../bypass/layout.js';
import { LinkType } from '../decode/linktype.js';
import { parseAddress } from '../net/address.js';
import type { ConnectionRecord } from '../report/connection-aggregator.js';
import { buildFrame, type FrameSpec } from '../testing/frame-builder.js';
import { DataPlane } from './data-plane.js';

const PORT = 7;
const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

function key(src: string, sport: number, dst: string, dport: number): Uint8Array {
  const k = new Uint8Array(KEY_SIZE);
  writeKey(new DataView(k.buffer), 0, PORT, parseAddress(src)!, sport, parseAddress(dst)!, dport);
  return k;
}
const UP = key(CLIENT, 41000, SERVER, 9000);
const DOWN = key(SERVER, 9000, CLIENT, 41000);

function inMap(fd: number, k: Uint8Array): boolean {
  return bpfMapLookup(fd, k, KEY_SIZE, new Uint8Array(VALUE_SIZE), VALUE_SIZE) === 1;
}

/** What the mirror program does instead of copying: add to the entry's counters. */
function kernelCounts(fd: number, k: Uint8Array, packets: number, bytes: number): void {
  const v = new Uint8Array(VALUE_SIZE);
  bpfMapLookup(fd, k, KEY_SIZE, v, VALUE_SIZE);
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, dv.getBigUint64(0, true) + BigInt(packets), true);
  dv.setBigUint64(8, dv.getBigUint64(8, true) + BigInt(bytes), true);
  expect(bpfMapUpdate(fd, k, KEY_SIZE, v, VALUE_SIZE, 2)).toBe(1);
}

let fd = -1;
let dp: DataPlane;
let got: ConnectionRecord[];
let t0: number;

function send(ts: number, fromClient: boolean, flags: string, payload?: string): void {
  const spec: FrameSpec = fromClient
    ? { src: CLIENT, dst: SERVER, proto: 'tcp', sport: 41000, dport: 9000, flags, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' }
    : { src: SERVER, dst: CLIENT, proto: 'tcp', sport: 9000, dport: 41000, flags, srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01' };
  const f = buildFrame(payload === undefined ? spec : { ...spec, payload });
  dp.handleFrame(LinkType.ETHERNET, f, 0, f.length, f.length, ts, PORT);
}

function handshakeAndData(): void {
  send(t0, true, 'S');
  send(t0, false, 'SA');
  send(t0, true, 'A');
  // No parsers: DPI is done with the first payload.
  send(t0 + 0.1, true, 'PA', 'x'.repeat(100));
}

beforeEach(() => {
  fd = bpfMapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, MAP_ENTRIES, MAP_NAME);
  got = [];
  t0 = 1000;
  dp = new DataPlane({ sessions: 1024, parsers: [], bypass: new BypassTable(fd, 1024), onConnections: (b) => got.push(...b) });
  dp.ports.set({ ifindex: PORT, workloadId: 'srv', macs: ['02:00:00:00:00:02'], ips: [SERVER] });
});

afterEach(() => {
  if (fd >= 0) closeFd(fd);
  fd = -1;
});

describe('the session bypass', () => {
  it('takes an established TCP session in once DPI is done, and reports what the kernel counted with it', () => {
    handshakeAndData();
    expect(inMap(fd, UP) && inMap(fd, DOWN)).toBe(true);
    expect(dp.counters().bypassActive).toBe(1);
    kernelCounts(fd, UP, 10, 15_000);
    kernelCounts(fd, DOWN, 5, 260);
    dp.tick(t0 + 6);
    dp.flush();
    expect(got).toHaveLength(1);
    const r = got[0];
    // SYN 40 + ACK 40 + 140 of data copied, 15,000 counted; back: SYN-ACK 40 + 260.
    expect([r.packetsToServer, r.bytesToServer, r.packetsToClient, r.bytesToClient]).toEqual([13, 15_220, 6, 300]);
    expect(dp.counters()).toMatchObject({ bypassPackets: 15, bypassBytes: 15_260 });
  });

  it('keeps a bypassed session alive while the kernel counts it, and deletes its entries when it ends', () => {
    handshakeAndData();
    // Established sessions idle out after an hour of nothing: the kernel's counts are activity.
    for (let s = 1; s <= 3; s++) {
      kernelCounts(fd, UP, 1, 1000);
      dp.tick(t0 + s * 1800);
    }
    expect(dp.table.count).toBe(1);
    send(t0 + 5500, true, 'FA');
    send(t0 + 5500, false, 'FA');
    expect(inMap(fd, UP)).toBe(true);
    dp.tick(t0 + 5600);
    expect(dp.table.count).toBe(0);
    expect(inMap(fd, UP) || inMap(fd, DOWN)).toBe(false);
    expect(dp.counters().bypassActive).toBe(0);
  });

  it('leaves UDP and sessions of no registered port copied', () => {
    const u = buildFrame({ src: CLIENT, dst: SERVER, proto: 'udp', sport: 41000, dport: 9000, payload: 'q' });
    dp.handleFrame(LinkType.ETHERNET, u, 0, u.length, u.length, t0, PORT);
    const other = buildFrame({ src: CLIENT, dst: SERVER, proto: 'tcp', sport: 41001, dport: 9000, flags: 'PA', payload: 'x' });
    dp.handleFrame(LinkType.ETHERNET, other, 0, other.length, other.length, t0, 99);
    expect(dp.counters().bypassActive).toBe(0);
  });

  it('puts a session back to being copied when its port goes', () => {
    handshakeAndData();
    kernelCounts(fd, DOWN, 2, 3000);
    dp.removePort(PORT);
    expect(inMap(fd, UP)).toBe(false);
    expect(got.reduce((n, r) => n + r.bytesToClient, 0)).toBe(3040);
  });

  it('takes the last counts of a replaced map and leaves its sessions copied', () => {
    handshakeAndData();
    kernelCounts(fd, UP, 3, 4500);
    const next = bpfMapCreate(MAP_TYPE_HASH, KEY_SIZE, VALUE_SIZE, MAP_ENTRIES, MAP_NAME);
    try {
      dp.setBypass(new BypassTable(next, 1024));
      // Closed by the data plane once its counts were taken.
      const closed = fd;
      fd = -1;
      expect(() => inMap(closed, UP)).toThrow(/Bad file descriptor/);
      expect(inMap(next, UP)).toBe(false);
      expect(dp.counters().bypassActive).toBe(0);
      dp.flush();
      expect(got.reduce((n, r) => n + r.bytesToServer, 0)).toBe(40 + 40 + 140 + 4500);
    } finally {
      closeFd(next);
    }
  });
});
