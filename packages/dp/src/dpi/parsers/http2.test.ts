import { describe, expect, it } from 'vitest';
import http2 from './http2.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { ascii, hex, newFlow, offer, prefixMatches, randomSplits, refusals, run, type TestFlow } from '../../../test/db-kit.js';

http2.slot = 0;

// http2.pcapng, 127.0.0.1:37824 -> 127.0.0.1:29518 (a 5G core OpenAPI client, h2c prior knowledge).
const C1 = '505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000012040000000000000200000000000400400000000600a0000000000408000000000040000000';
const C2 = '00005d010400000003418b089d5c0b8170dc13ed85ef83459362a1d32ac43d34b1dc2c22d8d04b0d5a4c7a91865f8b1d75d0620d263d4c7441ea538b1d75d0620d263d4c7441ea7a93d5596a875e45b116a2d8349ec602b81703131f5c0331333550839bd9ab';
const S1 = '0000180400000000000005001000000003000000fa000600100140000400100000';
const S2 = '000000040100000000000004080000000000000f0001';
const S3 = '0000530104000000034e8210035f8b1d75d0620d263d4c7441ea6ea49d29aee30c044eae05c0b86e09f6c0eb1556495620e8a23193ab1dc2c0e995091a6d43015c0238366196df3dbf4a042a65b6a5040101403d702edc680a62d1bf';
// node:http2 (Node 20) client: preface, SETTINGS, then a gRPC HEADERS frame to etcd's KV service.
const ETCD =
  '505249202a20485454502f322e300d0a0d0a534d0d0a0d0a0000000400000000000000a401040000000183049060a924882d9dcb6571af9b8b1b' +
  '4754c541872a4925c132ebff865f8b1d75d0620d263d4c4d656440027465864d833505b11f7a8a9acac8b4c7602bb6fae04084f2b0e8a3dcfe3f9f' +
  'faffcabf1febfafefe7fdfd2cbb00089969b71d79fb9f7fff20ffbff3ff50ddbd7f061c58f265cd9f469d5af66dddbf871e5f9cff7ff7fffc3ff9f' +
  'fe45fff4719242cb34e6e9d68a6a3d7dac426defe3cfaf7fffbfe7ffbffd000000000100000001';

function follow(f: TestFlow, fromClient: boolean, h: string): boolean {
  if (fromClient) f.clientPackets++;
  else f.serverPackets++;
  const b = hex(h);
  return http2.follow!(f, b, 0, b.length, fromClient);
}

/** A HEADERS frame (END_HEADERS) on stream 1 around an HPACK block. */
function headersFrame(block: string, flags = 0x04): string {
  const n = block.length / 2;
  return n.toString(16).padStart(6, '0') + '01' + flags.toString(16).padStart(2, '0') + '00000001' + block;
}

/** Literal without indexing, new name, raw (non-Huffman) strings. */
function literal(name: string, value: string): string {
  const s = (x: string): string => x.length.toString(16).padStart(2, '0') + Buffer.from(x).toString('hex');
  return '00' + s(name) + s(value);
}

describe('http2 parser', () => {
  it('matches the capture by its preface and reads both header blocks', () => {
    const [v, , f] = run(http2, [[true, C1]]);
    expect(v).toBe(MATCH);
    expect(follow(f, true, C2)).toBe(true);
    expect(f.meta).toMatchObject({ method: 'POST', path: '/namf-comm/v1/subscriptions', host: '127.0.0.1:29518', userAgent: 'OpenAPI-Generator/1.0.0/go' });
    follow(f, false, S1);
    follow(f, false, S2);
    follow(f, false, S3);
    expect(f.meta.status).toBe(201);
    expect(f.meta.app).toBe(0);
    expect(http2.app).toBe(App.HTTP2);
  });

  it('matches the server SETTINGS preface when the client was missed', () => {
    const [v, , f] = run(http2, [[false, S1]]);
    expect(v).toBe(MATCH);
    follow(f, false, S3);
    expect(f.meta.status).toBe(201);
    // An ACK, a non-zero stream, a bad length or an unknown setting is not a preface.
    for (const bad of [S2, '000006040000000001000400010000', '000005040000000000000400010000', '0000060400000000000007000000ff',
      '0000060400000000000002000000ff', '000006040000000000000500000001']) {
      expect(run(http2, [[false, bad]])[0]).toBe(NO_MATCH);
    }
  });

  it('turns gRPC into gRPC and etcd into etcd', () => {
    const [v, , f] = run(http2, [[true, ETCD]]);
    expect(v).toBe(MATCH);
    expect(f.meta.app).toBe(App.etcd);
    expect(f.meta.path).toBe('/etcdserverpb.KV/Range');
    const [, , g] = run(http2, [[true, C1]]);
    follow(g, true, headersFrame('8386' + literal(':path', '/helloworld.Greeter/SayHello') + literal('content-type', 'application/grpc+proto')));
    expect(g.meta.app).toBe(App.gRPC);
    const [, , h] = run(http2, [[true, C1]]);
    follow(h, true, headersFrame('8386' + literal(':path', '/etcdserverpb.KV/Range') + literal('content-type', 'application/grpc-web')));
    expect(h.meta.app).toBe(0);
    // Padded and prioritised HEADERS (RFC 9113 §6.2).
    const [, , k] = run(http2, [[true, C1]]);
    follow(k, true, headersFrame('02' + '0000000010' + '83' + literal('content-type', 'application/grpc') + '0000', 0x2c));
    expect(k.meta.app).toBe(App.gRPC);
  });

  it('waits on a split preface and never matches a prefix of it', () => {
    const f = newFlow();
    expect(offer(http2, f, true, ascii('PRI * HTTP/2'))).toBe(CONTINUE);
    expect(offer(http2, f, true, hex('2e300d0a0d0a534d0d0a0d0a'))).toBe(MATCH);
    expect(prefixMatches(http2, true, hex(C1), 24)).toBe(0);
    expect(run(http2, [[true, Buffer.from('PRI * HTTP/2.1\r\n\r\nSM\r\n\r\n').toString('hex')]])[0]).toBe(NO_MATCH);
  });

  it('refuses other protocols and random bytes', () => {
    // FOREIGN holds the preface itself (client direction only).
    expect(refusals(http2)).toBe(1);
    expect(run(http2, [[true, '474554202f20485454502f312e310d0a0d0a']])[0]).toBe(NO_MATCH);
  });

  it('never throws on random splits', () => {
    for (let s = 1; s < 60; s++) randomSplits(http2, [[true, C1], [true, C2], [false, S1], [false, S3]], s);
  });
});
