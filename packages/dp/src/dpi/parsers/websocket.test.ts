import { describe, expect, it } from 'vitest';
import websocket from './websocket.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { hex, prefixMatches, randomSplits, refusals, run } from '../../../test/db-kit.js';

websocket.slot = 0;

// websocket.pcap: 192.168.43.135:12345 (the WebSocket server, unmasked) sends first, then
// 192.168.43.1:50999 (the browser, masked); the handshake is not in the capture.
const W1 = '811757656c636f6d652c203139322e3136382e34332e312021';
const W2 = '818ce17e8eb9951bfdcdc113ebca921fe9dc';
const W3 = '813232313a33333a35322028273139322e3136382e34332e31272c20353039393929207361793a2074657374206d657373616765';
const W4 = '818fb7cefd57dfab913bd8ee8a32d5bd9234dcab89';

describe('websocket parser (mid-stream)', () => {
  it('matches the capture once both sides framed, one masking', () => {
    expect(run(websocket, [[true, W1], [false, W2]])[0]).toBe(MATCH);
    expect(run(websocket, [[true, W1], [true, W3], [false, W2]])[0]).toBe(MATCH);
    expect(websocket.app).toBe(App.WebSocket);
  });

  it('waits after one side and refuses equal masking', () => {
    expect(run(websocket, [[true, W1]])[0]).toBe(CONTINUE);
    expect(run(websocket, [[true, W1], [false, W3]])[0]).toBe(NO_MATCH);
    expect(run(websocket, [[true, W2], [false, W4]])[0]).toBe(NO_MATCH);
  });

  it('checks lengths, opcodes, control frames and UTF-8', () => {
    // Two frames in one payload, 16-bit length, ping and close.
    const long = '817e0080' + '61'.repeat(128);
    expect(run(websocket, [[true, W1 + long + '8900' + '880203e8'], [false, W2]])[0]).toBe(MATCH);
    for (const bad of [
      W1.slice(0, -2), // short by a byte
      W1 + '00', // trailing byte
      '8305616263646' + '5', // reserved opcode 3
      '9105616263646' + '5', // RSV3 without an extension
      'c903' + '616263', // RSV1 on a ping
      '817e0005' + '6162636465', // non-minimal 16-bit length
      '0903' + '616263', // fragmented ping
      '8002' + '6162', // lone continuation
      '8102c328', // invalid UTF-8
      '8103eda080', // UTF-16 surrogate
    ]) {
      expect(run(websocket, [[true, bad], [false, W2]])[0], bad).toBe(NO_MATCH);
    }
    // A text fragment may end inside a character; the rest comes in the next frame.
    expect(run(websocket, [[true, '0102' + '61e2'], [false, W2]])[0]).toBe(MATCH);
  });

  it('never matches a prefix and refuses other protocols and random bytes', () => {
    expect(prefixMatches(websocket, false, hex(W2), undefined, [[true, W1]])).toBe(0);
    expect(refusals(websocket)).toBe(0);
    // DNS over TCP looks like an unmasked continuation frame; both of its sides are unmasked.
    expect(run(websocket, [[true, '001d' + '00'.repeat(29)], [false, '001d' + '11'.repeat(29)]])[0]).toBe(NO_MATCH);
  });

  it('never throws on random splits', () => {
    for (let s = 1; s < 40; s++) randomSplits(websocket, [[true, W1], [false, W2], [true, W3], [false, W4]], s);
  });
});
