import { describe, expect, it } from 'vitest';
import { REASON_HOST_NETWORK, REASON_NO_PID, REASON_PAUSED, expectedInterfaces, toWorkload, type InspectData } from './workload.js';

const ID = 'f'.repeat(64);
const ETH0 = { name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:02', ips: ['172.17.0.2'] };

function inspect(over: { state?: Partial<InspectData['State']>; mode?: string; networks?: string[]; labels?: Record<string, string> | null } = {}): InspectData {
  return {
    Id: ID,
    Name: '/web-1',
    Config: { Image: 'mseg-test/web:abc', Labels: over.labels === undefined ? { 'mseg.service': 'web' } : over.labels },
    State: { Running: true, Paused: false, Pid: 321, ...over.state },
    HostConfig: { NetworkMode: over.mode ?? 'bridge' },
    NetworkSettings: { Networks: Object.fromEntries((over.networks ?? ['bridge']).map((n) => [n, {}])) },
  };
}

describe('toWorkload', () => {
  it('a running container is monitored with its namespace and interfaces', () => {
    expect(toWorkload(inspect(), 'node1', [ETH0])).toEqual({
      id: ID,
      name: 'web-1',
      image: 'mseg-test/web:abc',
      labels: { 'mseg.service': 'web' },
      service: 'web',
      host: 'node1',
      pid: 321,
      netns: '/proc/321/ns/net',
      interfaces: [ETH0],
      state: 'running',
      reason: '',
    });
  });

  it('a stopped container has no pid, namespace or interfaces', () => {
    const w = toWorkload(inspect({ state: { Running: false, Pid: 0 }, labels: null }), 'node1', [ETH0]);
    expect([w.state, w.pid, w.netns, w.interfaces, w.service, w.labels]).toEqual(['stopped', 0, '', [], 'mseg-test/web', {}]);
  });

  it.each([
    ['host network', inspect({ mode: 'host', networks: ['host'] }), REASON_HOST_NETWORK, ''],
    ['paused', inspect({ state: { Paused: true } }), REASON_PAUSED, '/proc/321/ns/net'],
    ['no pid', inspect({ state: { Pid: 0 } }), REASON_NO_PID, ''],
    ['shared namespace', inspect({ mode: 'container:' + 'a'.repeat(64), networks: [] }), 'shares the network namespace of container aaaaaaaaaaaa', '/proc/321/ns/net'],
  ])('%s → unmonitored with a reason', (_what, c, reason, netns) => {
    const w = toWorkload(c, 'node1', []);
    expect([w.state, w.reason, w.netns]).toEqual(['unmonitored', reason, netns]);
  });

  it('a running container whose interfaces cannot be read is unmonitored, naming the error', () => {
    const w = toWorkload(inspect(), 'node1', [], 'nsenter: No such file');
    expect([w.state, w.reason]).toEqual(['unmonitored', 'cannot read its interfaces: nsenter: No such file']);
  });
});

describe('expectedInterfaces', () => {
  it('counts one interface per attached network, none for host/none/shared namespaces', () => {
    expect(expectedInterfaces(inspect({ networks: ['bridge', 'backend'] }))).toBe(2);
    expect(expectedInterfaces(inspect({ mode: 'host', networks: ['host'] }))).toBe(0);
    expect(expectedInterfaces(inspect({ mode: 'none', networks: ['none'] }))).toBe(0);
    expect(expectedInterfaces(inspect({ mode: 'container:x', networks: [] }))).toBe(0);
  });
});
