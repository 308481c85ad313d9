import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import tds from './tds.js';

const p = slotted(tds);

// mssql_tds.pcap (nDPI test suite): SQL batch with ALL_HEADERS and its DONE response, SQL batch
// without ALL_HEADERS ("COMMIT TRANSACTION"), RPC by name without ALL_HEADERS, RPC with
// ALL_HEADERS, and the first segment of an 8000-byte RPC packet.
const BATCH =
  '010100be0000010016000000120000000200000000000000000001000000200073006500740020007400720061006e00' +
  '730061006300740069006f006e002000690073006f006c006100740069006f006e0020006c006500760065006c002000' +
  '20007200650061006400200063006f006d006d006900740074006500640020002000730065007400200069006d007000' +
  '6c0069006300690074005f007400720061006e00730061006300740069006f006e00730020006f00660066002000';
const DONE = '0401002200350100fd0100f9000000000000000000fd0000ba000000000000000000';
const COMMIT = '0101002c0000010043004f004d004d004900540020005400520041004e00530041004300540049004f004e00';
const RPC_NAME =
  '030100da000001002400700072006f0063005f004700650074004d0079004500780061006d0070006c00650054006100' +
  '62006c006500530061006d0070006c0065004d0065007400610044006100740061000000000024101033221100554477' +
  '668899aabbccddeeff00001f0000e70000090400013200000000a72400090400013224004142434445464748494a4b4c' +
  '4d4e4f505152535455565758595a6162636465666768696a00002604040100000000002608082d000000000000000000' +
  'a50c000c000123456789abcdeffedcba9800002604046c000000';
const RPC_HEADERS =
  '0309005800000100160000001200000002000000000000000000010000001b0070005f004700650074004d0079004500' +
  '780061006d0070006c0065005400610062006c00650052006f00770043006f0075006e0074000000';
const RPC_SPLIT =
  '03041f400000010016000000120000000200260000009d000000010000000d0070005f00530061007600650045007800' +
  '61006d0070006c00650000000a40004c006f006e00670050006100720061006d0000e7ffff0904d00034042000000000' +
  '000004200000530074007500640065006e0063006b006900650020004b006f0042016f002000500072007a0065007700' +
  '6f0064006e0069006b00f30077002000540075007200790073007400790063007a006e00790063006800200077002000' +
  '4700640061004401';
/** [MS-TDS] 2.2.6.5 PRELOGIN: VERSION, ENCRYPTION, INSTOPT, THREADID, MARS, terminator, then data. */
const PRELOGIN =
  '1201002f00000100' + '00001a0006' + '0100200001' + '0200210001' + '0300220004' + '0400260001' + 'ff' +
  '0f0007d00000' + '00' + '00' + '00000000' + '00';
/** 2.2.6.4 LOGIN7 start: Length 44, TDSVersion 7.4 (0x74000004, little-endian). */
const LOGIN7 = '1001003400000100' + '2c000000' + '04000074' + '00'.repeat(36);

describe('tds', () => {
  it('matches client messages whose body checks out', () => {
    for (const m of [BATCH, COMMIT, RPC_NAME, RPC_HEADERS, RPC_SPLIT, PRELOGIN, LOGIN7]) expect(run(p, [[true, m]])[0]).toBe(MATCH);
  });

  it('keeps listening on server responses and decides on the client message', () => {
    expect(run(p, [[false, DONE]])[0]).toBe(CONTINUE);
    expect(run(p, [[false, DONE], [true, COMMIT]])[0]).toBe(MATCH);
  });

  it('refuses bad headers and bodies', () => {
    const only = (m: string) => run(p, [[true, m], [true, ''], [true, ''], [true, '']])[0];
    // Window not 0, unknown status bit, length past an end-of-message payload.
    expect(only(COMMIT.replace(/^(.{14})00/, '$101'))).toBe(NO_MATCH);
    expect(only(COMMIT.replace(/^0101/, '0141'))).toBe(NO_MATCH);
    expect(only(COMMIT.replace(/^0101002c/, '0101002d'))).toBe(NO_MATCH);
    // SQL text that is not UCS-2 ASCII, an ALL_HEADERS of unknown type, a LOGIN7 of an unknown version.
    expect(only('0101001000000100' + '4142434445464748')).toBe(NO_MATCH);
    expect(only(BATCH.replace('1200000002000000', '1200000009000000'))).toBe(NO_MATCH);
    expect(only(LOGIN7.replace('04000074', '04000075'))).toBe(NO_MATCH);
    // PRELOGIN whose first option is not VERSION, or whose data runs past the packet.
    expect(only(PRELOGIN.replace('00001a0006' + '0100200001', '0100200001' + '00001a0006'))).toBe(NO_MATCH);
    expect(only(PRELOGIN.replace('0400260001', '0400260009'))).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    for (const m of [PRELOGIN, LOGIN7, COMMIT]) expect(prefixMatches(p, true, hex(m))).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, PRELOGIN], [true, BATCH], [false, DONE], [true, RPC_SPLIT]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
