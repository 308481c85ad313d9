/** Builders of pcap streams with NFLOG records, as tcpdump -i nflog:N -w - writes them (tests). */
import { LINKTYPE_NFLOG } from '../enforce/nflog.js';

/** A pcap file header (µs timestamps) for NFLOG in the given byte order. */
export function fileHeader(le: boolean): Buffer {
  const b = Buffer.alloc(24);
  const w32 = (v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w16 = (v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  w32(0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(262144, 16);
  w32(LINKTYPE_NFLOG, 20);
  return b;
}

export function tlv(type: number, value: Buffer, le: boolean): Buffer {
  const len = 4 + value.length;
  const b = Buffer.alloc((len + 3) & ~3);
  if (le) {
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
  } else {
    b.writeUInt16BE(len, 0);
    b.writeUInt16BE(type, 2);
  }
  value.copy(b, 4);
  return b;
}

export function tcp4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const p = Buffer.alloc(40);
  p[0] = 0x45;
  p.writeUInt16BE(40, 2);
  p[8] = 64;
  p[9] = 6;
  Buffer.from(src).copy(p, 12);
  Buffer.from(dst).copy(p, 16);
  p.writeUInt16BE(sport, 20);
  p.writeUInt16BE(dport, 22);
  return p;
}

export function udp6(sport: number, dport: number): Buffer {
  const p = Buffer.alloc(48);
  p[0] = 0x60;
  p.writeUInt16BE(8, 4);
  p[6] = 17;
  p[7] = 64;
  Buffer.from('fd000000000000000000000000000003', 'hex').copy(p, 8);
  Buffer.from('fd000000000000000000000000000002', 'hex').copy(p, 24);
  p.writeUInt16BE(sport, 40);
  p.writeUInt16BE(dport, 42);
  return p;
}

export function record(le: boolean, sec: number, usec: number, prefix: string, payload: Buffer): Buffer {
  const head = Buffer.from([2, 0, 0x19, 0xad]); // AF_INET, version 0, group 6573
  const data = Buffer.concat([head, tlv(1, Buffer.alloc(4), le), tlv(10, Buffer.from(`${prefix}\0`), le), tlv(9, payload, le)]);
  const h = Buffer.alloc(16);
  const w = (v: number, o: number) => (le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w(sec, 0);
  w(usec, 4);
  w(data.length, 8);
  w(data.length, 12);
  return Buffer.concat([h, data]);
}

