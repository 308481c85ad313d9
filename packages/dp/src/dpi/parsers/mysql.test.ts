import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { App } from '../apps.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import mysql from './mysql.js';

const p = slotted(mysql);

// mysql.pcapng (nDPI test suite): MariaDB 10.6 greeting, then the client's query and the first response.
const GREETING_MARIADB =
  '6a0000000a352e352e352d31302e362e31322d4d6172696144422d307562756e7475302e32322e30342e3100200000004767503d212b544800fef72d0200ff81150000000000001d0000004976374f652f59526d52313e006d7973716c5f6e61746976655f70617373776f726400';
const GREETING_MYSQL8 =
  '4a0000000a382e302e3336000c00000031747567785f235600ffffff0200ffdf150000000000000000000070223e346d0f367c31226a7c0063616368696e675f736861325f70617373776f726400';
const QUERY = '210000000373656c65637420404076657273696f6e5f636f6d6d656e74206c696d69742031';
const COLUMN_COUNT = '020000010101280000020364656600000011404076657273696f6e5f636f6d6d656e7400000c210024000000fd000027000005000003fe000002000d0000040c5562756e74752032322e303405000005fe00000200';
/** ERR_Packet 1130 (ER_HOST_NOT_PRIVILEGED) sent instead of the greeting. */
const HOST_NOT_ALLOWED = '43000000ff6a04486f7374202731302e302e302e3527206973206e6f7420616c6c6f77656420746f20636f6e6e65637420746f2074686973204d61726961444220736572766572';
const OK_REPLY = '0700000100000002000000';
const ERR_REPLY = '18000001ff7a042334325330325461626c65206e6f7420666f756e64';

describe('mysql', () => {
  it('matches the MariaDB and MySQL 8 greetings and keeps the version', () => {
    const [v, , f] = run(p, [[false, GREETING_MARIADB]]);
    expect(v).toBe(MATCH);
    expect(f.meta.banner).toBe('5.5.5-10.6.12-MariaDB-0ubuntu0.22.04.1');
    const [v8, , f8] = run(p, [[false, GREETING_MYSQL8]]);
    expect(v8).toBe(MATCH);
    expect(f8.meta.banner).toBe('8.0.36');
    expect(p.app).toBe(App.MySQL);
  });

  it('matches a server refusing the connection with its first packet', () => {
    expect(run(p, [[false, HOST_NOT_ALLOWED]])[0]).toBe(MATCH);
    // Another error code, and the same packet not first.
    expect(run(p, [[false, HOST_NOT_ALLOWED.replace('ff6a04', 'ff6b04')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[false, OK_REPLY], [false, HOST_NOT_ALLOWED]])[0]).toBe(NO_MATCH);
    expect(prefixMatches(p, false, hex(HOST_NOT_ALLOWED))).toBe(0);
  });

  it('matches a strict COM_QUERY mid-stream only with its first response', () => {
    expect(run(p, [[true, QUERY], [false, COLUMN_COUNT]])[0]).toBe(MATCH);
    expect(run(p, [[true, QUERY], [false, OK_REPLY]])[0]).toBe(MATCH);
    expect(run(p, [[true, QUERY], [false, ERR_REPLY]])[0]).toBe(MATCH);
    expect(run(p, [[true, QUERY]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, QUERY], [false, '485454502f312e3120323030204f4b0d0a']])[0]).toBe(NO_MATCH);
  });

  it('refuses non-SQL commands, wrong sequence ids and stray server payloads', () => {
    // COM_QUERY whose text is not SQL, and one with sequence 1.
    expect(run(p, [[true, '0600000003676172626167']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, QUERY.replace(/^2100000003/, '2100000103')]])[0]).toBe(NO_MATCH);
    // A greeting that is not the server's first payload.
    expect(run(p, [[false, OK_REPLY], [false, GREETING_MYSQL8]])[0]).toBe(NO_MATCH);
    // Protocol 9 and a version not starting with a digit.
    expect(run(p, [[false, GREETING_MYSQL8.replace(/^4a0000000a/, '4a00000009')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[false, GREETING_MYSQL8.replace('0a382e30', '0a782e30')]])[0]).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    expect(prefixMatches(p, false, hex(GREETING_MARIADB))).toBe(0);
    expect(prefixMatches(p, false, hex(COLUMN_COUNT), 6, [[true, QUERY]])).toBe(0);
    expect(prefixMatches(p, true, hex(QUERY))).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[false, GREETING_MYSQL8], [true, QUERY], [false, COLUMN_COUNT]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
