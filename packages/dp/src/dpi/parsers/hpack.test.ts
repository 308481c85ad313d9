import { describe, expect, it } from 'vitest';
import { H_AUTHORITY, H_CONTENT_TYPE, H_METHOD, H_OTHER, H_PATH, H_STATUS, H_USER_AGENT, HpackReader } from './hpack.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function fields(block: Uint8Array): [number, string][] {
  const r = new HpackReader();
  r.reset(block, 0, block.length);
  const out: [number, string][] = [];
  while (r.next()) out.push([r.name, Buffer.from(r.value.subarray(0, r.valueLen)).toString('latin1')]);
  return out;
}

/** A Huffman string of one symbol from its Appendix B code, padded with ones (RFC 7541 §5.2). */
function oneSymbol(code: number, bits: number): Uint8Array {
  const total = Math.ceil(bits / 8) * 8;
  const v = BigInt(code) * 2n ** BigInt(total - bits) + (2n ** BigInt(total - bits) - 1n);
  const out = new Uint8Array(total / 8);
  for (let i = 0; i < out.length; i++) out[i] = Number((v >> BigInt(8 * (out.length - 1 - i))) & 0xffn);
  // Literal without indexing, literal name "x", Huffman value.
  return Uint8Array.from([0x00, 0x01, 0x78, 0x80 | out.length, ...out]);
}

describe('HpackReader', () => {
  it('decodes RFC 7541 C.4.1 (Huffman request)', () => {
    expect(fields(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual([
      [H_METHOD, 'GET'], [H_OTHER, 'http'], [H_PATH, '/'], [H_AUTHORITY, 'www.example.com'],
    ]);
  });

  it('decodes RFC 7541 C.6.1 (Huffman response)', () => {
    const r = fields(hex('4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3'));
    expect(r).toEqual([
      [H_STATUS, '302'], [H_OTHER, 'private'], [H_OTHER, 'Mon, 21 Oct 2013 20:13:21 GMT'], [H_OTHER, 'https://www.example.com'],
    ]);
  });

  it('decodes what the Node 20 (nghttp2) client sends, every printable character included', () => {
    // HEADERS payload of a gRPC call to etcd written by node:http2 (see http2.test.ts).
    const block = hex(
      '83049060a924882d9dcb6571af9b8b1b4754c541872a4925c132ebff865f8b1d75d0620d263d4c4d656440027465864d833505b11f' +
      '7a8a9acac8b4c7602bb6fae04084f2b0e8a3dcfe3f9ffaffcabf1febfafefe7fdfd2cbb00089969b71d79fb9f7fff20ffbff3ff50ddbd7' +
      'f061c58f265cd9f469d5af66dddbf871e5f9cff7ff7fffc3ff9ffe45fff4719242cb34e6e9d68a6a3d7dac426defe3cfaf7fffbfe7ffbffd');
    const all = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');
    const r = fields(block);
    expect(r).toContainEqual([H_PATH, '/etcdserverpb.KV/Range']);
    expect(r).toContainEqual([H_CONTENT_TYPE, 'application/grpc']);
    expect(r).toContainEqual([H_USER_AGENT, 'grpc-go/1.59.0']);
    expect(r).toContainEqual([H_AUTHORITY, 'etcd:2379']);
    expect(r).toContainEqual([H_OTHER, all]);
  });

  it('places the long codes where Appendix B puts them', () => {
    expect(fields(oneSymbol(0x1ff8, 13))).toEqual([[H_OTHER, '\x00']]);
    expect(fields(oneSymbol(0x7fffd8, 23))).toEqual([[H_OTHER, '\x01']]);
    expect(fields(oneSymbol(0x3ffffffc, 30))).toEqual([[H_OTHER, '\x0a']]);
    expect(fields(oneSymbol(0x7fff1, 19))).toEqual([[H_OTHER, '\xc3']]);
    expect(fields(oneSymbol(0xffffffe, 28))).toEqual([[H_OTHER, '\xf9']]);
    expect(fields(oneSymbol(0x3ffffee, 26))).toEqual([[H_OTHER, '\xff']]);
  });

  it('rejects EOS, bad padding and runaway integers; stops at truncation', () => {
    const r = new HpackReader();
    const eos = oneSymbol(0x3fffffff, 30);
    r.reset(eos, 0, eos.length);
    expect(r.next()).toBe(false);
    expect(r.error).toBe(true);
    // '0' (00000) padded with zeros instead of ones.
    const pad = Uint8Array.from([0x00, 0x01, 0x78, 0x81, 0x00]);
    r.reset(pad, 0, pad.length);
    expect(r.next()).toBe(false);
    expect(r.error).toBe(true);
    const big = hex('7fffffffffff01');
    r.reset(big, 0, big.length);
    expect(r.next()).toBe(false);
    const good = hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff');
    for (let n = 0; n < good.length; n++) {
      r.reset(good, 0, n);
      let k = 0;
      while (r.next()) k++;
      expect(k).toBeLessThanOrEqual(4);
    }
  });

  it('never throws on random blocks', () => {
    let x = 7;
    const b = new Uint8Array(300);
    const r = new HpackReader();
    for (let s = 0; s < 500; s++) {
      for (let i = 0; i < b.length; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        b[i] = x & 0xff;
      }
      r.reset(b, 0, 1 + (s % b.length));
      let k = 0;
      while (r.next() && k < 1000) k++;
      expect(r.valueLen).toBeLessThanOrEqual(512);
    }
  });
});
