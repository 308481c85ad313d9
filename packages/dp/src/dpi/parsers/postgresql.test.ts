import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import pg from './postgresql.js';

const p = slotted(pg);

// pgsql.pcap (nDPI test suite).
const STARTUP = '000000260003000075736572006f727978006461746162617365006d61696c73746f72650000';
const STARTUP_PSQL =
  '000000500003000075736572007465737400646174616261736500706f737467726573006170706c69636174696f6e5f6e616d65007073716c00636c69656e745f656e636f64696e6700555446380000';
const AUTH_MD5 = '520000000c00000005ad44ff54';
/** AuthenticationOk, ParameterStatus client_encoding and server_version, ReadyForQuery (pgsql.pcap). */
const AUTH_OK_PARAMS =
  '520000000800000000' + '530000001c636c69656e745f656e636f64696e6700554e49434f444500' +
  '530000001973657276' + '65725f76657273696f6e00372e342e3600' + '5a0000000549';
const SSL_REQUEST = '0000000804d2162f';
const GSSENC_REQUEST = '0000000804d21630';
const CANCEL = '0000001004d2162e00001c2a1b2c3d4e';
const EXTENDED =
  '500000000d00626567696e000000420000000e000000000000000100014500000009000000000050000000310073656c656374207265766973696f6e2066726f6d206d61696c73746f726520666f7220757064617465000000420000000e0000000000000001000144000000065000450000000900000000005300000004';
const RESULTS =
  '31000000043200000004430000000a424547494e0031000000043200000004540000002100017265766973696f6e000000433f0001000000170004ffffffff0001440000000e00010000000400000003430000000b53454c454354005a0000000554';
const QUERY = '510000000d73656c656374203100';
const ROW_NO_READY = '540000002100017265766973696f6e000000433f0001000000170004ffffffff0001';

describe('postgresql', () => {
  it('matches a StartupMessage and keeps user and database', () => {
    const [v, , f] = run(p, [[true, STARTUP]]);
    expect(v).toBe(MATCH);
    expect(f.meta.detail).toBe('user=oryx database=mailstore');
    expect(run(p, [[true, STARTUP_PSQL]])[2].meta.detail).toBe('user=test database=postgres');
  });

  it('matches SSLRequest and GSSENCRequest only with their one-byte answers', () => {
    expect(run(p, [[true, SSL_REQUEST], [false, '4e']])[0]).toBe(MATCH);
    expect(run(p, [[true, SSL_REQUEST], [false, '53']])[0]).toBe(MATCH);
    expect(run(p, [[true, GSSENC_REQUEST], [false, '47']])[0]).toBe(MATCH);
    expect(run(p, [[true, GSSENC_REQUEST], [false, '53']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, SSL_REQUEST], [false, '4e4e']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, SSL_REQUEST]])[0]).toBe(CONTINUE);
  });

  it('matches a CancelRequest', () => {
    expect(run(p, [[true, CANCEL]])[0]).toBe(MATCH);
  });

  it('matches mid-stream typed messages in both directions or a payload ending in ReadyForQuery', () => {
    expect(run(p, [[true, EXTENDED], [false, RESULTS]])[0]).toBe(MATCH);
    expect(run(p, [[false, RESULTS]])[0]).toBe(MATCH);
    expect(run(p, [[true, QUERY], [false, ROW_NO_READY]])[0]).toBe(MATCH);
    expect(run(p, [[false, AUTH_MD5]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, QUERY]])[0]).toBe(CONTINUE);
  });

  it('refuses bad lengths, unknown types and missing user', () => {
    expect(run(p, [[true, STARTUP.replace(/^00000026/, '00000027')]])[0]).toBe(NO_MATCH);
    // StartupMessage without "user".
    expect(run(p, [[true, '0000001500030000646174616261736500780000']])[0]).toBe(NO_MATCH);
    // ReadyForQuery with an invalid status, and a Sync with a body.
    expect(run(p, [[false, '5a0000000558']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, '530000000500']])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, QUERY], [false, '7a0000000549']])[0]).toBe(NO_MATCH);
  });

  it('follows to read the startup after an SSLRequest refused and the server version', () => {
    const [v, , f] = run(p, [[true, SSL_REQUEST], [false, '4e']]);
    expect(v).toBe(MATCH);
        expect(p.follow(f, hex(STARTUP_PSQL), 0, STARTUP_PSQL.length / 2, true)).toBe(true);
    expect(f.meta.detail).toBe('user=test database=postgres');
    expect(p.follow(f, hex(AUTH_OK_PARAMS), 0, AUTH_OK_PARAMS.length / 2, false)).toBe(false);
    expect(f.meta.banner).toBe('PostgreSQL 7.4.6');
    // Broken payloads are ignored without throwing.
    for (let n = 0; n < 40; n++) expect(() => p.follow(f, hex(AUTH_OK_PARAMS).subarray(0, n), 0, n, false)).not.toThrow();
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    for (const m of [STARTUP, CANCEL, SSL_REQUEST]) expect(prefixMatches(p, true, hex(m))).toBe(0);
    expect(prefixMatches(p, false, hex(RESULTS))).toBe(0);
    expect(prefixMatches(p, false, hex('4e'), 1, [[true, SSL_REQUEST]])).toBe(0);
  });

  it('survives random splits of a real session', () => {
    const s: Step[] = [[true, STARTUP], [false, AUTH_MD5], [true, EXTENDED], [false, RESULTS]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
