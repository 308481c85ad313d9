import { describe, expect, it } from 'vitest';
import { App } from '../dpi/apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, type DpiParser } from '../dpi/parser.js';
import { LinkType } from '../decode/linktype.js';
import { compilePolicy } from '../policy/compiled.js';
import { policySchema } from '../policy/model.js';
import type { ConnectionRecord } from '../report/connection-aggregator.js';
import { buildFrame, type FrameSpec } from '../testing/frame-builder.js';
import { DataPlane, type DataPlaneOptions, type FlowCut } from './data-plane.js';
import type { FlowRecord } from './flow-record.js';

/** A parser for these tests only: "HELLO" from the client is app Redis, anything else is not. */
const helloParser: DpiParser & { slot: number } = {
  app: App.Redis,
  name: 'hello',
  transports: TCP,
  slot: -1,
  classify(_f, d, off, len) {
    if (len < 5) return CONTINUE;
    return d[off] === 0x48 && d[off + 1] === 0x45 && d[off + 4] === 0x4f ? MATCH : NO_MATCH;
  },
};

function harness(opts: DataPlaneOptions = {}) {
  const connections: ConnectionRecord[] = [];
  const flows: FlowRecord[] = [];
  const cuts: FlowCut[] = [];
  const dp = new DataPlane({
    sessions: 1024,
    parsers: [helloParser],
    onConnections: (b) => connections.push(...b),
    onFlowEnd: (f) => flows.push(f),
    onCut: (c) => cuts.push(c),
    ...opts,
  });
  const send = (ts: number, spec: FrameSpec, ifindex = 0): void => {
    const f = buildFrame(spec);
    dp.handleFrame(LinkType.ETHERNET, f, 0, f.length, f.length, ts, ifindex);
  };
  return { dp, connections, flows, cuts, send };
}

const C = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, proto: 'tcp' as const, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' };
const S = { src: '10.0.0.2', dst: '10.0.0.1', sport: 6379, dport: 40000, proto: 'tcp' as const, srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01' };

function handshake(send: (ts: number, s: FrameSpec, i?: number) => void, t0: number, ifindex = 0): void {
  send(t0, { ...C, flags: 'S', seq: 100 }, ifindex);
  send(t0 + 0.001, { ...S, flags: 'SA', seq: 500, ack: 101 }, ifindex);
  send(t0 + 0.002, { ...C, flags: 'A', seq: 101, ack: 501 }, ifindex);
  send(t0 + 0.003, { ...C, flags: 'PA', seq: 101, ack: 501, payload: 'HELLO' }, ifindex);
  send(t0 + 0.004, { ...S, flags: 'PA', seq: 501, ack: 106, payload: '+OK\r\n' }, ifindex);
}

describe('data plane', () => {
  it('reports an answered TCP session as a connection with app, bytes and packets', () => {
    const h = harness();
    handshake(h.send, 1000);
    h.dp.flush();
    expect(h.connections).toHaveLength(1);
    const c = h.connections[0];
    expect(c).toMatchObject({ client: '10.0.0.1', server: '10.0.0.2', serverPort: 6379, proto: 6, app: 'Redis', sessions: 1 });
    expect(c.packetsToServer).toBe(3);
    expect(c.packetsToClient).toBe(2);
    expect(c.bytesToServer).toBe(40 + 40 + 45);
    expect(c.bytesToClient).toBe(40 + 45);
    expect(h.flows[0]).toMatchObject({ l4: 'TCP', client: '10.0.0.1:40000', server: '10.0.0.2:6379', app: 'Redis', state: 'established' });
  });

  it('reports deltas every interval and counts a session once', () => {
    const h = harness();
    handshake(h.send, 1000);
    h.send(1006, { ...C, flags: 'PA', seq: 106, payload: 'HELLO' });
    expect(h.connections).toHaveLength(1);
    h.send(1012, { ...C, flags: 'PA', seq: 111, payload: 'HELLO' });
    expect(h.connections).toHaveLength(2);
    expect(h.connections[1]).toMatchObject({ sessions: 0, packetsToServer: 1, packetsToClient: 0, bytesToServer: 45 });
  });

  it('does not report unanswered scans, but reports them when they violate policy', () => {
    const h = harness();
    for (let i = 0; i < 50; i++) h.send(1000 + i * 0.01, { ...C, dport: 1000 + i, flags: 'S' });
    h.dp.flush();
    expect(h.connections).toHaveLength(0);
    const v = harness();
    v.dp.defaultPolicy = compilePolicy(policySchema.parse({ mode: 'monitor', rules: [] }));
    v.send(1000, { ...C, dport: 22, flags: 'S' });
    v.dp.flush();
    expect(v.connections).toHaveLength(1);
    expect(v.connections[0]).toMatchObject({ action: 'violate', ruleId: 0, violations: 1 });
  });

  it('expires idle sessions by their state timeouts', () => {
    const h = harness();
    h.send(1000, { ...C, proto: 'udp', dport: 5000, payload: 'x' });
    h.send(1000, { ...C, flags: 'S', sport: 40001 });
    h.send(1021, { ...C, proto: 'udp', sport: 1, dport: 2, payload: 'tick' });
    // The half-open TCP session (20 s) is gone, the UDP one (30 s) is not.
    expect(h.flows.map((f) => f.l4)).toEqual(['TCP']);
    h.send(1031, { ...C, proto: 'udp', sport: 1, dport: 2, payload: 'tick' });
    expect(h.flows.map((f) => f.l4)).toEqual(['TCP', 'UDP']);
    expect(h.flows[1].end).toBe('idle');
  });

  it('evicts the oldest sessions when full and counts them', () => {
    const h = harness({ sessions: 64 });
    for (let i = 0; i < 200; i++) h.send(1000 + i * 0.001, { ...C, proto: 'udp', sport: 1000 + i, payload: 'x' });
    expect(h.dp.table.count).toBe(64);
    expect(h.dp.counters().sessionsEvicted).toBe(136);
  });

  it('attributes frames to the port workload and tells ingress from egress', () => {
    const h = harness();
    h.dp.ports.set({ ifindex: 7, workloadId: 'srv', macs: ['02:00:00:00:00:02'], ips: ['10.0.0.2'] });
    h.dp.ports.set({ ifindex: 8, workloadId: 'cli', macs: ['02:00:00:00:00:01'], ips: [] });
    handshake(h.send, 1000, 7);
    handshake(h.send, 1000, 8);
    h.dp.flush();
    const byWl = Object.fromEntries(h.connections.map((c) => [c.workloadId, c.direction]));
    expect(byWl).toEqual({ srv: 'ingress', cli: 'egress' });
  });

  it('reports the sessions of a removed port at once, under its workload, and ends them', () => {
    const h = harness();
    h.dp.ports.set({ ifindex: 7, workloadId: 'srv', macs: ['02:00:00:00:00:02'], ips: ['10.0.0.2'] });
    h.dp.ports.set({ ifindex: 8, workloadId: 'cli', macs: ['02:00:00:00:00:01'], ips: [] });
    handshake(h.send, 1000, 7);
    handshake(h.send, 1000, 8);
    expect(h.dp.removePort(8)).toBe(true);
    // Only the removed port's session was ended; its record names its workload, before any interval.
    expect(h.connections.map((c) => [c.workloadId, c.sessions])).toEqual([['cli', 1]]);
    expect(h.flows.map((f) => [f.workloadId, f.end])).toEqual([['cli', 'flush']]);
    expect(h.dp.table.count).toBe(1);
    expect(h.dp.ports.get(8)).toBeUndefined();
    expect(h.dp.removePort(8)).toBe(false);
    h.dp.flush();
    expect(h.connections.map((c) => [c.workloadId, c.sessions])).toEqual([['cli', 1], ['srv', 1]]);
  });

  it('gives IPv6 neighbour and multicast listener discovery no verdict: not a violation, not reported', () => {
    const h = harness();
    h.dp.ports.set({ ifindex: 7, workloadId: 'srv', macs: ['02:00:00:00:00:02'], ips: ['fd00::2'] });
    h.dp.policies.set('srv', compilePolicy(policySchema.parse({ mode: 'monitor', rules: [] })));
    const icmp6 = { proto: 'icmp' as const, srcMac: '02:00:00:00:00:02', dstMac: '33:33:00:00:00:01' };
    // NS (duplicate address detection, from ::), MLDv2 report, RS, and an NA answering an NS.
    h.send(1000, { ...icmp6, src: '::', dst: 'ff02::1:ff00:2', icmpType: 135 }, 7);
    h.send(1000, { ...icmp6, src: 'fe80::2', dst: 'ff02::16', icmpType: 143 }, 7);
    h.send(1000, { ...icmp6, src: 'fe80::2', dst: 'ff02::2', icmpType: 133 }, 7);
    h.send(1000, { ...icmp6, src: 'fe80::1', dst: 'fe80::2', icmpType: 136, srcMac: '02:00:00:00:00:09', dstMac: '02:00:00:00:00:02' }, 7);
    // An echo request to the same group is a flow like any other: the implicit deny applies.
    h.send(1000, { ...icmp6, src: 'fe80::2', dst: 'ff02::1', icmpType: 128 }, 7);
    h.dp.flush();
    expect(h.connections.map((c) => [c.server, c.action])).toEqual([['ff02::1', 'violate']]);
  });

  it('re-decides an app rule once DPI knows the app and asks to cut a Protect deny', () => {
    const h = harness();
    h.dp.ports.set({ ifindex: 7, workloadId: 'srv', macs: ['02:00:00:00:00:02'], ips: ['10.0.0.2'] });
    h.dp.policies.set('srv', compilePolicy(policySchema.parse({
      mode: 'protect',
      rules: [{ id: 5, from: ['10.0.0.0/24'], to: ['any'], ports: 'tcp/6379', apps: ['HTTP'], action: 'allow' }],
    })));
    handshake(h.send, 1000, 7);
    expect(h.cuts).toHaveLength(1);
    expect(h.cuts[0]).toMatchObject({ workloadId: 'srv', client: '10.0.0.1', server: '10.0.0.2', serverPort: 6379, app: 'Redis', ruleId: 0 });
    h.dp.flush();
    expect(h.connections[0]).toMatchObject({ action: 'deny', ruleId: 0, app: 'Redis' });
  });

  it('keeps an allowed app rule verdict with its rule id', () => {
    const h = harness();
    h.dp.defaultPolicy = compilePolicy(policySchema.parse({
      mode: 'protect',
      rules: [{ id: 9, from: ['any'], to: ['any'], ports: 'tcp/6379', apps: ['Redis'], action: 'allow' }],
    }));
    handshake(h.send, 1000);
    h.dp.flush();
    expect(h.cuts).toHaveLength(0);
    expect(h.connections[0]).toMatchObject({ action: 'allow', ruleId: 9 });
    expect(h.flows[0]).toMatchObject({ verdict: 'allow', ruleId: 9 });
  });

  it('counts malformed frames without throwing', () => {
    const h = harness();
    const junk = new Uint8Array([1, 2, 3]);
    h.dp.handleFrame(LinkType.ETHERNET, junk, 0, 3, 3, 1, 0);
    expect(h.dp.counters().malformed).toBe(1);
    expect(h.dp.counters().malformedByReason).toEqual({ 'truncated link header': 1 });
  });
});
