import { describe, expect, it } from 'vitest';
import { LinkType } from '../decode/linktype.js';
import type { ConnectionRecord } from '../report/connection-aggregator.js';
import { buildFrame } from '../testing/frame-builder.js';
import { DataPlane } from './data-plane.js';

function udpPair(dp: DataPlane, i: number, ts: number): void {
  const client = `10.1.${(i >> 8) & 255}.${i & 255}`;
  const q = buildFrame({ src: client, dst: '10.9.9.9', proto: 'udp', sport: 40000, dport: 9999, payload: 'q' });
  const r = buildFrame({ src: '10.9.9.9', dst: client, proto: 'udp', sport: 9999, dport: 40000, payload: 'r' });
  dp.handleFrame(LinkType.ETHERNET, q, 0, q.length, q.length, ts, 0);
  dp.handleFrame(LinkType.ETHERNET, r, 0, r.length, r.length, ts, 0);
}

describe('sliced connection reports', () => {
  it('emit the same records as a report built in one go, and nothing before the last slice', () => {
    const batches: ConnectionRecord[][] = [];
    const whole: ConnectionRecord[][] = [];
    const sliced = new DataPlane({ sessions: 4096, parsers: [], reportSlice: 100, onConnections: (b) => batches.push(b) });
    const once = new DataPlane({ sessions: 4096, parsers: [], onConnections: (b) => whole.push(b) });
    for (let i = 0; i < 1000; i++) {
      udpPair(sliced, i, 1000 + i / 1000);
      udpPair(once, i, 1000 + i / 1000);
    }
    // A packet after the interval starts the report; the sliced one needs continueReport().
    udpPair(sliced, 5000, 1006);
    udpPair(once, 5000, 1006);
    expect(whole).toHaveLength(1);
    expect(batches).toHaveLength(0);
    expect(sliced.reportPending).toBe(true);
    let steps = 0;
    while (sliced.reportPending) {
      sliced.continueReport(100);
      steps++;
    }
    expect(steps).toBeGreaterThanOrEqual(10);
    expect(batches).toHaveLength(1);
    const key = (r: ConnectionRecord): string => `${r.client}>${r.server}:${r.serverPort}`;
    // The sliced report may already hold the session of the packet that started it.
    const trigger = '10.1.19.136>10.9.9.9:9999';
    expect(batches[0].map(key).filter((k) => k !== trigger).sort()).toEqual(whole[0].map(key).sort());
  });

  it('does not lose a session that moves behind the cursor; it is reported next time', () => {
    const got: ConnectionRecord[] = [];
    const dp = new DataPlane({ sessions: 4096, parsers: [], reportSlice: 10, onConnections: (b) => got.push(...b) });
    for (let i = 0; i < 100; i++) udpPair(dp, i, 1000);
    udpPair(dp, 5000, 1006);
    dp.continueReport(50);
    // Sessions end meanwhile: removal moves the last rows into the holes before the cursor.
    udpPair(dp, 6000, 1040);
    while (dp.reportPending) dp.continueReport(10);
    dp.flush();
    const clients = new Set(got.map((r) => r.client));
    for (let i = 0; i < 100; i++) expect(clients.has(`10.1.0.${i}`)).toBe(true);
  });
});

describe('a session whose application is being decided at a report', () => {
  it('waits for the decision: one record, labelled, not an "unknown" one beside it', () => {
    const got: ConnectionRecord[] = [];
    const dp = new DataPlane({ sessions: 4096, onConnections: (b) => got.push(...b) });
    const tcp = (src: string, dst: string, sport: number, dport: number, flags: string, seq: number, ack: number, payload: string | undefined, ts: number): void => {
      const f = buildFrame({ src, dst, proto: 'tcp', sport, dport, flags, seq, ack, ...(payload === undefined ? {} : { payload }) });
      dp.handleFrame(LinkType.ETHERNET, f, 0, f.length, f.length, ts, 0);
    };
    const c = '10.2.0.2';
    const s = '10.2.0.3';
    udpPair(dp, 1, 1000);
    // Answered just before the report, its first bytes not yet seen by DPI.
    tcp(c, s, 41000, 80, 'S', 100, 0, undefined, 1004.5);
    tcp(s, c, 80, 41000, 'SA', 500, 101, undefined, 1004.5);
    tcp(c, s, 41000, 80, 'A', 101, 501, undefined, 1004.6);
    udpPair(dp, 2, 1005.2);
    expect(got.filter((r) => r.serverPort === 80)).toEqual([]);
    const req = 'GET / HTTP/1.1\r\nHost: s\r\n\r\n';
    tcp(c, s, 41000, 80, 'PA', 101, 501, req, 1005.5);
    tcp(s, c, 80, 41000, 'PA', 501, 101 + req.length, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 1005.6);
    udpPair(dp, 3, 1010.5);
    const http = got.filter((r) => r.serverPort === 80);
    expect(http).toHaveLength(1);
    expect(http[0]).toMatchObject({ app: 'HTTP', sessions: 1, packetsToServer: 3, packetsToClient: 2 });
  });
});
