import { describe, expect, it } from 'vitest';
import tftp from './tftp.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted } from '../../../test/db-kit.js';

slotted(tftp);

// tftp.pcap, 192.168.0.253:50618 -> 192.168.0.10:69: RRQ rfc1350.txt octet.
const RRQ = '0001726663313335302e747874006f6374657400';
// tftp.pcap, 172.28.5.91:44618 -> 172.28.5.170:69: WRQ zz.bin netascii.
const WRQ = '00027a7a2e62696e006e6574617363696900';
// tftp.pcap, 192.168.2.45:35840 -> 192.168.2.200:69: WRQ with blksize and tsize (RFC 2347), and the OACK.
const WRQ_OPTIONS = '0002656d7074793130304b42006f6374657400626c6b73697a650031343638007473697a650031303030303000';
const OACK = '0006626c6b73697a650031343638007473697a650031303030303000';
// tftp.pcap, 192.168.0.10:3445 <-> 192.168.0.253:50618: DATA 1 (first octets) and ACK 1.
const DATA1 = '000300010a0a0a0a0a0a4e6574776f726b20576f726b696e672047726f7570';
const ACK1 = '00040001';
// tftp.pcap, 172.28.5.170:62058 <-> 172.28.5.91:44618: ACK 0 to a WRQ, then DATA 1 (twice) and ACK 1.
const ACK0 = '00040000';
const DATA1_GZ = '000300011f8b08009ca8f7600003ecdcbd6e9ed982a6e7dc47f1a1039a0c';
// tftp.pcap, 172.28.4.53:54626: an RRQ with an empty file name (not claimed).
const RRQ_EMPTY = '000100000000000000000000006f6374657400';

describe('tftp parser', () => {
  it('matches requests and option acknowledgments on their own', () => {
    for (const m of [RRQ, WRQ, WRQ_OPTIONS, OACK]) expect(run(tftp, [[true, m]])[0]).toBe(MATCH);
    expect(tftp.app).toBe(App.TFTP);
    expect(run(tftp, [[true, RRQ_EMPTY]])[0]).toBe(NO_MATCH);
    expect(run(tftp, [[true, RRQ.replace('6f6374657400', '62696e61727900')]])[0]).toBe(NO_MATCH); // mode "binary"
  });

  it('matches an error packet', () => {
    expect(run(tftp, [[false, '00050001' + Buffer.from('File not found').toString('hex') + '00']])[0]).toBe(MATCH);
    expect(run(tftp, [[false, '00050009' + Buffer.from('x').toString('hex') + '00']])[0]).toBe(NO_MATCH);
  });

  it('matches a transfer when blocks are acknowledged', () => {
    expect(run(tftp, [[false, DATA1], [true, ACK1]]).slice(0, 2)).toEqual([MATCH, 2]);
    expect(run(tftp, [[false, ACK0], [true, DATA1_GZ], [true, DATA1_GZ], [false, ACK1]]).slice(0, 2)).toEqual([MATCH, 2]);
    expect(run(tftp, [[true, DATA1_GZ], [true, DATA1_GZ], [false, ACK1]]).slice(0, 2)).toEqual([MATCH, 3]);
  });

  it('refuses DATA/ACK that do not follow each other', () => {
    expect(run(tftp, [[false, DATA1]])[0]).toBe(CONTINUE);
    expect(run(tftp, [[false, DATA1], [true, '00040002']])[0]).toBe(NO_MATCH);
    expect(run(tftp, [[false, ACK0], [true, '00030005aa']])[0]).toBe(NO_MATCH);
    expect(run(tftp, [[false, DATA1], [true, '0004000100']])[0]).toBe(NO_MATCH);
  });

  it('refuses other protocols, random bytes and every truncation', () => {
    expect(refusals(tftp)).toBe(0);
    for (const m of [RRQ, WRQ]) expect(prefixMatches(tftp, true, hex(m))).toBe(0);
    // Cut after the mode or after the first option pair, what remains is itself a whole packet.
    expect(prefixMatches(tftp, true, hex(WRQ_OPTIONS), 19)).toBe(0);
    expect(prefixMatches(tftp, true, hex(OACK), 15)).toBe(0);
    for (let s = 1; s < 50; s++) randomSplits(tftp, [[false, DATA1], [true, ACK1]], s);
  });
});
