import { describe, expect, it } from 'vitest';
import { LinkType } from '../decode/linktype.js';
import { DataPlane } from '../engine/data-plane.js';
import { buildFrame, type FrameSpec } from '../testing/frame-builder.js';
import { Threat } from './catalog.js';
import type { ThreatRecord } from './threat-log.js';

function run(frames: [number, FrameSpec][], flood = { synPerSecond: 100, icmpPerSecond: 100 }): ThreatRecord[] {
  const out: ThreatRecord[] = [];
  const dp = new DataPlane({ sessions: 4096, parsers: [], flood, onThreat: (t) => out.push(t) });
  for (const [ts, spec] of frames) {
    const f = buildFrame(spec);
    dp.handleFrame(LinkType.ETHERNET, f, 0, f.length, f.length, ts, 0);
  }
  dp.flush();
  return out;
}

const ids = (r: ThreatRecord[]): number[] => [...new Set(r.map((t) => t.id))];
const tcp = (o: Partial<FrameSpec>): FrameSpec => ({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', sport: 40000, dport: 80, ...o });

describe('packet threat detections', () => {
  it('TCP SYN flood: many SYNs to one server port in a second', () => {
    const flood = Array.from({ length: 300 }, (_, i): [number, FrameSpec] => [100 + i / 1000, tcp({ sport: 10000 + i, flags: 'S' })]);
    const r = run(flood);
    expect(ids(r)).toEqual([Threat.TCP_SYN_FLOOD]);
    expect(r[0]).toMatchObject({ name: 'TCP SYN flood', severity: 'high', server: '10.0.0.2:80' });
    const spread = Array.from({ length: 300 }, (_, i): [number, FrameSpec] => [100 + i / 10, tcp({ sport: 10000 + i, flags: 'S' })]);
    expect(run(spread)).toEqual([]);
  });

  it('ICMP flood: echo requests above the rate to one address', () => {
    const echo = (i: number, spacing: number): [number, FrameSpec] => [100 + i * spacing, { src: '10.0.0.1', dst: '10.0.0.2', proto: 'icmp', sport: i }];
    expect(ids(run(Array.from({ length: 300 }, (_, i) => echo(i, 0.001))))).toEqual([Threat.ICMP_FLOOD]);
    expect(run(Array.from({ length: 300 }, (_, i) => echo(i, 0.1)))).toEqual([]);
  });

  it('ping of death: ICMP fragment past 65,535 bytes', () => {
    const frag = (off: number): [number, FrameSpec] => [1, { src: '10.0.0.1', dst: '10.0.0.2', proto: 'icmp', fragOffset: off, payload: new Uint8Array(1000), ipId: 7 }];
    expect(ids(run([frag(65000)]))).toEqual([Threat.PING_OF_DEATH]);
    expect(run([frag(60000)])).toEqual([]);
  });

  it('IP teardrop: overlapping fragments of one datagram', () => {
    const base = { src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp' as const, sport: 1, dport: 2, ipId: 9 };
    const first: [number, FrameSpec] = [1, { ...base, moreFragments: true, payload: new Uint8Array(32) }];
    const overlapping: [number, FrameSpec] = [1, { ...base, fragOffset: 24, payload: new Uint8Array(32) }];
    const adjacent: [number, FrameSpec] = [1, { ...base, fragOffset: 40, payload: new Uint8Array(32) }];
    expect(ids(run([first, overlapping]))).toEqual([Threat.IP_TEARDROP]);
    expect(run([first, adjacent])).toEqual([]);
  });

  it('TCP SYN with data, unless it is TCP Fast Open', () => {
    expect(ids(run([[1, tcp({ flags: 'S', payload: 'GET / HTTP/1.1\r\n\r\n' })]]))).toEqual([Threat.TCP_SYN_DATA]);
    const tfo = new Uint8Array([34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1]);
    expect(run([[1, tcp({ flags: 'S', payload: 'GET / HTTP/1.1\r\n\r\n', tcpOptions: tfo })]])).toEqual([]);
    expect(run([[1, tcp({ flags: 'S' })]])).toEqual([]);
  });

  it('TCP split handshake: SYN answered by SYN', () => {
    const syn: [number, FrameSpec] = [1, tcp({ flags: 'S', seq: 1 })];
    const back = (flags: string): [number, FrameSpec] => [1.001, tcp({ src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000, flags, seq: 9 })];
    expect(ids(run([syn, back('S')]))).toEqual([Threat.TCP_SPLIT_HANDSHAKE]);
    expect(run([syn, back('SA')])).toEqual([]);
  });

  it('de-duplicates a threat per workload within the window and carries the count', () => {
    const frames = Array.from({ length: 20 }, (_, i): [number, FrameSpec] => [1 + i * 0.1, tcp({ sport: 20000 + i, flags: 'S', payload: 'x' })]);
    const r = run(frames);
    expect(r.length).toBe(2);
    expect(r[0].count).toBe(1);
    expect(r[1].count).toBe(19);
  });
});
