import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import mongodb from './mongodb.js';

const p = slotted(mongodb);

// mongodb.pcap (nDPI test suite): OP_QUERY isMaster and getnonce on admin.$cmd.
const OP_QUERY_ISMASTER =
  '3a0000004c04000000000000d40700000000000061646d696e2e24636d64000000000001000000130000001069734d61' +
  '73746572000100000000';
const OP_QUERY_GETNONCE =
  '4900000087910000ffffffffd407000000000000496e616374697665557365724964656e746974792e24636d64000000' +
  '00000100000013000000106765746e6f6e6365000100000000';
const OP_QUERY_BIG =
  'f700000098366e4d00000000d40700000000000061646d696e2e24636d640000000000ffffffffd00000001069736d61' +
  '73746572000100000003636c69656e7400b500000003647269766572002a000000026e616d65000800000050794d6f6e' +
  '676f000276657273696f6e0006000000332e342e300000036f7300550000000274797065000700000044617277696e00' +
  '026e616d65000700000044617277696e000261726368697465637475726500070000007838365f363400027665727369' +
  '6f6e000800000031302e31312e36000002706c6174666f726d001700000043507974686f6e20322e372e31302e66696e' +
  '616c2e30000000';

/** BSON { hello: 1 (int32), $db: "admin" }. */
const HELLO_DOC = '1f00000010' + '68656c6c6f00' + '01000000' + '02' + '24646200' + '06000000' + '61646d696e00' + '00';
function header(size: number, id: number, to: number, op: number): string {
  const b = Buffer.alloc(16);
  b.writeInt32LE(size, 0);
  b.writeInt32LE(id, 4);
  b.writeInt32LE(to, 8);
  b.writeInt32LE(op, 12);
  return b.toString('hex');
}
const OP_MSG = header(16 + 4 + 1 + 31, 7, 0, 2013) + '00000000' + '00' + HELLO_DOC;
const OP_MSG_REPLY = header(16 + 4 + 1 + 31, 99, 7, 2013) + '00000000' + '00' + HELLO_DOC;
// OP_INSERT (legacy, no content check) answered by an OP_REPLY naming its requestID.
const OP_INSERT = header(16 + 4 + 8 + 31, 42, 0, 2002) + '00000000' + '746573742e6300' + '00' + HELLO_DOC;
const OP_REPLY_42 = header(16 + 20, 5, 42, 1) + '00000000' + '0000000000000000' + '00000000' + '00000000';

describe('mongodb', () => {
  it('matches whole OP_QUERY messages whose BSON walks cleanly', () => {
    for (const m of [OP_QUERY_ISMASTER, OP_QUERY_GETNONCE, OP_QUERY_BIG]) expect(run(p, [[true, m]])[0]).toBe(MATCH);
  });

  it('matches a whole OP_MSG in either direction', () => {
    expect(run(p, [[true, OP_MSG]])[0]).toBe(MATCH);
    expect(run(p, [[false, OP_MSG_REPLY]])[0]).toBe(MATCH);
  });

  it('matches other requests only by the responseTo link', () => {
    expect(run(p, [[true, OP_INSERT], [false, OP_REPLY_42]])[0]).toBe(MATCH);
    expect(run(p, [[true, OP_INSERT]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, OP_INSERT], [false, OP_REPLY_42.replace(/^(.{16})2a/, '$12b')]])[0]).toBe(NO_MATCH);
  });

  it('refuses broken BSON, unknown opcodes, bad flags and wrong lengths', () => {
    // Document terminator replaced, element type 0x20 (undefined in BSON), reserved flag bit set.
    expect(run(p, [[true, OP_QUERY_ISMASTER.replace(/0000$/, '0001')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, OP_MSG.replace('10' + '68656c6c6f', '20' + '68656c6c6f')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, OP_MSG.replace(/^(.{32})00000000/, '$104000000')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, OP_MSG.replace(/^(.{24})dd07/, '$1de07')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, '00' + OP_MSG]])[0]).toBe(NO_MATCH);
    // A server message that is neither whole nor linked to a request.
    expect(run(p, [[false, OP_REPLY_42]])[0]).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    for (const m of [OP_QUERY_ISMASTER, OP_MSG]) expect(prefixMatches(p, true, hex(m))).toBe(0);
    expect(prefixMatches(p, false, hex(OP_MSG_REPLY))).toBe(0);
  });

  it('survives random splits of a session', () => {
    const s: Step[] = [[true, OP_INSERT], [false, OP_REPLY_42], [true, OP_MSG], [false, OP_MSG_REPLY]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
