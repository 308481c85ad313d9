/**
 * The controller link against an in-process AgentService over real gRPC (h2c on loopback): a
 * fake controller that records every call and can refuse, fail or end streams on demand.
 */
import http2 from 'node:http2';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { ConnectionRecord } from '@mseg/dp';
import { AgentService, PolicyMode, RuleAction, Verdict, WorkloadState, type WatchPolicyResponse } from '@mseg/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { WatchPolicyResponseSchema } from '@mseg/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControllerLink } from '../src/link/controller-link.js';
import type { PolicyUpdate } from '../src/link/policy-store.js';
import { loadIdentity } from '../src/link/state.js';
import { WorkloadTable } from '../src/runtime/table.js';
import type { Workload } from '../src/runtime/types.js';
import { waitFor } from './helpers/wait.js';

type Call = { method: string; auth: string; req: Record<string, unknown> };

/** A controller that records calls; tests set `fail`, push policy messages and end streams. */
class FakeController {
  calls: Call[] = [];
  credentialSeq = 0;
  validCredentials = new Set<string>();
  /** Method name → error to answer with once, after recording the call. */
  failOnce = new Map<string, ConnectError>();
  private streams = new Set<{ push: (m: MessageInitShape<typeof WatchPolicyResponseSchema>) => void; end: () => void }>();
  server!: http2.Http2Server;
  port = 0;

  of(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  private record(method: string, req: object, ctx: HandlerContext): void {
    const auth = ctx.requestHeader.get('authorization') ?? '';
    this.calls.push({ method, auth, req: req as Record<string, unknown> });
    const fail = this.failOnce.get(method);
    if (fail) {
      this.failOnce.delete(method);
      throw fail;
    }
    if (method !== 'register' && !this.validCredentials.has(auth)) throw new ConnectError('bad credential', Code.Unauthenticated);
  }

  pushPolicy(m: MessageInitShape<typeof WatchPolicyResponseSchema>): void {
    for (const s of this.streams) s.push(m);
  }

  endStreams(): void {
    for (const s of this.streams) s.end();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    const handler = connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      routes: (router) =>
        router.service(AgentService, {
          register: async (req, ctx) => {
            this.record('register', req, ctx);
            const agentId = req.previousAgentId || 'agent-1';
            const credential = `cred${++this.credentialSeq}`;
            this.validCredentials.add(`Bearer ${agentId}.${credential}`);
            return { agentId, credential, reportIntervalSeconds: 1 };
          },
          heartbeat: async (req, ctx) => (this.record('heartbeat', req, ctx), { reportIntervalSeconds: 1 }),
          reportWorkloads: async (req, ctx) => (this.record('reportWorkloads', req, ctx), { changed: 0 }),
          reportConnections: async (req, ctx) => (this.record('reportConnections', req, ctx), {}),
          reportThreats: async (req, ctx) => (this.record('reportThreats', req, ctx), {}),
          reportViolations: async (req, ctx) => (this.record('reportViolations', req, ctx), {}),
          watchPolicy: (req, ctx) => this.watch(req, ctx),
        }),
    });
    this.server = http2.createServer(handler);
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async *watch(req: object, ctx: HandlerContext): AsyncGenerator<MessageInitShape<typeof WatchPolicyResponseSchema>> {
    this.record('watchPolicy', req, ctx);
    const queue: MessageInitShape<typeof WatchPolicyResponseSchema>[] = [];
    let ended = false;
    let wake: (() => void) | null = null;
    const stream = {
      push: (m: MessageInitShape<typeof WatchPolicyResponseSchema>) => (queue.push(m), wake?.()),
      end: () => ((ended = true), wake?.()),
    };
    this.streams.add(stream);
    try {
      while (!ctx.signal.aborted) {
        while (queue.length) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((r) => {
          wake = r;
          ctx.signal.addEventListener('abort', () => r(), { once: true });
        });
      }
    } finally {
      this.streams.delete(stream);
    }
  }

  close(): Promise<void> {
    this.endStreams();
    return new Promise((r) => this.server.close(() => r()));
  }
}

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
