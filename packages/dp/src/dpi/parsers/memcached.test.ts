import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import memcached from './memcached.js';

const p = slotted(memcached);
const a = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

// memcached.cap (nDPI test suite): "stats" and the first segment of its STAT lines.
const STATS = '73746174730d0a';
const STAT_LINES =
  '535441542070696420383833370d0a5354415420757074696d65203139330d0a535441542074696d6520313533343334' +
  '333734340d0a535441542076657273696f6e20312e342e31350d0a53544154206c69626576656e7420322e302e32312d' +
  '737461626c650d0a5354415420706f696e7465725f73697a652036340d0a53544154207275736167655f757365722030' +
  '2e3030353338320d0a53544154207275';

/** Binary protocol GET of "key" (opcode 0x00, opaque 0xdeadbeef) and its response (status 1, not found). */
const BIN_GET = '80000003000000000000000' + '3deadbeef' + '0000000000000000' + '6b6579';
const BIN_MISS = '81000000000000010000000' + '9deadbeef' + '0000000000000000' + '4e6f7420666f756e64';

// memcached 1.6.18 (Debian) on a non-standard port: binary SET and GET with their responses.
const REAL_BIN_SET = '80010001080000000000000a00000007000000000000000000000000000000006b76';
const REAL_BIN_SET_OK = '810100000000000000000000000000070000000000000001';
const REAL_BIN_GET = '8000000100000000000000010000000800000000000000006b';
const REAL_BIN_GET_HIT = '8100000004000000000000050000000800000000000000010000000076';

describe('memcached', () => {
  it('matches stats answered by STAT lines and keeps the server version', () => {
    const [v, , f] = run(p, [[true, STATS], [false, STAT_LINES]]);
    expect(v).toBe(MATCH);
    expect(f.meta.banner).toBe('1.4.15');
  });

  it('matches text commands with their documented replies', () => {
    const pairs: [string, string][] = [
      ['get key\r\n', 'VALUE key 0 5\r\nvalue\r\nEND\r\n'],
      ['gets a b c\r\n', 'END\r\n'],
      ['set key 0 60 5\r\nvalue\r\n', 'STORED\r\n'],
      ['add key 1 -1 5 noreply\r\nvalue\r\n', 'NOT_STORED\r\n'],
      ['cas key 0 0 5 77\r\nvalue\r\n', 'EXISTS\r\n'],
      ['delete key\r\n', 'NOT_FOUND\r\n'],
      ['incr n 1\r\n', '2\r\n'],
      ['touch key 10\r\n', 'TOUCHED\r\n'],
      ['version\r\n', 'VERSION 1.6.21\r\n'],
      ['mg key v\r\n', 'VA 5\r\nvalue\r\n'],
      ['mn\r\n', 'MN\r\n'],
      // Meta commands as memcached 1.6.18 answers them.
      ['ms mk 2\r\nhi\r\n', 'HD\r\n'],
      ['mg nokey v\r\n', 'EN\r\n'],
    ];
    for (const [c, r] of pairs) expect(run(p, [[true, a(c)], [false, a(r)]])[0]).toBe(MATCH);
    expect(run(p, [[false, a('END\r\n')], [true, a('get key\r\n')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('version\r\n')], [false, a('VERSION 1.6.21\r\n')]])[2].meta.banner).toBe('1.6.21');
  });

  it('matches a binary request answered with the same opcode and opaque', () => {
    expect(run(p, [[true, BIN_GET]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, BIN_GET], [false, BIN_MISS]])[0]).toBe(MATCH);
    expect(run(p, [[true, BIN_GET], [false, BIN_MISS.replace('deadbeef', 'deadbeee')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, BIN_GET.replace(/^80000003000000/, '80000003000100')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, REAL_BIN_SET], [false, REAL_BIN_SET_OK]])[0]).toBe(MATCH);
    expect(run(p, [[true, REAL_BIN_GET], [false, REAL_BIN_GET_HIT]])[0]).toBe(MATCH);
    expect(run(p, [[true, REAL_BIN_GET], [false, REAL_BIN_SET_OK]])[0]).toBe(NO_MATCH);
  });

  it('refuses wrong syntax, unknown words and replies alone', () => {
    for (const c of ['GET key\r\n', 'set key 0 60\r\n', 'set key x 60 5\r\n', 'get\r\n', 'incr n\r\n', 'delete key 1\r\n', 'stats\n']) {
      expect(run(p, [[true, a(c)]])[0]).toBe(NO_MATCH);
    }
    expect(run(p, [[true, a('get key\r\n')], [false, a('+OK\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, a('get key\r\n')], [false, a('VALUE key x 5\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[false, a('STORED\r\n')]])[0]).toBe(CONTINUE);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    // The first whole line, "STAT pid 8837\r\n", is 15 bytes.
    expect(prefixMatches(p, false, hex(STAT_LINES), 15, [[true, STATS]])).toBe(0);
    expect(prefixMatches(p, true, hex(STATS))).toBe(0);
    expect(prefixMatches(p, false, hex(BIN_MISS), 24, [[true, BIN_GET]])).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, STATS], [false, STAT_LINES], [true, BIN_GET], [false, BIN_MISS]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
