import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import elasticsearch from './elasticsearch.js';

const p = slotted(elasticsearch);

// elasticsearch.pcap (nDPI test suite): a 6.8-compatible handshake request and response, and
// 7.6.2 requests and responses with the variable-header size.
const HANDSHAKE =
  '455300000034000000000000000108005cc66300000106782d7061636b16696e7465726e616c3a7463702f68616e6473' +
  '68616b650004cbf6ae03';
const HANDSHAKE_RESPONSE = '455300000013000000000000000109005cc6630000cbf6ae03';
const REQUEST =
  '4553000000a9000000000000000400006bbb4b00000097011e5f787061636b5f73656375726974795f61757468656e74' +
  '69636174696f6e50792f61754177454858334e356333526c6252646c6247467a64476c6a4c5735765a4755774d69356e';
const RESPONSE =
  '4553000006d8000000000000001a03006bbb4b00000072011e5f787061636b5f73656375726974795f61757468656e74' +
  '69636174696f6e50792f61754177454858334e356333526c6252646c6247467a64476c6a4c5735765a4755774d69356e';
const PING = '4553ffffffff';

describe('elasticsearch', () => {
  it('matches transport messages in either direction, whole or split', () => {
    expect(run(p, [[true, HANDSHAKE]])[0]).toBe(MATCH);
    expect(run(p, [[false, HANDSHAKE_RESPONSE]])[0]).toBe(MATCH);
    expect(run(p, [[true, REQUEST]])[0]).toBe(MATCH);
    expect(run(p, [[false, RESPONSE]])[0]).toBe(MATCH);
    expect(run(p, [[true, HANDSHAKE + HANDSHAKE]])[0]).toBe(MATCH);
  });

  it('waits through pings and gives up after a few unrecognised payloads', () => {
    expect(run(p, [[true, PING], [false, PING], [true, HANDSHAKE]])[0]).toBe(MATCH);
    expect(run(p, [[true, '00'], [false, '00'], [true, '00'], [false, '00']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, '00']])[0]).toBe(CONTINUE);
  });

  it('refuses bad status bits, versions, variable-header sizes and trailing bytes', () => {
    const only = (m: string) => run(p, [[true, m], [true, ''], [true, ''], [true, '']])[0];
    expect(only(HANDSHAKE.replace(/^(.{28})08/, '$118'))).toBe(NO_MATCH);
    expect(only(HANDSHAKE.replace('005cc663', '0000c663'))).toBe(NO_MATCH);
    expect(only(REQUEST.replace(/^(.{38})00000097/, '$1000000a6'))).toBe(NO_MATCH);
    expect(only(HANDSHAKE + '0000')).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    // The fixed header is 19 bytes, 23 with the variable-header size (7.6.0 on).
    expect(prefixMatches(p, true, hex(HANDSHAKE), 19)).toBe(0);
    expect(prefixMatches(p, true, hex(REQUEST), 23)).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, HANDSHAKE], [false, HANDSHAKE_RESPONSE], [true, REQUEST], [false, RESPONSE]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
