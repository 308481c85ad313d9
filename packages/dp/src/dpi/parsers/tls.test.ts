import { describe, expect, it } from 'vitest';
import tls from './tls.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { Threat } from '../../threat/catalog.js';
import { hex, newFlow, offer, prefixMatches, randomSplits, refusals, run, type TestFlow } from '../../../test/db-kit.js';

tls.slot = 0;

// http_ipv6.pcap, [2a00:d40:1:3:7aac:c0ff:fea7:d4c]:53134 -> [2a02:26f0:ad:197::236]:443 (Firefox).
const FB_CLIENT_HELLO =
  '16030100db010000d70303df373a1a32fea8412af09a54f98d894637be9f282286bea9b9ad9bad006479cf000020cc14' +
  'cc13cc15c02bc02f009ec00ac0140039c009c0130033009c0035002f000a0100008eff010001000000001d001b000018' +
  '732d7374617469632e616b2e66616365626f6f6b2e636f6d0017000000230000000d0016001406010603050105030401' +
  '0403030103030201020300050005010000000033740000001200000010001d001b08687474702f312e3108737064792f' +
  '332e310568322d313402683275500000000b00020100000a0006000400170018';
// 443-curl.pcap, 192.168.1.13:55523 -> 178.62.197.130:443: curl's 517-byte ClientHello.
const CURL_CLIENT_HELLO =
  '1603010200010001fc03033e3841edcc20f6d0e5f7167ab7ee91a800c8ef70c2d624c7c7943a24026d9fbc000086cc14' +
  'cc13cc15c030c02cc028c024c014c00a00a3009f006b006a00390038ff8500c400c3008800870081c032c02ec02ac026' +
  'c00fc005009d003d003500c00084c02fc02bc027c023c013c00900a2009e006700400033003200be00bd00450044c031' +
  'c02dc029c025c00ec004009c003c002f00ba0041c012c00800160013c00dc003000a00ff0100014d00000011000f0000' +
  '0c7777772e6e746f702e6f7267000b000403000102000a003a0038000e000d0019001c000b000c001b00180009000a00' +
  '1a00160017000800060007001400150004000500120013000100020003000f00100011000d00260024060106020603ef' +
  'ef050105020503040104020403eeeeeded030103020303020102020203337400000010000e000c02683208687474702f' +
  '312e31001500ae0000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '00000000000000000000000000000000000000000000000000000000000000000000000000';
// 443-curl.pcap: the start of the server's first segment (ServerHello record, then the Certificate record begins).
const CURL_SERVER_HELLO =
  '16030300660200006203038f72dd2e35dcf5ddf38ae75db855d1610b4db32937cb20cd3187eec12057fb2520ea8fcd1d' +
  'a8f8635bd5df2a45b603764dd7cfb5f82666ff77fd47635bf9a8f0cbc02f00001aff0100010000000000000b00040300' +
  '0102001000050003026832160303';
// http_ipv6.pcap, [..d4c]:37506 -> [2a03:b0c0:3:d0::70:1001]:443: the server's first segment (start).
const ALERT_THEN_SERVER_HELLO =
  '1503030002017016030300410200003d0303008dda3c4cfbfad819fc87a8ca4001454e549bfd2a7b8069fcb5081c61df033400c02f0000' +
  '1500000000ff01000100000b0004030001020023000016030310e30b0010df0010dc';
// http_ipv6.pcap, port 41776: joined mid-stream, only TLS 1.2 application data records.
const MID_C1 = '17030300b1' + 'a5'.repeat(0xb1);
const MID_C2 = '1703030021' + '5a'.repeat(0x21);
const MID_S1 = '1703030021' + 'a9'.repeat(0x21);
// 443-chrome.pcap: the only frame is a server segment that starts inside a record.
const CHROME_MID_RECORD = '01b0648509060d2c17030305241ed42e46584f7d7809793dafc3e5609ca03f7e381fa07e22d4f54327';

const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const vec16 = (b: number[]): number[] => [...u16(b.length), ...b];
const ext = (type: number, body: number[]): number[] => [...u16(type), ...vec16(body)];
const str = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** A ClientHello record (one record, or split over `records` records) built field by field. */
function clientHello(o: { legacy?: number; sni?: string; alpn?: string[]; versions?: number[]; pad?: number; records?: number }): Uint8Array {
  const exts: number[] = [];
  if (o.sni !== undefined) exts.push(...ext(0, vec16([0, ...u16(o.sni.length), ...str(o.sni)])));
  if (o.alpn) exts.push(...ext(16, vec16(o.alpn.flatMap((a) => [a.length, ...str(a)]))));
  if (o.versions) exts.push(...ext(43, [o.versions.length * 2, ...o.versions.flatMap(u16)]));
  // A large key_share stands in for post-quantum shares (ML-KEM-768 adds 1184 bytes).
  if (o.pad) exts.push(...ext(51, new Array<number>(o.pad).fill(7)));
  const body = [...u16(o.legacy ?? 0x0303), ...new Array<number>(32).fill(1), 0, ...vec16([0x13, 0x01, 0xc0, 0x2f]), 1, 0, ...vec16(exts)];
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  const parts = o.records ?? 1;
  const out: number[] = [];
  const step = Math.ceil(hs.length / parts);
  for (let i = 0; i < hs.length; i += step) {
    const frag = hs.slice(i, i + step);
    out.push(22, 3, 1, ...u16(frag.length), ...frag);
  }
  return Uint8Array.from(out);
}

function serverHello(o: { legacy?: number; version?: number; alpn?: string }): Uint8Array {
  const exts: number[] = [];
  if (o.version !== undefined) exts.push(...ext(43, u16(o.version)));
  if (o.alpn) exts.push(...ext(16, vec16([o.alpn.length, ...str(o.alpn)])));
  const body = [...u16(o.legacy ?? 0x0303), ...new Array<number>(32).fill(2), 0, 0x13, 0x01, 0, ...(exts.length ? vec16(exts) : [])];
  const hs = [2, 0, body.length >> 8, body.length & 0xff, ...body];
  return Uint8Array.from([22, 3, 3, ...u16(hs.length), ...hs]);
}

function follow(f: TestFlow, fromClient: boolean, b: Uint8Array): boolean {
  if (fromClient) f.clientPackets++;
  else f.serverPackets++;
  return tls.follow!(f, b, 0, b.length, fromClient);
}

describe('tls parser', () => {
  it('matches a real ClientHello and copies SNI and ALPN', () => {
    const [v, , f] = run(tls, [[true, FB_CLIENT_HELLO]]);
    expect(v).toBe(MATCH);
    expect(f.meta.sni).toBe('s-static.ak.facebook.com');
    expect(f.meta.alpn).toEqual(['http/1.1', 'spdy/3.1', 'h2-14', 'h2']);
    expect(f.threats).toEqual([]);
    expect(tls.app).toBe(App.TLS);
  });

  it('follows curl to the ServerHello and takes the negotiated version and protocol', () => {
    const [v, , f] = run(tls, [[true, CURL_CLIENT_HELLO]]);
    expect(v).toBe(MATCH);
    expect(f.meta.sni).toBe('www.ntop.org');
    expect(f.meta.alpn).toEqual(['h2', 'http/1.1']);
    expect(follow(f, false, hex(CURL_SERVER_HELLO))).toBe(true);
    expect(f.meta.tlsVersion).toBe(0x0303);
    expect(f.meta.alpn).toEqual(['h2']);
    expect(f.threats).toEqual([]);
  });

  it('matches on a ServerHello when the client side was missed', () => {
    expect(run(tls, [[false, CURL_SERVER_HELLO]])[0]).toBe(MATCH);
  });

  it('reads a ServerHello after a warning alert', () => {
    // http_ipv6.pcap, port 37506: unrecognized_name(112) warning, then the ServerHello.
    const [v, , f] = run(tls, [[false, ALERT_THEN_SERVER_HELLO]]);
    expect(v).toBe(MATCH);
    expect(f.meta.tlsVersion).toBe(0x0303);
  });

  it('reassembles a ClientHello split over segments and over records', () => {
    const big = clientHello({ sni: 'chrome.example', alpn: ['h2'], versions: [0x7a7a, 0x0304, 0x0303], pad: 2400 });
    expect(big.length).toBeGreaterThan(2400);
    for (const cut of [1, 3, 5, 6, 9, 1400, big.length - 1]) {
      const f = newFlow();
      expect(offer(tls, f, true, big.subarray(0, cut))).toBe(CONTINUE);
      expect(offer(tls, f, true, big.subarray(cut))).toBe(MATCH);
      expect(f.meta.sni).toBe('chrome.example');
    }
    const multi = clientHello({ sni: 'a.b', versions: [0x0304], pad: 300, records: 3 });
    const [v, , f] = run(tls, [[true, Buffer.from(multi).toString('hex')]]);
    expect(v).toBe(MATCH);
    expect(f.meta.sni).toBe('a.b');
  });

  it('takes TLS 1.3 from supported_versions and stops following once encrypted', () => {
    const [, , f] = run(tls, [[true, Buffer.from(clientHello({ versions: [0x0304, 0x0303] })).toString('hex')]]);
    expect(follow(f, false, serverHello({ version: 0x0304 }))).toBe(false);
    expect(f.meta.tlsVersion).toBe(0x0304);
    expect(f.threats).toEqual([]);
  });

  it('reports old versions offered or negotiated', () => {
    const [v, , f] = run(tls, [[true, Buffer.from(clientHello({ legacy: 0x0301 })).toString('hex')]]);
    expect(v).toBe(MATCH);
    expect(f.threats.map((t) => t[0])).toEqual([Threat.TLS_OLD_VERSION]);
    const [, , g] = run(tls, [[true, Buffer.from(clientHello({})).toString('hex')]]);
    follow(g, false, serverHello({ legacy: 0x0300 }));
    expect(g.meta.tlsVersion).toBe(0x0300);
    expect(g.threats.map((t) => t[0])).toEqual([Threat.TLS_OLD_VERSION]);
  });

  it('recognises an SSLv2-format ClientHello only when every length agrees', () => {
    // SSL 2.0 draft §2.5: 3-byte cipher specs, 16-byte challenge.
    const v2 = hex('801f' + '01' + '0002' + '0006' + '0000' + '0010' + '0700c0' + '030080' + '11'.repeat(16));
    const f = newFlow();
    expect(offer(tls, f, true, v2)).toBe(MATCH);
    expect(f.threats.map((t) => t[0])).toEqual([Threat.TLS_OLD_VERSION]);
    const wrong = v2.slice();
    wrong[1] = 0x20;
    expect(offer(tls, newFlow(), true, wrong)).toBe(NO_MATCH);
    expect(offer(tls, newFlow(), true, v2.subarray(0, v2.length - 1))).toBe(NO_MATCH);
  });

  it('detects heartbleed in a plaintext heartbeat, not in a well-formed one', () => {
    const [, , f] = run(tls, [[true, CURL_CLIENT_HELLO]]);
    follow(f, false, hex(CURL_SERVER_HELLO));
    // RFC 6520 §4: type 1, payload_length 0x4000 in a 3-byte record (the public exploit).
    expect(follow(f, true, hex('1803020003014000'))).toBe(true);
    expect(f.threats.map((t) => t[0])).toEqual([Threat.TLS_HEARTBLEED]);
    const [, , g] = run(tls, [[true, CURL_CLIENT_HELLO]]);
    follow(g, true, hex('1803030017' + '010004' + 'aabbccdd' + '00'.repeat(16)));
    // Split inside the heartbeat header.
    follow(g, true, hex('18030300'));
    follow(g, true, hex('130100'));
    follow(g, true, hex('00' + '00'.repeat(18)));
    expect(g.threats).toEqual([]);
  });

  it('matches mid-stream application data in both directions', () => {
    const f = newFlow();
    expect(offer(tls, f, true, hex(MID_C1))).toBe(CONTINUE);
    expect(offer(tls, f, true, hex(MID_C2))).toBe(CONTINUE);
    expect(offer(tls, f, false, hex(MID_S1))).toBe(MATCH);
    expect(f.meta.tlsVersion).toBeUndefined();
  });

  it('refuses a segment that starts inside a record, and other protocols', () => {
    expect(offer(tls, newFlow(), false, hex(CHROME_MID_RECORD))).toBe(NO_MATCH);
    // FOREIGN holds a ClientHello and a ServerHello prefix; they may wait but must not match.
    expect(refusals(tls)).toBe(0);
    expect(run(tls, [[true, '474554202f20485454502f312e310d0a']])[0]).toBe(NO_MATCH);
    expect(run(tls, [[true, '1603010005' + '0b00000100'], [false, '15030300020228']])[0]).toBe(CONTINUE);
  });

  it('rejects malformed hellos', () => {
    const good = clientHello({ sni: 'x.y', alpn: ['h2'] });
    for (let i = 5; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 0xff;
      const f = newFlow();
      const v = offer(tls, f, true, bad);
      // A flipped byte either still parses (random, session id content...) or is refused.
      if (v === MATCH) expect(f.meta.sni === undefined || typeof f.meta.sni === 'string').toBe(true);
    }
    // One trailing byte after the extensions (record and handshake lengths grown to cover it).
    const b = Uint8Array.from([...good, 0]);
    b[4]++;
    b[8]++;
    expect(offer(tls, newFlow(), true, b)).toBe(NO_MATCH);
  });

  it('never matches a strict prefix of a hello on its own and survives random splits', () => {
    expect(prefixMatches(tls, true, hex(FB_CLIENT_HELLO))).toBe(0);
    expect(prefixMatches(tls, false, hex(CURL_SERVER_HELLO), 0x6b)).toBe(0);
    for (let s = 1; s < 60; s++) {
      const seen = randomSplits(tls, [[true, CURL_CLIENT_HELLO], [false, CURL_SERVER_HELLO]], s);
      expect(seen).toContain(MATCH);
    }
  });
});
