/**
 * Each application-layer threat detection, end to end through the pipeline with the real
 * parsers: one crafted packet sequence that must trigger it and one close to it that must not.
 */
import { describe, expect, it } from 'vitest';
import { LinkType } from '../src/decode/linktype.js';
import { DataPlane } from '../src/engine/data-plane.js';
import { Threat } from '../src/threat/catalog.js';
import type { ThreatRecord } from '../src/threat/threat-log.js';
import { buildFrame } from '../src/testing/frame-builder.js';

type Msg = [fromClient: boolean, payload: Uint8Array | string];

/** Plays a TCP conversation (handshake, then the messages) or UDP datagrams, returns threat ids. */
function play(proto: 'tcp' | 'udp', port: number, msgs: Msg[]): number[] {
  const out: ThreatRecord[] = [];
  const dp = new DataPlane({ sessions: 1024, onThreat: (t) => out.push(t) });
  let ts = 1000;
  const seq = [1000, 5000];
  const send = (fromClient: boolean, flags: string, payload: Uint8Array | string = ''): void => {
    const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const f = buildFrame({
      proto,
      src: fromClient ? '10.1.0.1' : '10.1.0.2',
      dst: fromClient ? '10.1.0.2' : '10.1.0.1',
      sport: fromClient ? 45000 : port,
      dport: fromClient ? port : 45000,
      flags,
      seq: seq[fromClient ? 0 : 1],
      ack: seq[fromClient ? 1 : 0],
      payload,
    });
    if (proto === 'tcp') seq[fromClient ? 0 : 1] += len + (flags.includes('S') ? 1 : 0);
    dp.handleFrame(LinkType.ETHERNET, f, 0, f.length, f.length, (ts += 0.001), 0);
  };
  if (proto === 'tcp') {
    send(true, 'S');
    send(false, 'SA');
    send(true, 'A');
  }
  for (const [fromClient, payload] of msgs) send(fromClient, 'PA', payload);
  dp.flush();
  return [...new Set(out.map((t) => t.id))];
}

const bytes = (...parts: (number[] | Uint8Array)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const u16 = (n: number): number[] => [n >> 8, n & 255];
const u24 = (n: number): number[] => [n >> 16, (n >> 8) & 255, n & 255];

function tlsRecord(type: number, version: number, body: Uint8Array): Uint8Array {
  return bytes([type, ...u16(version), ...u16(body.length)], body);
}

function clientHello(sni: string, versions: number[], legacy = 0x0303): Uint8Array {
  const name = new TextEncoder().encode(sni);
  const sniExt = bytes(u16(0), u16(name.length + 5), u16(name.length + 3), [0], u16(name.length), name);
  const sv = bytes(u16(43), u16(1 + versions.length * 2), [versions.length * 2], versions.flatMap(u16));
  const exts = bytes(sniExt, sv);
  const body = bytes(u16(legacy), new Uint8Array(32), [0], u16(2), [0x13, 0x01], [1, 0], u16(exts.length), exts);
  return tlsRecord(22, 0x0301, bytes([1], u24(body.length), body));
}

function serverHello(version: number): Uint8Array {
  const legacy = version >= 0x0304 ? 0x0303 : version;
  const exts = version >= 0x0304 ? bytes(u16(43), u16(2), u16(version)) : new Uint8Array(0);
  const body = bytes(u16(legacy), new Uint8Array(32), [0], [0x13, 0x01], [0], u16(exts.length), exts);
  return tlsRecord(22, legacy, bytes([2], u24(body.length), body));
}

function heartbeat(declared: number, actual: number): Uint8Array {
  return tlsRecord(24, 0x0303, bytes([1], u16(declared), new Uint8Array(actual), new Uint8Array(16)));
}

function dnsQuery(name: string, qtype: number, id = 0x1234): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return bytes(u16(id), [0x01, 0x00], u16(1), u16(0), u16(0), u16(0), labels, [0], u16(qtype), u16(1));
}

function dnsResponseWithPointer(pointerTo: number): Uint8Array {
  // Question www.example.com A, answer whose name is a compression pointer.
  const q = dnsQuery('www.example.com', 1, 0x4321);
  q[2] = 0x81;
  q[3] = 0x80;
  q[7] = 1;
  const answer = bytes([0xc0, pointerTo], u16(1), u16(1), [0, 0, 0, 60], u16(4), [93, 184, 216, 34]);
  return bytes(q, answer);
}

describe('application threat detections', () => {
  it('SSL heartbleed: heartbeat request declaring more than it carries', () => {
    const hs: Msg[] = [[true, clientHello('a.example', [0x0303])], [false, serverHello(0x0303)]];
    expect(play('tcp', 443, [...hs, [true, heartbeat(0x4000, 1)]])).toContain(Threat.TLS_HEARTBLEED);
    expect(play('tcp', 443, [...hs, [true, heartbeat(16, 16)]])).not.toContain(Threat.TLS_HEARTBLEED);
  });

  it('SSLv3/TLS 1.0/1.1 negotiated, but not TLS 1.2 or 1.3', () => {
    expect(play('tcp', 443, [[true, clientHello('old.example', [0x0301], 0x0301)], [false, serverHello(0x0301)]])).toContain(Threat.TLS_OLD_VERSION);
    expect(play('tcp', 443, [[true, clientHello('new.example', [0x0304, 0x0303])], [false, serverHello(0x0304)]])).not.toContain(Threat.TLS_OLD_VERSION);
  });

  it('HTTP negative content-length', () => {
    expect(play('tcp', 80, [[true, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n']])).toContain(Threat.HTTP_NEGATIVE_LENGTH);
    expect(play('tcp', 80, [[true, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello']])).toEqual([]);
  });

  it('HTTP request smuggling: Content-Length with chunked Transfer-Encoding', () => {
    const smuggle = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    expect(play('tcp', 80, [[true, smuggle]])).toContain(Threat.HTTP_SMUGGLING);
    expect(play('tcp', 80, [[true, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']])).toEqual([]);
  });

  it('SQL injection in the request target', () => {
    expect(play('tcp', 80, [[true, "GET /item?id=1%27%20OR%20%271%27%3D%271 HTTP/1.1\r\nHost: a\r\n\r\n"]])).toContain(Threat.SQL_INJECTION);
    expect(play('tcp', 80, [[true, 'GET /search?q=union+station+select+seats&order=desc HTTP/1.1\r\nHost: a\r\n\r\n']])).toEqual([]);
  });

  it('SSH version 1, but not 2.0 or the 1.99 compatibility banner', () => {
    expect(play('tcp', 22, [[false, 'SSH-1.5-OldServer\r\n'], [true, 'SSH-1.5-client\r\n']])).toContain(Threat.SSH_V1);
    expect(play('tcp', 22, [[false, 'SSH-2.0-OpenSSH_9.2\r\n'], [true, 'SSH-2.0-OpenSSH_9.2\r\n']])).toEqual([]);
    expect(play('tcp', 22, [[false, 'SSH-1.99-OpenSSH_3.0\r\n'], [true, 'SSH-2.0-client\r\n']])).toEqual([]);
  });

  it('DNS zone transfer over TCP', () => {
    const axfr = dnsQuery('example.com', 252);
    expect(play('tcp', 53, [[true, bytes(u16(axfr.length), axfr)]])).toContain(Threat.DNS_ZONE_TRANSFER);
    const a = dnsQuery('example.com', 1);
    expect(play('tcp', 53, [[true, bytes(u16(a.length), a)]])).toEqual([]);
  });

  it('DNS tunnelling: long encoded labels, not long ordinary names', () => {
    const encoded = 'dGhpcyBpcyBhIHNlY3JldCBtZXNzYWdlIGVuY29kZWQgaW4gYmFzZTY0.MzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejEyMzQ1Njc4.t.evil.example';
    expect(play('udp', 53, [[true, dnsQuery(encoded, 16)]])).toContain(Threat.DNS_TUNNELING);
    const cdn = 'images-assets-production-eu-west.static-content-delivery.cloudfront-assets.example-media-company.com';
    expect(play('udp', 53, [[true, dnsQuery(cdn, 1)]])).toEqual([]);
  });

  it('DNS loop pointer: a compression pointer to itself', () => {
    const q = dnsQuery('www.example.com', 1, 0x4321);
    const self = dnsResponseWithPointer(q.length);
    expect(play('udp', 53, [[true, q], [false, self]])).toContain(Threat.DNS_LOOP_POINTER);
    expect(play('udp', 53, [[true, q], [false, dnsResponseWithPointer(12)]])).toEqual([]);
  });
});
