/**
 * Reading the deny log: a pcap byte stream (as `tcpdump -i nflog:N -w -` writes it) parsed in
 * chunks, and the NFLOG link type (239) decoded into the log prefix and the IP packet.
 *
 * pcap: a 24-byte file header whose magic gives the byte order (and µs or ns timestamps), then
 * per packet a 16-byte header (seconds, fraction, captured length, original length) and the data.
 * NFLOG (tcpdump's LINKTYPE_NFLOG): family (1 byte), version (1), resource id = group (2, big
 * endian), then TLVs of length (2) and type (2) in the capturing host's byte order (the pcap
 * magic's), the length counting the 4-byte TLV header, each TLV padded to 4 bytes.
 */
import { formatAddress } from '@mseg/dp';

export const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;
/** Larger than any record tcpdump writes for our snaplen: a corrupt length stops the stream. */
const MAX_RECORD = 1 << 18;

export interface PcapRecord {
  /** ms since the epoch. */
  at: number;
  data: Buffer;
}

export class PcapError extends Error {
  readonly code = 'MSEG_ERR_AGENT_PCAP';
}

export class PcapStream {
  private buf: Buffer = Buffer.alloc(0);
  private le: boolean | null = null;
  private nanos = false;
  linktype = -1;

  /** Returns the records complete in what has arrived so far. */
  push(chunk: Buffer): PcapRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: PcapRecord[] = [];
    if (this.le === null) {
      if (this.buf.length < 24) return out;
      const magicLe = this.buf.readUInt32LE(0);
      if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) this.le = true;
      else if (this.buf.readUInt32BE(0) === 0xa1b2c3d4 || this.buf.readUInt32BE(0) === 0xa1b23c4d) this.le = false;
      else throw new PcapError(`not a pcap stream (magic ${magicLe.toString(16)})`);
      this.nanos = (this.le ? magicLe : this.buf.readUInt32BE(0)) === 0xa1b23c4d;
      this.linktype = this.u32(20) & 0xffff;
      this.buf = this.buf.subarray(24);
    }
    let off = 0;
    while (this.buf.length - off >= 16) {
      const sec = this.u32(off);
      const frac = this.u32(off + 4);
      const incl = this.u32(off + 8);
      if (incl > MAX_RECORD) throw new PcapError(`record of ${incl} bytes`);
      if (this.buf.length - off - 16 < incl) break;
      // A copy: the stream buffer is reused for what follows.
      out.push({ at: sec * 1000 + Math.floor(this.nanos ? frac / 1e6 : frac / 1e3), data: Buffer.from(this.buf.subarray(off + 16, off + 16 + incl)) });
      off += 16 + incl;
    }
    this.buf = this.buf.subarray(off);
    return out;
  }

  /** Byte order of the capturing host, which NFLOG TLV headers also use. */
  get littleEndian(): boolean {
    return this.le ?? true;
  }

  private u32(off: number): number {
    return this.le ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off);
  }
}

export interface NflogPacket {
  group: number;
  prefix: string;
  proto: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
}

/** Decodes one NFLOG record; null when it carries no IP packet we can read. */
export function decodeNflog(data: Buffer, littleEndian: boolean): NflogPacket | null {
  if (data.length < 4) return null;
  const group = data.readUInt16BE(2);
  let prefix = '';
  let payload: Buffer | null = null;
  let off = 4;
  while (off + 4 <= data.length) {
    const len = littleEndian ? data.readUInt16LE(off) : data.readUInt16BE(off);
    const type = (littleEndian ? data.readUInt16LE(off + 2) : data.readUInt16BE(off + 2)) & 0x7fff;
    if (len < 4 || off + len > data.length) break;
    const value = data.subarray(off + 4, off + len);
    if (type === NFULA_PREFIX) prefix = value.toString('latin1').replace(/\0.*$/s, '');
    else if (type === NFULA_PAYLOAD) payload = value;
    off += (len + 3) & ~3;
  }
  if (!payload) return null;
  const ip = decodeIp(payload);
  return ip ? { group, prefix, ...ip } : null;
}

const PORTED = new Set([6, 17, 132]);
const V6_EXT = new Set([0, 43, 60]);

function decodeIp(p: Buffer): Omit<NflogPacket, 'group' | 'prefix'> | null {
  if (p.length < 1) return null;
  const version = p[0] >> 4;
  let proto: number;
  let l4: number;
  let src: string;
  let dst: string;
  if (version === 4) {
    if (p.length < 20) return null;
    l4 = (p[0] & 15) * 4;
    proto = p[9];
    src = `${p[12]}.${p[13]}.${p[14]}.${p[15]}`;
    dst = `${p[16]}.${p[17]}.${p[18]}.${p[19]}`;
    // A non-first fragment carries no transport header.
    if ((p.readUInt16BE(6) & 0x1fff) !== 0) return { proto, src, dst, srcPort: 0, dstPort: 0 };
  } else if (version === 6) {
    if (p.length < 40) return null;
    src = v6(p, 8);
    dst = v6(p, 24);
    proto = p[6];
    l4 = 40;
    while (V6_EXT.has(proto) && l4 + 8 <= p.length) {
      proto = p[l4];
      l4 += (p[l4 + 1] + 1) * 8;
    }
  } else return null;
  const ports = PORTED.has(proto) && l4 + 4 <= p.length;
  return { proto, src, dst, srcPort: ports ? p.readUInt16BE(l4) : 0, dstPort: ports ? p.readUInt16BE(l4 + 2) : 0 };
}

function v6(p: Buffer, off: number): string {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = p.readUInt32BE(off + i * 4);
  return formatAddress(w);
}
