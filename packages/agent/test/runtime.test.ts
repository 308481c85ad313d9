/**
 * The runtime against a real dockerd and the locally built images: workloads of containers with
 * a mseg.service label, compose labels, two networks (one IPv6), the host network and a paused
 * one, and the add/change/remove notifications their lifecycle produces.
 */
import { hostname } from 'node:os';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/runtime/docker-runtime.js';
import { WorkloadTable, type WorkloadChange } from '../src/runtime/table.js';
import type { Workload } from '../src/runtime/types.js';
import { TestDocker, docker } from './helpers/containers.js';
import { ensureImage } from './helpers/images.js';
import { waitFor } from './helpers/wait.js';

interface NetInfo {
  MacAddress: string;
  IPAddress: string;
  GlobalIPv6Address: string;
}

const t = new TestDocker();
const table = new WorkloadTable();
const changes: WorkloadChange[] = [];
const logs: string[] = [];
let runtime: DockerRuntime;
let web: string;
let tiny: string;
const v6 = `fd00:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::`;

async function networksOf(id: string): Promise<NetInfo[]> {
  const nets = JSON.parse(await docker('inspect', '--format', '{{json .NetworkSettings.Networks}}', id)) as Record<string, NetInfo>;
  return Object.values(nets);
}

function ofKind(id: string, kind: WorkloadChange['kind']): Workload[] {
  return changes.filter((c) => c.workload.id === id && c.kind === kind).map((c) => c.workload);
}

beforeAll(async () => {
  [web, tiny] = await Promise.all([ensureImage('web'), ensureImage('tiny')]);
  await t.network('a');
  await t.network('b', ['--ipv6', '--subnet', `${v6}/64`]);
  table.subscribe((c) => changes.push(c));
  runtime = new DockerRuntime({ docker: new Dockerode({ socketPath: '/var/run/docker.sock' }), table, host: hostname(), log: (m) => logs.push(m) });
  runtime.start();
  await table.synced();
});

afterAll(async () => {
  await runtime?.stop();
  await t.cleanup();
  expect(await t.leftovers()).toEqual([]);
});

describe('Docker runtime', () => {
  it('lists a container that existed before start once the table is synced', async () => {
    // Started with the runtime already running, so check that a fresh runtime loads it at sync.
    const id = await t.run('pre', ['--network', t.name('a'), tiny, 'sleep', '600']);
    const second = new WorkloadTable();
    const r2 = new DockerRuntime({ docker: new Dockerode(), table: second, host: 'h2', log: () => {} });
    r2.start();
    try {
      await second.synced();
      expect(second.get(id)?.state).toBe('running');
      expect(second.get(id)?.host).toBe('h2');
    } finally {
      await r2.stop();
    }
  });

  it('a web container with a mseg.service label: running, its namespace and interface as Docker and the kernel see them', async () => {
    const id = await t.run('web', ['--label', 'mseg.service=shop-web', '--network', t.name('a'), web]);
    const w = await waitFor('web workload', () => table.get(id)?.state === 'running' && table.get(id));
    const [net] = await networksOf(id);
    const pid = Number(await docker('inspect', '--format', '{{.State.Pid}}', id));
    expect(w).toMatchObject({ name: t.name('web'), image: web, service: 'shop-web', host: hostname(), pid, netns: `/proc/${pid}/ns/net`, reason: '' });
    expect(w.labels['mseg.service']).toBe('shop-web');
    expect(w.interfaces).toEqual([{ name: 'eth0', ifindex: expect.any(Number), mac: net.MacAddress, ips: [net.IPAddress] }]);
    expect(ofKind(id, 'added')).toHaveLength(1);
  });

  it('a compose-labelled container is named project.service', async () => {
    const id = await t.run('compose', ['--label', 'com.docker.compose.project=shop', '--label', 'com.docker.compose.service=api', '--network', t.name('a'), tiny, 'sleep', '600']);
    const w = await waitFor('compose workload', () => table.get(id));
    expect(w.service).toBe('shop.api');
  });

  it('a container on two networks has one interface per network, the second seen on network connect', async () => {
    const id = await t.run('multi', ['--network', t.name('a'), tiny, 'sleep', '600']);
    await waitFor('first interface', () => table.get(id)?.interfaces.length === 1);
    await docker('network', 'connect', t.name('b'), id);
    const w = await waitFor('second interface', () => table.get(id)?.interfaces.length === 2 && table.get(id));
    const nets = await networksOf(id);
    expect(w.interfaces.map((i) => i.mac).sort()).toEqual(nets.map((n) => n.MacAddress).sort());
    const onB = w.interfaces.find((i) => i.ips.some((ip) => ip.startsWith(v6)));
    expect(onB?.ips).toHaveLength(2); // its IPv4 and its IPv6 address on network b
    expect(ofKind(id, 'changed').length).toBeGreaterThanOrEqual(1);

    await docker('network', 'disconnect', t.name('b'), id);
    await waitFor('back to one interface', () => table.get(id)?.interfaces.length === 1);
  });

  it('a host-network container is unmonitored, saying why', async () => {
    const id = await t.run('host', ['--network', 'host', tiny, 'sleep', '600']);
    const w = await waitFor('host workload', () => table.get(id));
    expect([w.state, w.reason, w.netns, w.interfaces]).toEqual(['unmonitored', 'uses the host network namespace', '', []]);
  });

  it('pause makes a workload unmonitored, unpause running again, stop stopped, remove removed', async () => {
    const id = await t.run('paused', ['--network', t.name('a'), tiny, 'sleep', '600']);
    await waitFor('running', () => table.get(id)?.state === 'running');
    await docker('pause', id);
    const paused = await waitFor('paused', () => table.get(id)?.state === 'unmonitored' && table.get(id));
    expect(paused.reason).toBe('paused');
    await docker('unpause', id);
    await waitFor('unpaused', () => table.get(id)?.state === 'running');
    await docker('stop', '-t', '0', id);
    const stopped = await waitFor('stopped', () => table.get(id)?.state === 'stopped' && table.get(id));
    expect([stopped.pid, stopped.netns, stopped.interfaces]).toEqual([0, '', []]);
    await docker('rm', id);
    await waitFor('removed', () => table.get(id) === undefined);
    expect(changes.filter((c) => c.workload.id === id).map((c) => `${c.kind}:${c.workload.state}`)).toEqual([
      'added:running',
      'changed:unmonitored',
      'changed:running',
      'changed:stopped',
      'removed:stopped',
    ]);
  });

  it('logged nothing unexpected', () => {
    expect(logs.filter((l) => !/ended; reconnecting/.test(l))).toEqual([]);
  });
});
