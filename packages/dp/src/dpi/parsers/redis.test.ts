import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { ascii, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import redis from './redis.js';
import memcached from './memcached.js';

const p = slotted(redis);
const a = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

// Client commands as redis-cli and client libraries send them (RESP arrays of bulk strings).
const PING = a('*1\r\n$4\r\nPING\r\n');
const SET = a('*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n');
const HELLO = a('*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n');
/** A SET whose value continues in the next segment. */
const SET_STARTED = a('*3\r\n$3\r\nset\r\n$3\r\nkey\r\n$100\r\nabc');

// redis-server 7.0.15 (Debian) answering HELLO 3 on a non-standard port.
const REAL_HELLO_REPLY =
  '25370d0a24360d0a7365727665720d0a24350d0a72656469730d0a24370d0a76657273696f6e0d0a24360d0a372e302e' +
  '31350d0a24350d0a70726f746f0d0a3a330d0a24320d0a69640d0a3a340d0a24340d0a6d6f64650d0a2431300d0a7374' +
  '616e64616c6f6e650d0a24340d0a726f6c650d0a24360d0a6d61737465720d0a24370d0a6d6f64756c65730d0a2a300d' +
  '0a';

describe('redis', () => {
  it('matches a whole command array of a known command', () => {
    for (const m of [PING, SET, HELLO]) expect(run(p, [[true, m]])[0]).toBe(MATCH);
  });

  it('matches a started command only with a well-formed reply', () => {
    expect(run(p, [[true, SET_STARTED]])[0]).toBe(CONTINUE);
    for (const r of ['+OK\r\n', '-ERR unknown command\r\n', ':42\r\n', '$-1\r\n', '$5\r\nvalue\r\n', '*2\r\n', '_\r\n', '#t\r\n', '%7\r\n']) {
      expect(run(p, [[true, SET_STARTED], [false, a(r)]])[0]).toBe(MATCH);
    }
    expect(run(p, [[true, a('*2\r\n$5\r\nHELLO\r\n$1\r\n')], [false, REAL_HELLO_REPLY]])[0]).toBe(MATCH);
    // Server seen first, then the command.
    expect(run(p, [[false, a('+OK\r\n')], [true, SET_STARTED]])[0]).toBe(MATCH);
    expect(run(p, [[true, SET_STARTED], [false, a('HTTP/1.1 200 OK\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, SET_STARTED], [false, a(':4x\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('accepts an inline PING only when answered by +PONG', () => {
    expect(run(p, [[true, a('PING\r\n')], [false, a('+PONG\r\n')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('PING\r\n')], [false, a('+OK\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, a('GET key\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('refuses unknown commands and broken framing', () => {
    expect(run(p, [[true, a('*1\r\n$4\r\nPONG\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, a('*1\r\n$5\r\nPING\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, a('*2\r\n$4\r\nPING\r\n')]])[0]).toBe(CONTINUE);
    expect(run(p, [[true, a('*0\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, PING + '00']])[0]).toBe(NO_MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    // Memcached's text protocol is the closest neighbour.
    expect(refusals(p, [ascii('get key\r\n'), ascii('VALUE key 0 5\r\nvalue\r\nEND\r\n'), ascii('stats\r\n')])).toBe(0);
    for (const m of [PING, SET, HELLO]) expect(prefixMatches(p, true, Buffer.from(m, 'hex'))).toBe(0);
  });

  it('is not memcached, and memcached is not redis', () => {
    const m = slotted(memcached);
    expect(run(m, [[true, SET], [false, a('+OK\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, a('get key\r\n')], [false, a('END\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('survives random splits of a session', () => {
    const s: Step[] = [[true, HELLO], [false, a('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n')], [true, SET], [false, a('+OK\r\n')]];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
