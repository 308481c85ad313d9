import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import tns from './tns.js';

const p = slotted(tns);

// oracle12.pcapng (nDPI test suite): sqlplus CONNECT with its descriptor, the listener's RESEND and
// ACCEPT, then large-SDU DATA packets both ways.
const CONNECT =
  '00d4000001000000013b012c0c412000ffff7f0800000100008e00460000080041410000000000000000000000000000' +
  '00000000000000000000000020000020000000000000284445534352495054494f4e3d28434f4e4e4543545f44415441' +
  '3d285349443d69676f7229284349443d2850524f4752414d3d73716c706c7573406b616c692928484f53543d6b616c69' +
  '2928555345523d726f6f7429292928414444524553533d2850524f544f434f4c3d5443502928484f53543d31302e302e' +
  '37322e3133392928504f52543d31353231292929';
const RESEND = '000800000b000000';
const ACCEPT = '0029000002000000013b0c410000000001000000002941410000000000000000000020000020000000';
const DATA_CLIENT =
  '000000a4062000000000deadbeef009a000000000004000004000300000000000400050c1002000008000100004a597d' +
  '2fd5dc00120001deadbeef00030000000400040001000100020001000300000000000400050c10020000020003e0e100' +
  '020006fcff0002000300000000000400050c100200000c0001001106100c0f0a0b080201030001000201000300020000' +
  '0000000400050c10020000060001000301040506';
const DATA_SERVER =
  '0000007f062000000000deadbeef0075000000000004000004000300000000000400050c10020000020006001f000e00' +
  '01deadbeef000300000002000400010001000200000000000400050c10020000020006fbff0002000200000000000400' +
  '050c10020000010002000003000200000000000400050c1002000001000200';
/** The CONNECT header alone, its connect data (dataLen 0x8e at offset 0x46) sent separately. */
const CONNECT_HEADER_ONLY = '0046' + CONNECT.slice(4, 0x46 * 2);

describe('tns', () => {
  it('matches a CONNECT carrying a connect descriptor', () => {
    expect(run(p, [[true, CONNECT]])[0]).toBe(MATCH);
  });

  it('matches a CONNECT without its data once the listener answers', () => {
    expect(run(p, [[true, CONNECT_HEADER_ONLY]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, CONNECT_HEADER_ONLY], [false, RESEND]])[0]).toBe(MATCH);
    expect(run(p, [[true, CONNECT_HEADER_ONLY], [false, ACCEPT]])[0]).toBe(MATCH);
    expect(run(p, [[true, CONNECT_HEADER_ONLY], [false, DATA_SERVER]])[0]).toBe(NO_MATCH);
  });

  it('matches DATA packets mid-stream only in both directions', () => {
    expect(run(p, [[true, DATA_CLIENT]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, DATA_CLIENT], [false, DATA_SERVER]])[0]).toBe(MATCH);
    expect(run(p, [[true, DATA_CLIENT], [true, DATA_CLIENT], [true, DATA_CLIENT], [true, DATA_CLIENT]])[0]).toBe(CONTINUE);
  });

  it('refuses bad versions, byte order marks, checksums and descriptors', () => {
    const only = (m: string) => run(p, [[true, m], [true, ''], [true, ''], [true, '']])[0];
    expect(only(CONNECT.replace(/^(.{16})013b/, '$10fff'))).toBe(NO_MATCH);
    expect(only(CONNECT.replace(/^(.{44})0100/, '$10001'))).toBe(NO_MATCH);
    expect(only(CONNECT.replace(/^00d40000/, '00d40001'))).toBe(NO_MATCH);
    expect(only(CONNECT.replace('284445534352495054494f4e3d', '5b4445534352495054494f4e3d'))).toBe(NO_MATCH);
    expect(only(DATA_CLIENT.replace(/^000000a4/, '000000a5'))).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    expect(prefixMatches(p, true, hex(CONNECT))).toBe(0);
    expect(prefixMatches(p, false, hex(DATA_SERVER), undefined, [[true, DATA_CLIENT]])).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, CONNECT], [false, RESEND], [true, CONNECT], [false, ACCEPT], [true, DATA_CLIENT], [false, DATA_SERVER]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
