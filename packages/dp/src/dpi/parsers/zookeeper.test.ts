import { describe, expect, it } from 'vitest';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run, slotted, type Step } from '../../../test/db-kit.js';
import zookeeper from './zookeeper.js';
import kafka from './kafka.js';

const p = slotted(zookeeper);
const a = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

// Captured from ZooKeeper 3.8.0 (Debian's zookeeper package, zkCli.sh): ConnectRequest
// {protocolVersion 0, lastZxidSeen 0, timeOut 30000, sessionId 0, passwd 16 zero bytes, readOnly
// false} and the ConnectResponse granting session 0x0100001a2a150000. CONNECT_OLD drops readOnly
// as pre-3.4 clients do.
const CONNECT = '0000002d000000000000000000000000000075300000000000000000000000100000000000000000000000000000000000';
const CONNECT_OLD = '0000002c' + CONNECT.slice(8, -2);
const CONNECTED = '0000002500000000000075300100001a2a15000000000010a1e3d81b1ac3dcfae7394137f379616900';
const RECONNECT = CONNECT.replace('00007530' + '0000000000000000' + '00000010' + '00'.repeat(16), '00007530' + '0100001a2a150000' + '00000010' + 'a1e3d81b1ac3dcfae7394137f3796169');

describe('zookeeper', () => {
  it('matches a ConnectRequest answered by a ConnectResponse', () => {
    expect(run(p, [[true, CONNECT], [false, CONNECTED]])[0]).toBe(MATCH);
    expect(run(p, [[true, CONNECT_OLD], [false, CONNECTED.replace(/^00000025/, '00000024').slice(0, -2)]])[0]).toBe(MATCH);
    expect(run(p, [[true, RECONNECT], [false, CONNECTED]])[0]).toBe(MATCH);
    expect(run(p, [[true, CONNECT]])[0]).toBe(CONTINUE);
  });

  it('refuses connect records with wrong fields', () => {
    // Protocol version 1, zero timeout, password length 8, new session with a non-zero password.
    expect(run(p, [[true, CONNECT.replace(/^0000002d00000000/, '0000002d00000001')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, CONNECT.replace('00007530', '00000000')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, CONNECT.replace('00000010', '00000008')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, CONNECT.replace(/00(00)$/, '01$1')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, CONNECT], [false, CONNECTED.replace(/^0000002500000000/, '0000002500000002')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[false, CONNECTED]])[0]).toBe(NO_MATCH);
  });

  it('matches four-letter words answered with their text (answers as ZooKeeper 3.8.0 sends them)', () => {
    expect(run(p, [[true, a('ruok')], [false, a('imok')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('srvr')], [false, a('Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('mntr')], [false, a('zk_version\t3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('isro')], [false, a('rw')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('stat')], [false, a('stat is not executed because it is not in the whitelist.\n')]])[0]).toBe(MATCH);
    expect(run(p, [[true, a('ruok')], [false, a('HTTP/1.1 400 Bad Request\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(p, [[true, a('QUIT')]])[0]).toBe(NO_MATCH);
  });

  it('is not claimed by Kafka', () => {
    expect(run(slotted(kafka), [[true, CONNECT], [false, CONNECTED]])[0]).not.toBe(MATCH);
  });

  it('never matches foreign or random payloads, nor truncated messages', () => {
    expect(refusals(p)).toBe(0);
    expect(prefixMatches(p, true, hex(CONNECT))).toBe(0);
    expect(prefixMatches(p, false, hex(CONNECTED), 40, [[true, CONNECT]])).toBe(0);
    expect(prefixMatches(p, false, hex(a('imok')), 4, [[true, a('ruok')]])).toBe(0);
  });

  it('survives random splits of a session', () => {
    const s: Step[] = [[true, CONNECT], [false, CONNECTED], [true, '0000000c0000000100000065']];
    for (let seed = 1; seed < 50; seed++) expect(() => randomSplits(p, s, seed)).not.toThrow();
  });
});
