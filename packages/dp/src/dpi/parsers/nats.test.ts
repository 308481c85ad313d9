import { describe, expect, it } from 'vitest';
import nats from './nats.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { randomSplits, refusals, run, slotted } from '../../../test/db-kit.js';

slotted(nats);

const hexOf = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// nats.pcap, 127.0.0.1:54820 -> 127.0.0.1:4222 (first octets of each line).
const INFO = hexOf('INFO {"server_id":"NALG56HQZ4C4ILRHCGYWMCSBVC5W2QHX6WKGH7A2I34P3DCEHISN72B7","version":"2.1.6","proto":1}\r\n');
const CONNECT = hexOf('CONNECT {"verbose":false,"pedantic":false,"tls_required":false,"name":"","lang":"C","version":"2.1.0","protocol":1,"echo":true}\r\n');

describe('nats parser', () => {
  it('matches INFO answered by CONNECT', () => {
    expect(run(nats, [[false, INFO]])[0]).toBe(CONTINUE);
    expect(run(nats, [[false, INFO], [true, CONNECT]]).slice(0, 2)).toEqual([MATCH, 2]);
    expect(run(nats, [[false, INFO], [true, hexOf('GET / HTTP/1.1\r\n')]])[0]).toBe(NO_MATCH);
    expect(nats.app).toBe(App.NATS);
  });

  it('matches a session seen from the middle by its SUB/PUB and MSG/+OK lines', () => {
    expect(run(nats, [[true, hexOf('SUB foo.bar 1\r\n')], [false, hexOf('MSG foo.bar 1 5\r\nhello\r\n')]])[0]).toBe(MATCH);
    expect(run(nats, [[false, hexOf('MSG foo 9 _INBOX.x 2\r\nhi\r\n')], [true, hexOf('PUB _INBOX.x 2\r\nok\r\n')]])[0]).toBe(MATCH);
    expect(run(nats, [[true, hexOf('PUB a.b reply 3\r\nabc\r\n')], [false, hexOf('+OK\r\n')]])[0]).toBe(MATCH);
  });

  it('leaves PING/PONG alone and checks the verb grammar', () => {
    expect(run(nats, [[true, hexOf('PING\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(nats, [[false, hexOf('+PONG\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(nats, [[true, hexOf('SUB foo\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(nats, [[true, hexOf('PUB a b c d 5\r\n')]])[0]).toBe(NO_MATCH);
    expect(run(nats, [[true, hexOf('SUB foo 1\n')]])[0]).toBe(NO_MATCH);
    expect(run(nats, [[true, hexOf('SUB foo.bar 1\r\n')], [false, hexOf('+PONG\r\n')]])[0]).toBe(NO_MATCH);
  });

  it('refuses other protocols, random bytes and random splits', () => {
    expect(refusals(nats)).toBe(0);
    for (let s = 1; s < 30; s++) randomSplits(nats, [[false, INFO], [true, CONNECT]], s);
  });
});
