import { describe, expect, it } from 'vitest';
import dns, { MAX_NAMES } from './dns.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, type Verdict } from '../parser.js';
import { Threat } from '../../threat/catalog.js';
import { ascii, FOREIGN, hex, newFlow, randomBytes, slotted, type TestFlow } from '../../../test/db-kit.js';

slotted(dns);

// dns.pcap, 82.178.113.245:47255 -> 82.178.158.181:53: e7.whatsapp.net A, and its 8 answers.
const WA_QUERY = '784301000001000000000000026537087768617473617070036e65740000010001';
const WA_RESPONSE =
  '784381800001000800000000026537087768617473617070036e65740000010001' +
  'c00c00010001000001eb0004a92ddbeb' + 'c00c00010001000001eb0004a92f288e' + 'c00c00010001000001eb0004a92df879' +
  'c00c00010001000001eb00046ca8b0ea' + 'c00c00010001000001eb0004a92df8bd' + 'c00c00010001000001eb0004a92df8b4' +
  'c00c00010001000001eb0004a935514f' + 'c00c00010001000001eb0004a92ddbe8';
// dns.pcap, 192.168.170.20:53 -> 192.168.170.8:32795: a response seen before any query (AAAA, no answer).
const GOOGLE_RESPONSE = 'dca28180000100000000000003777777016c06676f6f676c6503636f6d00001c0001';
// fuzz-2006-06-26-2594.pcap: queries damaged by the fuzzer, all on port 53 (expected DNS).
const FUZZ_BAD_QTYPE = '2cdf01000001000000000000045f736970045f756470037369700963796265726369257300646b0000212f01';
const FUZZ_BAD_LABEL = '4fe4000000010000000000004131013001300331323707696e2d61646420046172706100000c0001';
const FUZZ_GARBAGE = '8905' + 'aa'.repeat(38);
const FUZZ_SHORT = '7dcf01000001000000';
// fuzz-2006-06-26-2594.pcap, 192.168.1.2:137 -> 192.168.1.255:137: NBNS name query (not DNS).
const NBNS = '84e7011000010000000000002045464544454a465045454550454e4542454a454f53414341434143414341424d0000200001';
// fuzz-2006-06-26-2594.pcap, 212.242.33.35:5060: SIP and RTP datagrams.
const SIP = '5349502f322e302034303120556e617574686f72697a65640d0a4361686c2d49443a203537383232323732392d3436363564373735403537383232323733322d34363635643737320d0a';
const RTP = '80086faf000005783796cb716e6815146a14141569606e6a6c6e646c6a16176c6e6d60667e7f45c6c9f0fce7f3fae5f0cbea610bcde4fac253745f42';

function flow(l4: 6 | 17, serverPort = 5300, clientPort = 40000): TestFlow {
  return Object.assign(newFlow(), { l4, serverPort, clientPort });
}

function offer(f: TestFlow, fromClient: boolean, bytes: Uint8Array): Verdict {
  const buf = new Uint8Array(bytes.length + 7);
  buf.set(bytes, 3);
  return dns.classify(f, buf, 3, bytes.length, fromClient);
}

function follow(f: TestFlow, fromClient: boolean, bytes: Uint8Array): boolean {
  const buf = new Uint8Array(bytes.length + 5);
  buf.set(bytes, 5);
  return dns.follow(f, buf, 5, bytes.length, fromClient);
}

/** Wire name from dotted text. */
function name(text: string): string {
  if (text === '') return '00';
  return text.split('.').map((l) => l.length.toString(16).padStart(2, '0') + Buffer.from(l, 'latin1').toString('hex')).join('') + '00';
}

function u16(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function query(qname: string, qtype = 1, id = 0x1234): string {
  return u16(id) + '0100' + '0001000000000000' + name(qname) + u16(qtype) + '0001';
}

/** A response; `answers` are complete RRs in hex. */
function response(qname: string, qtype: number, answers: string[], id = 0x1234): string {
  return u16(id) + '8180' + '0001' + u16(answers.length) + '00000000' + name(qname) + u16(qtype) + '0001' + answers.join('');
}

function rr(owner: string, type: number, ttl: number, rdata: string): string {
  return owner + u16(type) + '0001' + ttl.toString(16).padStart(8, '0') + u16(rdata.length / 2) + rdata;
}

function tcp(msg: string): string {
  return u16(msg.length / 2) + msg;
}

describe('dns parser', () => {
  it('matches a real query on any port and keeps its name', () => {
    const f = flow(17);
    expect(offer(f, true, hex(WA_QUERY))).toBe(MATCH);
    expect(dns.app).toBe(App.DNS);
    expect(f.meta.dnsNames).toEqual(['e7.whatsapp.net']);
  });

  it('collects the A answers of the response under the queried name', () => {
    const f = flow(17, 53, 47255);
    expect(offer(f, true, hex(WA_QUERY))).toBe(MATCH);
    expect(follow(f, false, hex(WA_RESPONSE))).toBe(true);
    expect(f.meta.dnsAnswers).toHaveLength(8);
    expect(f.meta.dnsAnswers![0]).toEqual({ name: 'e7.whatsapp.net', addr: '169.45.219.235', ttl: 491 });
    expect(f.meta.dnsAnswers![7]).toEqual({ name: 'e7.whatsapp.net', addr: '169.45.219.232', ttl: 491 });
    // A repeated answer only refreshes its TTL.
    follow(f, false, hex(WA_RESPONSE.replace(/000001eb/g, '0000012c')));
    expect(f.meta.dnsAnswers).toHaveLength(8);
    expect(f.meta.dnsAnswers![0].ttl).toBe(300);
    expect(f.meta.dnsNames).toEqual(['e7.whatsapp.net']);
    expect(f.threats).toEqual([]);
  });

  it('matches a response seen first', () => {
    const f = flow(17, 32795, 53);
    expect(offer(f, true, hex(GOOGLE_RESPONSE))).toBe(MATCH);
    expect(f.meta.dnsNames).toEqual(['www.l.google.com']);
    expect(f.meta.dnsAnswers).toBeUndefined();
  });

  it('resolves a simple CNAME chain to the queried name and keeps other owners as they are', () => {
    const q = name('www.example.com');
    const msg = response('www.example.com', 1, [
      rr('c00c', 5, 60, name('edge.cdn.net')),
      // The CNAME target sits at offset 12 + q + 4 + 12 (owner pointer, type, class, ttl, rdlength).
      rr('c0' + (12 + q.length / 2 + 4 + 12).toString(16), 1, 30, '0a000001'),
      rr(name('Other.Example'), 28, 10, '20010db8000000000000000000000001'),
    ]);
    const f = flow(17, 53);
    expect(offer(f, false, hex(msg))).toBe(MATCH);
    expect(f.meta.dnsAnswers).toEqual([
      { name: 'www.example.com', addr: '10.0.0.1', ttl: 30 },
      { name: 'other.example', addr: '2001:db8::1', ttl: 10 },
    ]);
  });

  it('writes IPv6 answers in RFC 5952 form', () => {
    const cases: [string, string][] = [
      ['00000000000000000000000000000000', '::'],
      ['00010000000000000000000000000000', '1::'],
      ['fe800000000000000000000100000001', 'fe80::1:0:1'],
      ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['20010db80001000100010001000100010'.slice(0, 32), '2001:db8:1:1:1:1:1:1'],
    ];
    for (const [addr, text] of cases) {
      const f = flow(17, 53);
      expect(offer(f, false, hex(response('a.b', 28, [rr('c00c', 28, 1, addr)])))).toBe(MATCH);
      expect(f.meta.dnsAnswers![0].addr).toBe(text);
    }
  });

  it('keeps following every later message with a bounded name list', () => {
    const f = flow(17, 53);
    expect(offer(f, true, hex(query('n0.example.org')))).toBe(MATCH);
    for (let i = 1; i < 100; i++) follow(f, true, hex(query(`n${i}.example.org`)));
    expect(f.meta.dnsNames).toHaveLength(MAX_NAMES);
    expect(f.meta.dnsNames![MAX_NAMES - 1]).toBe(`n${MAX_NAMES - 1}.example.org`);
  });

  it('reads TCP messages behind their length prefix, also when the prefix comes alone', () => {
    const f = flow(6);
    expect(offer(f, true, hex(tcp(WA_QUERY)))).toBe(MATCH);
    const g = flow(6);
    expect(offer(g, true, hex(tcp(WA_QUERY).slice(0, 4)))).toBe(CONTINUE);
    expect(offer(g, true, hex(WA_QUERY))).toBe(MATCH);
    // Two pipelined queries in one segment, then a response split over two segments.
    follow(g, true, hex(tcp(query('a.example')) + tcp(query('b.example'))));
    const resp = tcp(WA_RESPONSE);
    follow(g, false, hex(resp.slice(0, 40)));
    follow(g, false, hex(resp.slice(40)));
    follow(g, true, hex(tcp(query('c.example'))));
    expect(g.meta.dnsNames).toEqual(['e7.whatsapp.net', 'a.example', 'b.example', 'c.example']);
    expect(offer(flow(6), true, hex('0005' + '0000000000'))).toBe(NO_MATCH);
  });

  it('reports zone transfers', () => {
    const f = flow(6, 53);
    expect(offer(f, true, hex(tcp(query('example.com', 252))))).toBe(MATCH);
    expect(f.threats).toEqual([[Threat.DNS_ZONE_TRANSFER, 'AXFR example.com']]);
    follow(f, true, hex(tcp(query('example.com', 251))));
    expect(f.threats[1]).toEqual([Threat.DNS_ZONE_TRANSFER, 'IXFR example.com']);
  });

  it('reports compression pointers that loop, and never loops itself', () => {
    // The answer's owner name points at itself.
    // The question ends at 12 + 11 + 4 = 27, where the answer's owner name points at itself.
    const looped = response('x.example', 1, []).replace(/^(.{12})0000/, '$10001') + 'c01b' + '00010001000000010004' + '01020304';
    const f = flow(17, 53);
    expect(offer(f, true, hex(query('x.example')))).toBe(MATCH);
    follow(f, false, hex(looped));
    expect(f.threats).toEqual([[Threat.DNS_LOOP_POINTER, 'answer name pointer at 27']]);
    // A question name that is a pointer to itself, on port 53.
    const g = flow(17, 53);
    expect(offer(g, true, hex('abcd01000001000000000000c00c00010001'))).toBe(MATCH);
    expect(g.threats).toEqual([[Threat.DNS_LOOP_POINTER, 'question name pointer at 12']]);
  });

  it('reports query names shaped like tunnelled data', () => {
    const b32 = 'mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwey3emvtgo2djnfvgw3dnnzxxa';
    const f = flow(17, 53);
    expect(offer(f, true, hex(query(`${b32.slice(0, 60)}.${b32.slice(10, 40)}.t.example.com`, 16)))).toBe(MATCH);
    expect(f.threats.map((t) => t[0])).toEqual([Threat.DNS_TUNNELING]);
    // dnscat2-style hex labels.
    const h = '8d6e01000e6b5bd5a5c0b3f0e1c2d3f4a5b6c7d8e9f00112233445566778899aabbccdd';
    const g = flow(17, 53);
    offer(g, true, hex(query(`${h.slice(0, 60)}.${h.slice(0, 50)}.dnscat.example`, 5)));
    expect(g.threats.map((t) => t[0])).toEqual([Threat.DNS_TUNNELING]);
    // base64 (dns2tcp-style) keeps both cases.
    const b64 = Buffer.from('tunnelled bytes of a shell session, whoami; id; uname -a').toString('base64').replace(/[+/=]/g, '');
    const k = flow(17, 53);
    offer(k, true, hex(query(`${b64.slice(0, 60)}.t.example.net`, 10)));
    expect(k.threats.map((x) => x[0])).toEqual([Threat.DNS_TUNNELING]);
    // Many TXT queries with shorter encoded labels.
    const t = flow(17, 53);
    for (let i = 0; i < 6; i++) {
      const q = hex(query(`${b32.slice(i, i + 30)}.x.tunnel.example`, 16, i));
      if (i === 0) offer(t, true, q);
      else follow(t, true, q);
    }
    expect(t.threats.map((x) => x[0])).toEqual([Threat.DNS_TUNNELING]);
  });

  it('does not take long ordinary names for tunnels', () => {
    const names = [
      'internal-k8s-default-myingress-0123456789-1234567890.us-west-2.elb.amazonaws.com',
      'my-company-production-application-logs-bucket-eu-west-1.s3.eu-west-1.amazonaws.com',
      'very-long-service-name-for-the-payments-team.production-namespace.svc.cluster.local.ec2.internal',
      'b.a.9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0.8.b.d.0.1.0.0.2.ip6.arpa.dnsbl.some-long-zone.example.org',
      'r4---sn-4g5e6nsz.googlevideo.com',
      '_dmarc.subdomain-with-a-reasonably-long-descriptive-name-for-testing.example.com',
    ];
    for (const n of names) {
      const f = flow(17, 53);
      expect(offer(f, true, hex(query(n, n.startsWith('_') ? 16 : 1)))).toBe(MATCH);
      expect(f.threats, n).toEqual([]);
    }
    const t = flow(17, 53);
    for (let i = 0; i < 8; i++) {
      const q = hex(query(`selector${i}._domainkey.mail.example.com`, 16, i));
      if (i === 0) offer(t, true, q);
      else follow(t, true, q);
    }
    expect(t.threats).toEqual([]);
  });

  it('accepts damaged messages on port 53 only', () => {
    for (const m of [FUZZ_BAD_QTYPE, FUZZ_BAD_LABEL, FUZZ_GARBAGE]) {
      expect(offer(flow(17, 53, 2740), true, hex(m))).toBe(MATCH);
      const f = flow(17, 5300);
      let v: Verdict = CONTINUE;
      for (let i = 0; i < 6 && v === CONTINUE; i++) v = offer(f, true, hex(m));
      expect(v).toBe(NO_MATCH);
    }
    // A cut-off datagram waits for the next one.
    const f = flow(17, 53, 2754);
    expect(offer(f, true, hex(FUZZ_SHORT))).toBe(CONTINUE);
    expect(offer(f, true, hex(WA_QUERY))).toBe(MATCH);
  });

  it('matches a damaged response that answers the query it saw off port 53', () => {
    const f = flow(17, 5300);
    const q = query('a.example', 1, 0x4242).replace(/0001$/, '2f01');
    expect(offer(f, true, hex(q))).toBe(CONTINUE);
    expect(offer(f, false, hex(response('a.example', 1, [], 0x4242).replace(/0001$/, '2f01')))).toBe(MATCH);
  });

  it('leaves NetBIOS, mDNS, SIP and RTP alone', () => {
    expect(offer(flow(17, 137, 137), true, hex(NBNS))).toBe(NO_MATCH);
    // mDNS: ID 0 on port 5353 (RFC 6762 §18.1); a DNS server on port 5353 answers random IDs.
    expect(offer(flow(17, 5353, 5353), true, hex('0000' + WA_QUERY.slice(4)))).toBe(NO_MATCH);
    expect(offer(flow(17, 5353), true, hex(WA_QUERY))).toBe(MATCH);
    expect(offer(flow(6, 5353), true, hex(tcp('0000' + WA_QUERY.slice(4))))).toBe(MATCH);
    for (const m of [SIP, RTP]) {
      const f = flow(17, 5060, 5060);
      let v: Verdict = CONTINUE;
      for (let i = 0; i < 6 && v === CONTINUE; i++) v = offer(f, i % 2 === 0, hex(m));
      expect(v).toBe(NO_MATCH);
    }
  });

  it('refuses other protocols and random bytes off port 53, in both transports', () => {
    let matches = 0;
    const all = [...FOREIGN, ascii('<134>Jan  1 00:00:00 host app: hello\n'), hex(SIP), hex(RTP)];
    for (let s = 1; s <= 400; s++) all.push(randomBytes(s, 1 + ((s * 37) % 600)));
    for (const d of all) {
      for (const l4 of [6, 17] as const) {
        for (const dir of [true, false]) {
          const f = flow(l4);
          for (let k = 0; k < 6; k++) {
            const v = offer(f, k % 2 === 0 ? dir : !dir, d);
            if (v === MATCH) matches++;
            if (v !== CONTINUE) break;
          }
        }
      }
    }
    expect(matches).toBe(0);
  });

  it('never matches a truncated datagram off port 53 and never throws on one', () => {
    for (const m of [WA_QUERY, WA_RESPONSE, GOOGLE_RESPONSE]) {
      const b = hex(m);
      for (let n = 0; n < b.length; n++) {
        expect(offer(flow(17), true, b.subarray(0, n))).not.toBe(MATCH);
        const f = flow(17, 53);
        offer(f, true, hex(WA_QUERY));
        expect(() => follow(f, false, b.subarray(0, n))).not.toThrow();
      }
    }
  });

  it('survives random bytes and random TCP splits while following', () => {
    const f = flow(6, 53);
    expect(offer(f, true, hex(tcp(WA_QUERY)))).toBe(MATCH);
    const r = randomBytes(7, 4096);
    for (let at = 0; at < r.length; ) {
      const n = 1 + (r[at] % 200);
      expect(follow(f, at % 2 === 0, r.subarray(at, at + n))).toBe(true);
      at += n;
    }
    const u = flow(17, 53);
    offer(u, true, hex(WA_QUERY));
    for (let s = 1; s < 200; s++) follow(u, s % 2 === 0, randomBytes(s, (s * 13) % 700));
    expect(u.meta.dnsNames!.length).toBeLessThanOrEqual(MAX_NAMES);
  });
});
