import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import cassandra from './cassandra.js';

const p = slotted(cassandra);

// cassandra.pcap (nDPI test suite): OPTIONS / SUPPORTED in v4 and v5, STARTUP, internode handshake.
const OPTIONS_V4 = '040000000500000000';
const SUPPORTED_V4 =
  '8400000006000000340002000b434f4d5052455353494f4e00020006736e6170707900036c7a34000b43514c5f564552' +
  '53494f4e00010005332e332e31';
const STARTUP_V4 = '0400000101000000160001000b43514c5f56455253494f4e0005332e332e31';
const OPTIONS_V5 = '050000000500000000';
const SUPPORTED_V5 =
  '8500000006000000660003001150524f544f434f4c5f56455253494f4e5300040004332f76330004342f76340004352f' +
  '76350009362f76362d62657461000b434f4d5052455353494f4e00020006736e6170707900036c7a34000b43514c5f56' +
  '455253494f4e00010005332e342e36';
const STARTUP_V5 =
  '0500000101000000530003000b4452495645525f4e414d450016446174615374617820507974686f6e20447269766572' +
  '000e4452495645525f56455253494f4e0006332e32352e30000b43514c5f56455253494f4e0005332e342e36';
const INTERNODE = 'ca552dfa0c0a0c1106c61200021b58f3cb19b3';
/** v4 READY on stream 1. */
const READY_V4 = '840000010200000000';

describe('cassandra', () => {
  it('matches a request answered on the same stream', () => {
    expect(run(p, [[true, OPTIONS_V4], [false, SUPPORTED_V4]])[0]).toBe(MATCH);
    expect(run(p, [[true, OPTIONS_V5], [false, SUPPORTED_V5]])[0]).toBe(MATCH);
    expect(run(p, [[true, OPTIONS_V4]])[0]).toBe(CONTINUE);
    // Wrong stream, wrong version, and a request opcode coming back.
    expect(run(p, [[true, OPTIONS_V4], [false, READY_V4]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, OPTIONS_V4], [false, SUPPORTED_V5]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, OPTIONS_V4], [false, '840000000500000000']])[0]).toBe(NO_MATCH);
  });

  it('matches a whole STARTUP naming CQL_VERSION', () => {
    expect(run(p, [[true, STARTUP_V4]])[0]).toBe(MATCH);
    expect(run(p, [[true, STARTUP_V5]])[0]).toBe(MATCH);
    expect(run(p, [[true, STARTUP_V4], [false, READY_V4]])[0]).toBe(MATCH);
  });

  it('matches the internode handshake magic', () => {
    expect(run(p, [[true, INTERNODE]])[0]).toBe(MATCH);
    // Requested version outside min..max, and the magic from the server side.
    expect(run(p, [[true, INTERNODE.replace('0c0a0c11', '0c0a0d11')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[false, INTERNODE]])[0]).toBe(NO_MATCH);
  });

  it('refuses bad versions, flags and directions', () => {
    expect(run(p, [[true, OPTIONS_V4.replace(/^04/, '06')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, OPTIONS_V4.replace(/^0400/, '0480')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, SUPPORTED_V4]])[0]).toBe(NO_MATCH);
    expect(run(p, [[false, OPTIONS_V4]])[0]).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    expect(prefixMatches(p, true, hex(STARTUP_V4))).toBe(0);
    expect(prefixMatches(p, true, hex(INTERNODE), 8)).toBe(0);
    expect(prefixMatches(p, false, hex(SUPPORTED_V4), 9, [[true, OPTIONS_V4]])).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, OPTIONS_V5], [false, SUPPORTED_V5], [true, STARTUP_V5]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
