import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { AgentService, PolicyMode, RuleAction, Verdict, Direction, WorkloadState, type WatchPolicyResponse } from '@mseg/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markOfflineAgents, MISSED_HEARTBEATS, REPORT_INTERVAL_SECONDS } from '../ingest/agents.js';
import { policyChange } from '../policy/revision.js';
import { testController, type TestController } from '../testing/controller.js';
import { startGrpcServer, type GrpcServer } from './server.js';

let t: TestController;
let grpc: GrpcServer;
let client: Client<typeof AgentService>;
let clock = Date.now();

beforeAll(async () => {
  t = await testController({ now: () => clock });
  grpc = await startGrpcServer(t.ctx);
  // gRPC over HTTP/2 (h2c), as an agent dials it.
  client = createClient(AgentService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpc.port}` }));
});

afterAll(async () => {
  await grpc.close();
  await t.close();
});

const bearer = (agentId: string, credential: string) => ({ headers: { authorization: `Bearer ${agentId}.${credential}` } });

async function register(host: string, previousAgentId = '') {
  const r = await client.register({ joinToken: grpc.joinToken, host, agentVersion: '0.1.0', previousAgentId });
  return { id: r.agentId, credential: r.credential, opts: bearer(r.agentId, r.credential) };
}

async function codeOf(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

const workload = (id: string, service: string, ip: string) => ({
  id,
  name: `${service}-1`,
  image: `registry.example/${service}:1`,
  labels: { tier: service },
  service,
  host: 'ignored',
  pid: 100,
  netns: '/proc/100/ns/net',
  interfaces: [{ name: 'eth0', mac: '02:42:AC:11:00:02', ips: [ip] }],
  state: WorkloadState.RUNNING,
  reason: '',
});

/** Reads a watch stream message by message, failing a test that waits too long. */
function reader(stream: AsyncIterable<WatchPolicyResponse>) {
  const it = stream[Symbol.asyncIterator]();
  return async (ms = 5000): Promise<WatchPolicyResponse> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no policy message within ${ms} ms`)), ms);
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done) throw new Error('stream ended');
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  };
}

describe('gRPC agent API: registration and credentials', () => {
  it('registers with the join token and refuses a wrong one', async () => {
    const a = await register('host-a');
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.credential.length).toBeGreaterThanOrEqual(40);
    const row = await t.ctx.store.db.selectFrom('agents').selectAll().where('id', '=', a.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ host: 'host-a', version: '0.1.0', state: 'online' });
    // Only a hash of the credential is stored.
    const stored = await t.ctx.store.db.selectFrom('config').select('value').execute();
    expect(stored.some((r) => r.value.includes(a.credential))).toBe(false);

    expect(await codeOf(client.register({ joinToken: 'wrong', host: 'host-x', agentVersion: '1' }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.register({ joinToken: grpc.joinToken, host: '', agentVersion: '1' }))).toBe(Code.InvalidArgument);
  });

  it('answers UNAUTHENTICATED to a missing, malformed, wrong or unknown credential', async () => {
    const a = await register('host-b');
    expect(await codeOf(client.heartbeat({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.heartbeat({}, { headers: { authorization: 'Bearer nonsense' } }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.heartbeat({}, bearer(a.id, 'x'.repeat(43))))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.heartbeat({}, bearer('00000000-0000-4000-8000-000000000000', a.credential)))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.reportWorkloads({ full: true }, bearer(a.id, 'y')))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.watchPolicy({ agentId: a.id }, bearer(a.id, 'y'))[Symbol.asyncIterator]().next())).toBe(Code.Unauthenticated);
    const hb = await client.heartbeat({ policyRevision: 0n, workloads: 2, dataPlane: { running: true, packets: 10n } }, a.opts);
    expect(hb.reportIntervalSeconds).toBe(REPORT_INTERVAL_SECONDS);
  });

  it('keeps the agent id across a re-registration and invalidates the old credential', async () => {
    const a = await register('host-c');
    const again = await register('host-c', a.id);
    expect(again.id).toBe(a.id);
    expect(await codeOf(client.heartbeat({}, a.opts))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.heartbeat({}, again.opts))).toBe('ok');
  });

  it('marks an agent offline after missed heartbeats and online at the next one', async () => {
    const a = await register('host-d');
    clock += (MISSED_HEARTBEATS * REPORT_INTERVAL_SECONDS - 1) * 1000;
    expect(await markOfflineAgents(t.ctx)).not.toContain(a.id);
    clock += 2000;
    expect(await markOfflineAgents(t.ctx)).toContain(a.id);
    const state = async () => (await t.ctx.store.db.selectFrom('agents').select('state').where('id', '=', a.id).executeTakeFirstOrThrow()).state;
    expect(await state()).toBe('offline');
    await client.heartbeat({ policyRevision: 3n }, a.opts);
    expect(await state()).toBe('online');
    const listed = await t.admin('GET', `/api/v1/agents?host=host-d`);
    expect(listed.json.items[0]).toMatchObject({ id: a.id, state: 'online', policyRevision: 3 });
  });

  it('revoked agents get UNAUTHENTICATED on every call, open streams included, and cannot re-register their id', async () => {
    const a = await register('host-e');
    const stream = client.watchPolicy({ agentId: a.id, revision: 0n }, a.opts);
    const next = reader(stream);
    expect((await next()).full).toBe(true);

    expect((await t.reader('POST', `/api/v1/agents/${a.id}/revoke`)).status).toBe(403);
    expect((await t.admin('POST', '/api/v1/agents/00000000-0000-4000-8000-000000000000/revoke')).status).toBe(404);
    const r = await t.admin('POST', `/api/v1/agents/${a.id}/revoke`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ id: a.id, state: 'revoked' });

    expect(await codeOf(next())).toBe(Code.Unauthenticated);
    expect(await codeOf(client.heartbeat({}, a.opts))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.reportWorkloads({ full: true }, a.opts))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.reportConnections({ batchId: 'b1' }, a.opts))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.reportThreats({ batchId: 'b1' }, a.opts))).toBe(Code.Unauthenticated);
    expect(await codeOf(client.reportViolations({ batchId: 'b1' }, a.opts))).toBe(Code.Unauthenticated);
    expect(await codeOf(register('host-e', a.id))).toBe(Code.Unauthenticated);
  });
});

describe('gRPC agent API: reports', () => {
  it('stores reported workloads, makes their service groups and stops the ones gone', async () => {
    const a = await register('host-w');
    const r = await client.reportWorkloads(
      { full: true, workloads: [workload('w-web-1', 'shop-web', '10.1.0.2'), workload('w-db-1', 'shop-db', '10.1.0.3')] },
      a.opts,
    );
    expect(r.changed).toBe(2);
    const rows = await t.ctx.store.db.selectFrom('workloads').selectAll().where('agent_id', '=', a.id).orderBy('id').execute();
    expect(rows.map((w) => [w.id, w.host, w.service, w.state])).toEqual([
      ['w-db-1', 'host-w', 'shop-db', 'running'],
      ['w-web-1', 'host-w', 'shop-web', 'running'],
    ]);
    expect(JSON.parse(rows[1].interfaces)).toEqual([{ name: 'eth0', mac: '02:42:ac:11:00:02', ips: ['10.1.0.2'] }]);
    expect(JSON.parse(rows[1].labels)).toEqual({ tier: 'shop-web' });
    const groups = await t.ctx.store.db.selectFrom('groups').select('name').where('kind', '=', 'service').execute();
    expect(groups.map((g) => g.name)).toEqual(expect.arrayContaining(['svc.shop-web', 'svc.shop-db']));

    // The same set again changes nothing; a full set without the db stops it.
    expect((await client.reportWorkloads({ full: true, workloads: [workload('w-web-1', 'shop-web', '10.1.0.2'), workload('w-db-1', 'shop-db', '10.1.0.3')] }, a.opts)).changed).toBe(0);
    expect((await client.reportWorkloads({ full: true, workloads: [workload('w-web-1', 'shop-web', '10.1.0.2')] }, a.opts)).changed).toBe(1);
    const db1 = await t.ctx.store.db.selectFrom('workloads').select('state').where('id', '=', 'w-db-1').executeTakeFirstOrThrow();
    expect(db1.state).toBe('stopped');
    // Incremental: one added, one removed.
    await client.reportWorkloads({ full: false, workloads: [workload('w-web-2', 'shop-web', '10.1.0.4')], removedIds: ['w-web-1'] }, a.opts);
    const states = await t.ctx.store.db.selectFrom('workloads').select(['id', 'state']).where('agent_id', '=', a.id).orderBy('id').execute();
    expect(states).toEqual([
      { id: 'w-db-1', state: 'stopped' },
      { id: 'w-web-1', state: 'stopped' },
      { id: 'w-web-2', state: 'running' },
    ]);
    expect(await codeOf(client.reportWorkloads({ full: false, workloads: [{ ...workload('bad id!', 's', '10.1.0.9') }] }, a.opts))).toBe(Code.InvalidArgument);
  });

  it('acknowledges a connection batch sent twice but ingests it once', async () => {
    const a = await register('host-c1');
    await client.reportWorkloads({ full: true, workloads: [workload('c-web', 'c-web', '10.2.0.2'), workload('c-db', 'c-db', '10.2.0.3')] }, a.opts);
    const now = clock / 1000;
    const batch = {
      batchId: 'batch-0001',
      connections: [
        {
          // The server's end: its report is the one counted (ingest/connections.ts).
          workloadId: 'c-db',
          client: '10.2.0.2',
          server: '10.2.0.3',
          serverPort: 5432,
          proto: 6,
          app: 'PostgreSQL',
          direction: Direction.INGRESS,
          ruleId: 0,
          action: Verdict.VIOLATE,
          bytesToServer: 1000n,
          bytesToClient: 4000n,
          packetsToServer: 10n,
          packetsToClient: 12n,
          sessions: 1,
          firstSeen: now - 4,
          lastSeen: now,
          violations: 1,
          threatSeverity: 0,
        },
      ],
      dnsAnswers: [{ name: 'db.example.com', ip: '10.2.0.3' }],
    };
    expect((await client.reportConnections(batch, a.opts)).duplicate).toBe(false);
    const bytes = async () => {
      const rows = await t.ctx.store.db.selectFrom('conversations').select(['bytes', 'sessions']).where('server_port', '=', 5432).where('resolution', '=', 0).execute();
      return rows.reduce((s, r) => [s[0] + Number(r.bytes), s[1] + Number(r.sessions)], [0, 0]);
    };
    const after = await bytes();
    expect(after).toEqual([5000, 1]);
    expect((await client.reportConnections(batch, a.opts)).duplicate).toBe(true);
    expect(await bytes()).toEqual(after);
    const marks = await t.ctx.store.db.selectFrom('report_batches').selectAll().where('agent_id', '=', a.id).execute();
    expect(marks.map((m) => m.batch_id)).toEqual(['batch-0001']);
    expect(await codeOf(client.reportConnections({ ...batch, batchId: '' }, a.opts))).toBe(Code.InvalidArgument);

    // A record the controller cannot take refuses the whole batch, naming the record; nothing of it
    // is stored and its id stays unused, so the agent's corrected batch is taken under it.
    const bad = { ...batch, batchId: 'batch-0002', connections: [batch.connections[0], { ...batch.connections[0], action: Verdict.UNSPECIFIED }] };
    const refused = await client.reportConnections(bad, a.opts).then(() => null, (e: unknown) => ConnectError.from(e));
    expect(refused?.code).toBe(Code.InvalidArgument);
    expect(refused?.rawMessage).toContain('connections[1].action');
    expect(await bytes()).toEqual(after);
    expect((await client.reportConnections({ ...bad, connections: [batch.connections[0]] }, a.opts)).duplicate).toBe(false);
    expect(await bytes()).toEqual([10000, 2]);
  });
});

describe('gRPC agent API: WatchPolicy', () => {
  const rev = (m: WatchPolicyResponse) => Number(m.revision);
  const ids = (m: WatchPolicyResponse) => m.policies.map((p) => p.workloadId).sort();

  it('sends a snapshot, then only changed rule sets, and resumes from a revision after a reconnect', async () => {
    const a = await register('host-p');
    await client.reportWorkloads(
      { full: true, workloads: [workload('p-web', 'p-web', '10.3.0.2'), workload('p-db', 'p-db', '10.3.0.3'), workload('p-cache', 'p-cache', '10.3.0.4')] },
      a.opts,
    );
    const first = new AbortController();
    const next = reader(client.watchPolicy({ agentId: a.id, revision: 0n }, { ...a.opts, signal: first.signal }));
    const snap = await next();
    expect(snap.full).toBe(true);
    expect(ids(snap)).toEqual(['p-cache', 'p-db', 'p-web']);
    expect(snap.policies.every((p) => p.mode === PolicyMode.MONITOR && p.rules.length === 0)).toBe(true);

    // A rule web → db reaches both ends, and nothing else.
    const { result: ruleId } = await policyChange(t.ctx, async (tx) => {
      const row = await tx
        .insertInto('rules')
        .values({ position: 1, from_group: 'svc.p-web', to_group: 'svc.p-db', ports: 'tcp/5432', apps: '["any"]', action: 'allow', enabled: 1, comment: '', hits: 0, last_hit: null, created_at: clock, updated_at: clock })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    });
    const inc = await next();
    expect(inc.full).toBe(false);
    expect(rev(inc)).toBeGreaterThan(rev(snap));
    expect(ids(inc)).toEqual(['p-db', 'p-web']);
    const web = inc.policies.find((p) => p.workloadId === 'p-web')!;
    expect(web.rules).toEqual([expect.objectContaining({ id: ruleId, from: ['10.3.0.2'], to: ['10.3.0.3'], ports: 'tcp/5432', apps: ['any'], action: RuleAction.ALLOW })]);

    // Disconnect; while away, the db goes to Protect. Resuming from the last revision brings only the db.
    first.abort();
    await policyChange(t.ctx, (tx) => tx.updateTable('groups').set({ mode: 'protect' }).where('name', '=', 'svc.p-db').execute());
    const second = new AbortController();
    const resumed = reader(client.watchPolicy({ agentId: a.id, revision: inc.revision }, { ...a.opts, signal: second.signal }));
    const r1 = await resumed();
    expect(r1.full).toBe(false);
    expect(ids(r1)).toEqual(['p-db']);
    expect(r1.policies[0].mode).toBe(PolicyMode.PROTECT);
    const applied = await t.ctx.store.db.selectFrom('agents').select('policy_revision').where('id', '=', a.id).executeTakeFirstOrThrow();
    expect(Number(applied.policy_revision)).toBe(rev(inc));

    // A peer appearing on another host changes the web's rule set (its "to" peers) only.
    const b = await register('host-q');
    await client.reportWorkloads({ full: true, workloads: [workload('q-db', 'p-db', '10.3.1.3')] }, b.opts);
    const r2 = await resumed();
    expect(ids(r2)).toEqual(['p-web']);
    expect(r2.policies[0].rules[0].to.sort()).toEqual(['10.3.0.3', '10.3.1.3']);

    // A stopped workload is announced as removed.
    await client.reportWorkloads({ full: false, removedIds: ['p-cache'] }, a.opts);
    const r3 = await resumed();
    expect(r3.removedWorkloadIds).toEqual(['p-cache']);
    expect(r3.policies).toEqual([]);
    second.abort();

    // Revision 0 (or one from the future) means a full snapshot again.
    const third = new AbortController();
    const fresh = await reader(client.watchPolicy({ agentId: a.id, revision: 10_000_000n }, { ...a.opts, signal: third.signal }))();
    expect(fresh.full).toBe(true);
    expect(ids(fresh)).toEqual(['p-db', 'p-web']);
    third.abort();
  });

  it('refuses to watch another agent\'s policy', async () => {
    const a = await register('host-r');
    const b = await register('host-s');
    const it = client.watchPolicy({ agentId: b.id }, a.opts)[Symbol.asyncIterator]();
    expect(await codeOf(it.next())).toBe(Code.Unauthenticated);
  });
});
