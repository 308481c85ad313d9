import type { ConnectionRecord, ThreatRecord } from '@mseg/dp';
import { describe, expect, it } from 'vitest';
import { ReportQueue, type ViolationRecord } from './report-queue.js';

function conn(n: number, over: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return {
    workloadId: 'w',
    client: '10.0.0.1',
    server: '10.0.0.2',
    serverPort: n,
    proto: 6,
    app: 'HTTP',
    direction: 'egress',
    ruleId: 1,
    action: 'allow',
    bytesToServer: 1,
    bytesToClient: 1,
    packetsToServer: 1,
    packetsToClient: 1,
    sessions: 1,
    firstSeen: 1,
    lastSeen: 2,
    violations: 0,
    threatSeverity: 0,
    ...over,
  };
}

const violation = (n: number): ViolationRecord => ({
  workloadId: 'w',
  client: '10.0.0.1',
  server: '10.0.0.2',
  clientPort: 40000,
  serverPort: n,
  proto: 6,
  ruleId: 0,
  direction: 'ingress',
  ts: 1,
  count: 1,
});

const threat = (id: number): ThreatRecord => ({
  id,
  name: 't',
  severity: 'high',
  ts: 1,
  workloadId: 'w',
  client: '10.0.0.1:1',
  server: '10.0.0.2:2',
  proto: 6,
  app: 'HTTP',
  detail: '',
  count: 1,
});

describe('ReportQueue', () => {
  it('gives denied/violated/threat connection records before allowed ones, each lane oldest first', () => {
    const q = new ReportQueue(10);
    q.pushConnections([conn(1), conn(2, { action: 'violate', ruleId: 0 }), conn(3), conn(4, { action: 'deny' }), conn(5, { threatSeverity: 3 })]);
    expect(q.take('connection', 4).map((c) => c.serverPort)).toEqual([2, 4, 5, 1]);
    expect(q.take('connection', 4).map((c) => c.serverPort)).toEqual([3]);
    expect(q.length).toBe(0);
  });

  it('when full, drops the oldest allowed-connection records and counts them; violations stay', () => {
    const q = new ReportQueue(4);
    q.pushConnections([conn(1), conn(2)]);
    q.pushViolations([violation(80), violation(81)]);
    q.pushViolations([violation(82), violation(83)]);
    expect(q.dropped).toEqual({ allowed: 2, priority: 0 });
    expect(q.length).toBe(4);
    expect(q.take('connection', 10)).toEqual([]);
    expect(q.take('violation', 10).map((v) => v.serverPort)).toEqual([80, 81, 82, 83]);
  });

  it('DNS answers are bulk: dropped before violations when full, taken oldest first', () => {
    const q = new ReportQueue(3);
    q.pushViolations([violation(1)]);
    q.pushDnsAnswers([1, 2, 3].map((i) => ({ name: `n${i}.test`, addr: `10.0.0.${i}`, ttl: 60 })));
    expect(q.dropped).toEqual({ allowed: 1, priority: 0 });
    expect(q.take('dns', 10).map((a) => a.name)).toEqual(['n2.test', 'n3.test']);
    expect(q.take('violation', 10)).toHaveLength(1);
  });

  it('a queue full of priority records drops the oldest of those, counted apart', () => {
    const q = new ReportQueue(2);
    q.pushViolations([violation(1), violation(2), violation(3)]);
    q.pushConnections([conn(9)]);
    expect(q.dropped).toEqual({ allowed: 0, priority: 2 });
    expect(q.take('violation', 10).map((v) => v.serverPort)).toEqual([3]);
    expect(q.take('connection', 10).map((c) => c.serverPort)).toEqual([9]);
  });

  it('takes one kind at a time and leaves the others in order', () => {
    const q = new ReportQueue(10);
    q.pushThreats([threat(1001)]);
    q.pushViolations([violation(1)]);
    q.pushThreats([threat(1002)]);
    expect(q.take('threat', 1).map((t) => t.id)).toEqual([1001]);
    expect(q.take('violation', 5)).toHaveLength(1);
    expect(q.take('threat', 5).map((t) => t.id)).toEqual([1002]);
  });

  it('stays bounded under a long flood of allowed records', () => {
    const q = new ReportQueue(1000);
    for (let i = 0; i < 50_000; i++) q.pushConnections([conn(i % 65535)]);
    expect(q.length).toBe(1000);
    expect(q.dropped.allowed).toBe(49_000);
    // The newest survive.
    expect(q.take('connection', 1)[0].serverPort).toBe(49_000 % 65535);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new ReportQueue(0)).toThrow(RangeError);
  });
});
