/**
 * The controller link against an in-process AgentService over real gRPC (h2c on loopback).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import type { ConnectionRecord } from '@mseg/dp';
import { PolicyMode, RuleAction, Verdict, WorkloadState } from '@mseg/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControllerLink } from '../src/link/controller-link.js';
import type { PolicyUpdate } from '../src/link/policy-store.js';
import { loadIdentity } from '../src/link/state.js';
import { WorkloadTable } from '../src/runtime/table.js';
import type { Workload } from '../src/runtime/types.js';
import { FakeController } from './helpers/fake-controller.js';
import { waitFor } from './helpers/wait.js';

function workload(id: string, over: Partial<Workload> = {}): Workload {
  return {
    id,
    name: `c-${id}`,
    image: 'mseg-test/web:1',
    labels: { 'mseg.service': 'web' },
    service: 'web',
    host: 'node1',
    pid: 100,
    netns: '/proc/100/ns/net',
    interfaces: [{ name: 'eth0', ifindex: 5, mac: '02:42:ac:11:00:02', ips: ['172.17.0.2'] }],
    state: 'running',
    reason: '',
    ...over,
  };
}

function conn(port: number, action: ConnectionRecord['action']): ConnectionRecord {
  return {
    workloadId: 'w1',
    client: '172.17.0.3',
    server: '172.17.0.2',
    serverPort: port,
    proto: 6,
    app: 'HTTP',
    direction: 'ingress',
    ruleId: action === 'allow' ? 7 : 0,
    action,
    bytesToServer: 10,
    bytesToClient: 20,
    packetsToServer: 1,
    packetsToClient: 1,
    sessions: 1,
    firstSeen: 1,
    lastSeen: 2,
    violations: action === 'allow' ? 0 : 1,
    threatSeverity: 0,
  };
}

const fake = new FakeController();
const dirs: string[] = [];
const links: ControllerLink[] = [];

function newLink(table: WorkloadTable, dataDir: string, onPolicy: (u: PolicyUpdate) => void = () => {}, logs: string[] = []): ControllerLink {
  const link = new ControllerLink({
    baseUrl: `http://127.0.0.1:${fake.port}`,
    joinToken: 'join-secret',
    dataDir,
    host: 'node1',
    version: '0.1.0',
    table,
    onPolicy,
    status: () => ({ protectedWorkloads: 0, dataPlane: { running: true, restarts: 0, packets: 5, drops: 0, sessions: 1 }, problems: [] }),
    log: (m) => logs.push(m),
    backoff: { minMs: 50, maxMs: 200 },
  });
  links.push(link);
  link.start();
  return link;
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mseg-link-'));
  dirs.push(d);
  return d;
}

beforeAll(() => fake.start());
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.stop()));
  await waitFor('streams of stopped links closed', () => fake.openStreams === 0);
  fake.calls = [];
});
afterAll(async () => {
  await fake.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('controller link', () => {
  it('registers with the join token, keeps the credential 0600, reports the full set then increments', async () => {
    const table = new WorkloadTable();
    table.upsert(workload('a'));
    table.setSynced();
    const dir = dataDir();
    const link = newLink(table, dir);
    await waitFor('connected', () => link.connected);
    expect(fake.of('register')[0].req).toMatchObject({ joinToken: 'join-secret', host: 'node1', agentVersion: '0.1.0', previousAgentId: '' });
    expect(await loadIdentity(dir)).toEqual({ agentId: 'agent-1', credential: 'cred1' });
    expect(statSync(join(dir, 'agent.json')).mode & 0o777).toBe(0o600);
    const [full] = fake.of('reportWorkloads');
    expect(full.auth).toBe('Bearer agent-1.cred1');
    expect(full.req.full).toBe(true);
    expect((full.req.workloads as { id: string; state: WorkloadState }[]).map((w) => [w.id, w.state])).toEqual([['a', WorkloadState.RUNNING]]);

    table.upsert(workload('b', { state: 'unmonitored', reason: 'paused' }));
    table.remove('a');
    const inc = await waitFor('increment', () => fake.of('reportWorkloads').find((c) => c.req.full === false));
    const ws = inc.req.workloads as { id: string; reason: string }[];
    expect([ws.map((w) => [w.id, w.reason]), inc.req.removedIds]).toEqual([[['b', 'paused']], ['a']]);
  });

  it('does not report workloads before the runtime has synced', async () => {
    const table = new WorkloadTable();
    const link = newLink(table, dataDir());
    await waitFor('registered', () => fake.of('register').length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.of('reportWorkloads')).toHaveLength(0);
    table.upsert(workload('a'));
    table.setSynced();
    await waitFor('connected', () => link.connected);
    expect(fake.of('reportWorkloads')[0].req.full).toBe(true);
  });

  it('sends violations first, flagged connections before allowed ones, and resends a failed batch under its id', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    const link = newLink(table, dataDir());
    link.reports.pushConnections([conn(80, 'allow'), conn(8080, 'violate')]);
    link.reports.pushViolations([{ workloadId: 'w1', client: '172.17.0.3', server: '172.17.0.2', clientPort: 40000, serverPort: 8080, proto: 6, ruleId: 0, direction: 'ingress', ts: 1, count: 1 }]);
    fake.failOnce.set('reportConnections', new ConnectError('store busy', Code.Unavailable));
    const ok = await waitFor('connections acknowledged', () => fake.of('reportConnections').length >= 2 && fake.of('reportConnections'), 15_000);
    const reportCalls = fake.calls.filter((c) => c.method.startsWith('report') && c.method !== 'reportWorkloads').map((c) => c.method);
    expect(reportCalls.slice(0, 2)).toEqual(['reportViolations', 'reportConnections']);
    const [v] = fake.of('reportViolations');
    expect((v.req.violations as { action: Verdict; serverPort: number }[]).map((x) => [x.action, x.serverPort])).toEqual([[Verdict.DENY, 8080]]);
    // Same batch id after the failure; records in order flagged-first.
    expect(ok[1].req.batchId).toBe(ok[0].req.batchId);
    expect((ok[1].req.connections as { serverPort: number; action: Verdict }[]).map((c) => [c.serverPort, c.action])).toEqual([
      [8080, Verdict.VIOLATE],
      [80, Verdict.ALLOW],
    ]);
    expect(link.reports.length).toBe(0);
  });

  it('sends DNS answers in a ReportConnections batch of their own', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    const link = newLink(table, dataDir());
    const before = fake.of('reportConnections').length;
    link.reports.pushDnsAnswers([{ name: 'app.test', addr: '10.200.0.2', ttl: 0 }, { name: 'app.test', addr: 'fd00:200::2', ttl: 0 }]);
    link.flushSoon();
    const calls = await waitFor('dns answers reported', () => fake.of('reportConnections').length > before && fake.of('reportConnections'), 15_000);
    const req = calls[calls.length - 1].req;
    expect(req.connections).toEqual([]);
    expect((req.dnsAnswers as { name: string; ip: string }[]).map((d) => [d.name, d.ip])).toEqual([
      ['app.test', '10.200.0.2'],
      ['app.test', 'fd00:200::2'],
    ]);
    expect(link.reports.length).toBe(0);
  });

  it('flushSoon sends the queue at once instead of at the end of the interval', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    const link = newLink(table, dataDir());
    link.reports.pushConnections([conn(80, 'allow')]);
    // The first batch leaves on the link's own 1 s timer; the next timer is a second away.
    await waitFor('timer flush', () => fake.of('reportConnections').length === 1, 15_000);
    const t0 = Date.now();
    link.reports.pushConnections([conn(81, 'allow')]);
    link.flushSoon();
    await waitFor('flushed early', () => fake.of('reportConnections').length === 2, 2000);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('applies policy messages in order and resumes the watch from the last applied revision', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    const updates: PolicyUpdate[] = [];
    const link = newLink(table, dataDir(), (u) => void updates.push(u));
    await waitFor('watching', () => fake.openStreams === 1);
    expect(fake.of('watchPolicy')[0].req.revision).toBe(0n);
    const rule = { id: 3, from: ['172.17.0.3'], to: [], ports: 'tcp/80', apps: [], action: RuleAction.ALLOW };
    fake.pushPolicy({ revision: 5n, full: true, policies: [{ workloadId: 'w1', mode: PolicyMode.PROTECT, rules: [rule] }, { workloadId: 'w2', mode: PolicyMode.MONITOR }] });
    fake.pushPolicy({ revision: 6n, full: false, policies: [], removedWorkloadIds: ['w2'] });
    await waitFor('two updates', () => updates.length === 2);
    expect(updates[0].changed).toEqual([
      { workloadId: 'w1', mode: 'protect', rules: [{ id: 3, from: ['172.17.0.3'], to: ['any'], ports: 'tcp/80', apps: ['any'], action: 'allow' }] },
      { workloadId: 'w2', mode: 'monitor', rules: [] },
    ]);
    expect([updates[1].removed, [...updates[1].all.keys()], link.policy.revision]).toEqual([['w2'], ['w1'], 6n]);

    fake.endStreams();
    await waitFor('watching again', () => fake.of('watchPolicy').length === 2 && fake.openStreams === 1, 5_000);
    expect(fake.of('watchPolicy')[1].req).toMatchObject({ agentId: 'agent-1', revision: 6n });
  });

  it('does not move the revision past an update the reconcilers failed to apply', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    let fail = true;
    const link = newLink(table, dataDir(), () => {
      if (fail) throw new Error('nft failed');
    });
    await waitFor('watching', () => fake.openStreams === 1);
    fake.pushPolicy({ revision: 9n, full: true, policies: [] });
    await waitFor('re-watch after the failure', () => fake.of('watchPolicy').length === 2);
    expect(fake.of('watchPolicy')[1].req.revision).toBe(0n);
    fail = false;
    await waitFor('stream open', () => fake.openStreams === 1);
    fake.pushPolicy({ revision: 9n, full: true, policies: [] });
    await waitFor('applied', () => link.policy.revision === 9n);
  });

  it('registers again, keeping its id, when the controller refuses the credential', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    const dir = dataDir();
    const link = newLink(table, dir);
    await waitFor('connected', () => link.connected);
    fake.validCredentials.clear();
    await waitFor('second register', () => fake.of('register').length === 2, 10_000);
    expect(fake.of('register')[1].req.previousAgentId).toBe('agent-1');
    await waitFor('connected again', () => link.connected);
    expect((await loadIdentity(dir))?.credential).toBe(`cred${fake.credentialSeq}`);
  });

  it('a restarted agent uses its saved identity instead of registering', async () => {
    const table = new WorkloadTable();
    table.setSynced();
    const dir = dataDir();
    const first = newLink(table, dir);
    await waitFor('connected', () => first.connected);
    await first.stop();
    fake.calls = [];
    const second = newLink(table, dir);
    await waitFor('connected', () => second.connected);
    expect(fake.of('register')).toHaveLength(0);
    expect(fake.of('heartbeat')[0].auth).toBe('Bearer agent-1.' + (await loadIdentity(dir))?.credential);
  });
});
