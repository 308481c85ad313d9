/**
 * Builds Ethernet frames (IPv4 or IPv6; TCP, UDP or ICMP) and pcap files for tests and benchmarks.
 * Checksums are filled in where receivers would verify them (IPv4 header); transport checksums
 * are left 0 because nothing in the data plane verifies them.
 */
import { parseAddress, isV4Mapped } from '../net/address.js';

export interface FrameSpec {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp';
  sport?: number;
  dport?: number;
  /** TCP flags as letters: S, A, F, R, P. */
  flags?: string;
  seq?: number;
  ack?: number;
  payload?: Uint8Array | string;
  /** ICMP type/code; for echo, `sport` is used as the identifier. */
  icmpType?: number;
  icmpCode?: number;
  srcMac?: string;
  dstMac?: string;
  ttl?: number;
  /** IPv4 fragmentation: offset in bytes (multiple of 8) and more-fragments flag. */
  fragOffset?: number;
  moreFragments?: boolean;
  ipId?: number;
  /** Raw TCP options bytes (length a multiple of 4). */
  tcpOptions?: Uint8Array;
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => parseInt(h, 16));
}

function ipv4Checksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i] << 8) | b[off + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function buildFrame(s: FrameSpec): Uint8Array {
  const srcW = parseAddress(s.src);
  const dstW = parseAddress(s.dst);
  if (!srcW || !dstW) throw new Error(`bad address in ${s.src} -> ${s.dst}`);
  const v4 = isV4Mapped(srcW);
  const payload = typeof s.payload === 'string' ? new TextEncoder().encode(s.payload) : (s.payload ?? new Uint8Array(0));
  const opts = s.tcpOptions ?? new Uint8Array(0);
  const fragmentBody = (s.fragOffset ?? 0) > 0;
  const l4Len = fragmentBody ? 0 : s.proto === 'tcp' ? 20 + opts.length : 8;
  const ipHdr = v4 ? 20 : 40;
  const total = 14 + ipHdr + l4Len + payload.length;
  const b = new Uint8Array(total);
  b.set(macBytes(s.dstMac ?? '02:00:00:00:00:02'), 0);
  b.set(macBytes(s.srcMac ?? '02:00:00:00:00:01'), 6);
  const protoNum = s.proto === 'tcp' ? 6 : s.proto === 'udp' ? 17 : v4 ? 1 : 58;
  let o = 14;
  if (v4) {
    b[12] = 0x08;
    b[13] = 0x00;
    b[o] = 0x45;
    const ipLen = ipHdr + l4Len + payload.length;
    b[o + 2] = ipLen >> 8;
    b[o + 3] = ipLen & 255;
    const id = s.ipId ?? 1;
    b[o + 4] = id >> 8;
    b[o + 5] = id & 255;
    const frag = ((s.fragOffset ?? 0) >> 3) | (s.moreFragments ? 0x2000 : 0);
    b[o + 6] = frag >> 8;
    b[o + 7] = frag & 255;
    b[o + 8] = s.ttl ?? 64;
    b[o + 9] = protoNum;
    for (let i = 0; i < 4; i++) {
      b[o + 12 + i] = (srcW[3] >>> (24 - 8 * i)) & 255;
      b[o + 16 + i] = (dstW[3] >>> (24 - 8 * i)) & 255;
    }
    const c = ipv4Checksum(b, o, 20);
    b[o + 10] = c >> 8;
    b[o + 11] = c & 255;
  } else {
    b[12] = 0x86;
    b[13] = 0xdd;
    b[o] = 0x60;
    const plen = l4Len + payload.length;
    b[o + 4] = plen >> 8;
    b[o + 5] = plen & 255;
    b[o + 6] = protoNum;
    b[o + 7] = s.ttl ?? 64;
    for (let w = 0; w < 4; w++) for (let i = 0; i < 4; i++) {
      b[o + 8 + w * 4 + i] = (srcW[w] >>> (24 - 8 * i)) & 255;
      b[o + 24 + w * 4 + i] = (dstW[w] >>> (24 - 8 * i)) & 255;
    }
  }
  o += ipHdr;
  if (!fragmentBody) {
    const sport = s.sport ?? 0;
    const dport = s.dport ?? 0;
    if (s.proto === 'tcp') {
      b[o] = sport >> 8;
      b[o + 1] = sport & 255;
      b[o + 2] = dport >> 8;
      b[o + 3] = dport & 255;
      const seq = s.seq ?? 1000;
      const ack = s.ack ?? 0;
      for (let i = 0; i < 4; i++) {
        b[o + 4 + i] = (seq >>> (24 - 8 * i)) & 255;
        b[o + 8 + i] = (ack >>> (24 - 8 * i)) & 255;
      }
      b[o + 12] = ((20 + opts.length) / 4) << 4;
      let f = 0;
      for (const ch of s.flags ?? 'A') f |= ch === 'F' ? 1 : ch === 'S' ? 2 : ch === 'R' ? 4 : ch === 'P' ? 8 : ch === 'A' ? 16 : 0;
      b[o + 13] = f;
      b[o + 14] = 0xff;
      b[o + 15] = 0xff;
      b.set(opts, o + 20);
    } else if (s.proto === 'udp') {
      b[o] = sport >> 8;
      b[o + 1] = sport & 255;
      b[o + 2] = dport >> 8;
      b[o + 3] = dport & 255;
      const ulen = 8 + payload.length;
      b[o + 4] = ulen >> 8;
      b[o + 5] = ulen & 255;
    } else {
      b[o] = s.icmpType ?? (v4 ? 8 : 128);
      b[o + 1] = s.icmpCode ?? 0;
      b[o + 4] = sport >> 8;
      b[o + 5] = sport & 255;
    }
  }
  b.set(payload, o + l4Len);
  return b;
}

/** A classic pcap (µs, little-endian, Ethernet) in memory. */
export function buildPcap(frames: { ts: number; frame: Uint8Array }[]): Uint8Array {
  const size = 24 + frames.reduce((n, f) => n + 16 + f.frame.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, 1, true);
  let o = 24;
  for (const { ts, frame } of frames) {
    const sec = Math.floor(ts);
    dv.setUint32(o, sec, true);
    dv.setUint32(o + 4, Math.round((ts - sec) * 1e6), true);
    dv.setUint32(o + 8, frame.length, true);
    dv.setUint32(o + 12, frame.length, true);
    out.set(frame, o + 16);
    o += 16 + frame.length;
  }
  return out;
}
