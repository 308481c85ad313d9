import { describe, expect, it } from 'vitest';
import { fileHeader, record, tcp4, tlv, udp6 } from '../testing/nflog-builder.js';
import { decodeNflog, LINKTYPE_NFLOG, PcapError, PcapStream } from './nflog.js';

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
