import { describe, expect, it } from 'vitest';
import { buildFrame, buildPcap } from '../testing/frame-builder.js';
import { CaptureFileError, readCaptureBuffer } from './capture-file.js';

interface Seen {
  linkType: number;
  len: number;
  wire: number;
  ts: number;
  iface: number;
  first: number;
}

function collect(bytes: Uint8Array): { frames: Seen[]; stats: ReturnType<typeof readCaptureBuffer> } {
  const frames: Seen[] = [];
  const stats = readCaptureBuffer(bytes, (linkType, buf, off, len, wire, ts, iface) => {
    frames.push({ linkType, len, wire, ts, iface, first: buf[off] });
  });
  return { frames, stats };
}

const frameA = buildFrame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 1000, dport: 53, payload: 'abc' });
const frameB = buildFrame({ src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', sport: 1000, dport: 80, flags: 'S' });

/** Rewrites a little-endian µs pcap into big-endian, optionally with nanosecond stamps. */
function toBigEndian(le: Uint8Array, nanos: boolean): Uint8Array {
  const out = le.slice();
  const src = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const dst = new DataView(out.buffer);
  dst.setUint32(0, nanos ? 0xa1b23c4d : 0xa1b2c3d4, false);
  dst.setUint16(4, 2, false);
  dst.setUint16(6, 4, false);
  dst.setUint32(16, src.getUint32(16, true), false);
  dst.setUint32(20, src.getUint32(20, true), false);
  for (let o = 24; o < le.length; ) {
    const cap = src.getUint32(o + 8, true);
    dst.setUint32(o, src.getUint32(o, true), false);
    dst.setUint32(o + 4, src.getUint32(o + 4, true) * (nanos ? 1000 : 1), false);
    dst.setUint32(o + 8, cap, false);
    dst.setUint32(o + 12, src.getUint32(o + 12, true), false);
    o += 16 + cap;
  }
  return out;
}

/** A pcapng section with one interface (optionally with if_tsresol) and enhanced packet blocks. */
function pcapng(le: boolean, frames: Uint8Array[], tsresol?: number, ts = 1_700_000_000_500_000): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + body.length;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, le);
    dv.setUint32(4, len, le);
    b.set(body, 8);
    dv.setUint32(len - 4, len, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sdv = new DataView(shb.buffer);
  sdv.setUint32(0, 0x1a2b3c4d, le);
  sdv.setUint16(4, 1, le);
  sdv.setBigInt64(8, -1n, le);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(tsresol === undefined ? 8 : 20);
  const idv = new DataView(idb.buffer);
  idv.setUint16(0, 1, le);
  idv.setUint32(4, 65535, le);
  if (tsresol !== undefined) {
    idv.setUint16(8, 9, le);
    idv.setUint16(10, 1, le);
    idb[12] = tsresol;
  }
  block(1, idb);
  for (const f of frames) {
    const pad = (4 - (f.length % 4)) % 4;
    const body = new Uint8Array(20 + f.length + pad);
    const dv = new DataView(body.buffer);
    const big = BigInt(ts);
    dv.setUint32(4, Number(big >> 32n), le);
    dv.setUint32(8, Number(big & 0xffffffffn), le);
    dv.setUint32(12, f.length, le);
    dv.setUint32(16, f.length + 100, le);
    body.set(f, 20);
    block(6, body);
  }
  const size = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(size);
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

describe('capture file reader', () => {
  const le = buildPcap([
    { ts: 1_700_000_000.25, frame: frameA },
    { ts: 1_700_000_001.5, frame: frameB },
  ]);

  it('reads little-endian microsecond pcap', () => {
    const { frames, stats } = collect(le);
    expect(stats).toMatchObject({ format: 'pcap', frames: 2, badRecords: 0, truncated: false });
    expect(frames.map((f) => f.len)).toEqual([frameA.length, frameB.length]);
    expect(frames[0].ts).toBeCloseTo(1_700_000_000.25, 5);
    expect(frames[0].linkType).toBe(1);
  });

  it('reads big-endian pcap with µs and ns stamps', () => {
    for (const nanos of [false, true]) {
      const { frames } = collect(toBigEndian(le, nanos));
      expect(frames.length).toBe(2);
      expect(frames[1].ts).toBeCloseTo(1_700_000_001.5, 5);
      expect(frames[1].len).toBe(frameB.length);
    }
  });

  it('reads pcapng in both byte orders with default and explicit timestamp resolution', () => {
    for (const order of [true, false]) {
      const micro = collect(pcapng(order, [frameA, frameB]));
      expect(micro.stats).toMatchObject({ format: 'pcapng', frames: 2, badRecords: 0 });
      expect(micro.frames[0].ts).toBeCloseTo(1_700_000_000.5, 5);
      expect(micro.frames[0].wire).toBe(frameA.length + 100);
      const nano = collect(pcapng(order, [frameA], 9, 1_700_000_000_123_456_789));
      expect(nano.frames[0].ts).toBeCloseTo(1_700_000_000.123456789, 5);
    }
  });

  it('reports a truncated last record instead of throwing', () => {
    const { frames, stats } = collect(le.subarray(0, le.length - 5));
    expect(frames.length).toBe(1);
    expect(stats.truncated).toBe(true);
  });

  it('stops at an impossible record length', () => {
    const bad = le.slice();
    new DataView(bad.buffer).setUint32(24 + 8, 0x7fffffff, true);
    const { frames, stats } = collect(bad);
    expect(frames.length).toBe(0);
    expect(stats.badRecords).toBe(1);
  });

  it('refuses a file that is not a capture with a coded error', () => {
    expect(() => collect(new TextEncoder().encode('hello world'))).toThrow(CaptureFileError);
    expect(() => collect(new Uint8Array(2))).toThrow(/shorter than 4 bytes/);
  });
});
