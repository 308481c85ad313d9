/**
 * Pure-TypeScript reader for pcap and pcapng capture files: both byte orders, µs and ns time
 * stamps (pcapng: any if_tsresol), several interfaces and sections. The file is read in large
 * chunks into one reused window; each frame is handed to the sink as a view (buffer, offset,
 * length) that is valid only during the call.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { DpError } from '../errors.js';

export type FrameSink = (
  linkType: number,
  buf: Uint8Array,
  off: number,
  capLen: number,
  wireLen: number,
  ts: number,
  ifindex: number,
) => void;

export interface CaptureFileStats {
  format: 'pcap' | 'pcapng';
  frames: number;
  /** Records that could not be read (bad lengths, unknown interface); reading stops at a corrupt pcap record. */
  badRecords: number;
  /** True when the file ended in the middle of a record. */
  truncated: boolean;
}

export class CaptureFileError extends DpError {
  constructor(message: string) {
    super('MSEG_ERR_DP_CAPTURE_FILE', message);
  }
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Larger than any snap length in use (262144) with room for pcapng block overhead. */
const MAX_RECORD = 1 << 20;
const WINDOW = 8 << 20;

/** Byte source over a file or an in-memory buffer with a sliding window. */
class Window {
  buf: Uint8Array;
  start = 0;
  end = 0;
  private eof = false;
  constructor(
    private readonly fd: number,
    initial?: Uint8Array,
  ) {
    if (initial) {
      this.buf = initial;
      this.end = initial.length;
      this.eof = true;
    } else {
      this.buf = new Uint8Array(WINDOW);
    }
  }
  /** Ensure n bytes are available from `start`; false at end of input. */
  ensure(n: number): boolean {
    if (this.end - this.start >= n) return true;
    if (this.eof) return false;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.end));
      this.buf = bigger;
    }
    while (this.end - this.start < n && !this.eof) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end - this.start >= n;
  }
  get available(): number {
    return this.end - this.start;
  }
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

/** Reads a whole capture file, calling `sink` once per frame. Throws only for a file that is not a capture. */
export function readCaptureFile(path: string, sink: FrameSink): CaptureFileStats {
  const fd = openSync(path, 'r');
  try {
    return readFrom(new Window(fd), sink);
  } finally {
    closeSync(fd);
  }
}

/** Same as readCaptureFile over bytes already in memory. */
export function readCaptureBuffer(bytes: Uint8Array, sink: FrameSink): CaptureFileStats {
  return readFrom(new Window(-1, bytes), sink);
}

function readFrom(w: Window, sink: FrameSink): CaptureFileStats {
  if (!w.ensure(4)) throw new CaptureFileError('not a capture file: shorter than 4 bytes');
  const magicBe = u32(w.buf, w.start, false);
  if (magicBe === PCAPNG_SHB) return readPcapng(w, sink);
  const magicLe = u32(w.buf, w.start, true);
  if (magicLe === PCAP_US || magicLe === PCAP_NS) return readPcap(w, sink, true, magicLe === PCAP_NS);
  if (magicBe === PCAP_US || magicBe === PCAP_NS) return readPcap(w, sink, false, magicBe === PCAP_NS);
  throw new CaptureFileError(`not a pcap or pcapng file (magic 0x${magicBe.toString(16).padStart(8, '0')})`);
}

function readPcap(w: Window, sink: FrameSink, le: boolean, nanos: boolean): CaptureFileStats {
  const stats: CaptureFileStats = { format: 'pcap', frames: 0, badRecords: 0, truncated: false };
  if (!w.ensure(24)) {
    stats.truncated = true;
    return stats;
  }
  const linkType = u32(w.buf, w.start + 20, le) & 0x0fffffff; // upper bits carry FCS info
  w.start += 24;
  const div = nanos ? 1e9 : 1e6;
  for (;;) {
    if (!w.ensure(16)) {
      stats.truncated = w.available > 0;
      break;
    }
    const b = w.buf;
    const o = w.start;
    const sec = u32(b, o, le);
    const frac = u32(b, o + 4, le);
    const capLen = u32(b, o + 8, le);
    const wireLen = u32(b, o + 12, le);
    if (capLen > MAX_RECORD) {
      // A corrupt record length leaves no way to find the next record in classic pcap.
      stats.badRecords++;
      break;
    }
    if (!w.ensure(16 + capLen)) {
      stats.truncated = true;
      break;
    }
    stats.frames++;
    sink(linkType, w.buf, w.start + 16, capLen, wireLen < capLen ? capLen : wireLen, sec + frac / div, 0);
    w.start += 16 + capLen;
  }
  return stats;
}

interface Iface {
  linkType: number;
  snapLen: number;
  /** Seconds per timestamp unit. */
  unit: number;
}

function readPcapng(w: Window, sink: FrameSink): CaptureFileStats {
  const stats: CaptureFileStats = { format: 'pcapng', frames: 0, badRecords: 0, truncated: false };
  let le = true;
  let ifaces: Iface[] = [];
  for (;;) {
    if (!w.ensure(12)) {
      stats.truncated = w.available > 0;
      break;
    }
    let b = w.buf;
    let o = w.start;
    const typeBe = u32(b, o, false);
    if (typeBe === PCAPNG_SHB) {
      // Byte order is defined per section by the magic that follows the block length.
      const bom = u32(b, o + 8, true);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (u32(b, o + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else {
        stats.badRecords++;
        break;
      }
      ifaces = [];
    }
    const type = u32(b, o, le);
    const len = u32(b, o + 4, le);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
      stats.badRecords++;
      break;
    }
    if (!w.ensure(len)) {
      stats.truncated = true;
      break;
    }
    b = w.buf;
    o = w.start;
    const bodyEnd = o + len - 4;
    switch (type) {
      case 1: {
        // Interface Description Block
        if (len < 20) {
          stats.badRecords++;
          break;
        }
        const iface: Iface = { linkType: u16(b, o + 8, le), snapLen: u32(b, o + 12, le), unit: 1e-6 };
        let p = o + 16;
        while (p + 4 <= bodyEnd) {
          const code = u16(b, p, le);
          const olen = u16(b, p + 2, le);
          if (code === 0) break;
          if (code === 9 && olen >= 1 && p + 5 <= bodyEnd) {
            const r = b[p + 4];
            iface.unit = r & 0x80 ? Math.pow(2, -(r & 0x7f)) : Math.pow(10, -r);
          }
          p += 4 + ((olen + 3) & ~3);
        }
        ifaces.push(iface);
        break;
      }
      case 6: {
        // Enhanced Packet Block
        if (len < 32) {
          stats.badRecords++;
          break;
        }
        const ifId = u32(b, o + 8, le);
        const iface = ifaces[ifId];
        const capLen = u32(b, o + 20, le);
        const wireLen = u32(b, o + 24, le);
        if (!iface || 28 + capLen > len - 4) {
          stats.badRecords++;
          break;
        }
        const ts = (u32(b, o + 12, le) * 4294967296 + u32(b, o + 16, le)) * iface.unit;
        stats.frames++;
        sink(iface.linkType, b, o + 28, capLen, wireLen < capLen ? capLen : wireLen, ts, ifId);
        break;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp.
        const iface = ifaces[0];
        if (!iface || len < 16) {
          stats.badRecords++;
          break;
        }
        const wireLen = u32(b, o + 8, le);
        let capLen = len - 16;
        if (wireLen < capLen) capLen = wireLen;
        if (iface.snapLen > 0 && capLen > iface.snapLen) capLen = iface.snapLen;
        stats.frames++;
        sink(iface.linkType, b, o + 12, capLen, wireLen, 0, 0);
        break;
      }
      case 2: {
        // Obsolete Packet Block: 16-bit interface id, 16-bit drops count.
        if (len < 32) {
          stats.badRecords++;
          break;
        }
        const ifId = u16(b, o + 8, le);
        const iface = ifaces[ifId];
        const capLen = u32(b, o + 20, le);
        const wireLen = u32(b, o + 24, le);
        if (!iface || 28 + capLen > len - 4) {
          stats.badRecords++;
          break;
        }
        const ts = (u32(b, o + 12, le) * 4294967296 + u32(b, o + 16, le)) * iface.unit;
        stats.frames++;
        sink(iface.linkType, b, o + 28, capLen, wireLen < capLen ? capLen : wireLen, ts, ifId);
        break;
      }
      default:
        break; // name resolution, statistics, custom blocks: nothing for the data plane
    }
    w.start += len;
  }
  return stats;
}
