import { describe, expect, it } from 'vitest';
import { decodeNflog, LINKTYPE_NFLOG, PcapError, PcapStream } from './nflog.js';

/** A pcap file header (µs timestamps) for NFLOG in the given byte order. */
function fileHeader(le: boolean): Buffer {
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

function tlv(type: number, value: Buffer, le: boolean): Buffer {
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

function tcp4(src: number[], dst: number[], sport: number, dport: number): Buffer {
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

function udp6(sport: number, dport: number): Buffer {
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

function record(le: boolean, sec: number, usec: number, prefix: string, payload: Buffer): Buffer {
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

describe('NFLOG pcap stream', () => {
  for (const le of [true, false]) {
    it(`decodes records split at every byte (${le ? 'little' : 'big'} endian)`, () => {
      const stream = Buffer.concat([
        fileHeader(le),
        record(le, 1_700_000_000, 250_000, 'mseg:in:0', tcp4([10, 0, 0, 3], [10, 0, 0, 2], 41000, 8080)),
        record(le, 1_700_000_001, 0, 'mseg:out:7', udp6(5353, 53)),
      ]);
      for (const step of [1, 3, 7, stream.length]) {
        const p = new PcapStream();
        const recs = [];
        for (let i = 0; i < stream.length; i += step) recs.push(...p.push(stream.subarray(i, i + step)));
        expect(p.linktype).toBe(LINKTYPE_NFLOG);
        expect(recs.map((r) => r.at)).toEqual([1_700_000_000_250, 1_700_000_001_000]);
        expect(recs.map((r) => decodeNflog(r.data, p.littleEndian))).toEqual([
          { group: 6573, prefix: 'mseg:in:0', proto: 6, src: '10.0.0.3', dst: '10.0.0.2', srcPort: 41000, dstPort: 8080 },
          { group: 6573, prefix: 'mseg:out:7', proto: 17, src: 'fd00::3', dst: 'fd00::2', srcPort: 5353, dstPort: 53 },
        ]);
      }
    });
  }

  it('refuses a stream that is not pcap, and a record with an absurd length', () => {
    expect(() => new PcapStream().push(Buffer.alloc(24, 1))).toThrow(PcapError);
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(1 << 30, 8);
    expect(() => new PcapStream().push(Buffer.concat([fileHeader(true), bad]))).toThrow('record of 1073741824 bytes');
  });

  it('returns null for records without a readable IP packet, never throws on short data', () => {
    expect(decodeNflog(Buffer.from([2, 0, 0, 1]), true)).toBeNull();
    const truncated = Buffer.concat([Buffer.from([2, 0, 0, 1]), tlv(9, Buffer.from([0x45, 0, 0]), true)]);
    expect(decodeNflog(truncated, true)).toBeNull();
    const badLen = Buffer.from([2, 0, 0, 1, 200, 0, 9, 0, 1, 2]);
    expect(decodeNflog(badLen, true)).toBeNull();
  });
});
