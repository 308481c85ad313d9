import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testController, type TestController } from '../testing/controller.js';
import { ingestConnections } from './connections.js';
import { connection, seedAgent, seedWorkloads } from './fixtures.js';
import { trafficStats } from './traffic-stats.js';
import { ingestViolations } from './violations.js';
import { ingestWorkloads } from './workloads.js';
import { STOPPED_KEPT_MS } from './address-book.js';

const T = 1_700_000_000; // seconds, as records carry them
let t: TestController;
let now = T * 1000 + 10_000;

beforeEach(async () => {
  now = T * 1000 + 10_000;
  t = await testController({ now: () => now });
  await seedAgent(t.ctx, 'agent-a', 'host-a');
  await seedAgent(t.ctx, 'agent-b', 'host-b');
  await seedWorkloads(t.ctx, 'agent-a', 'host-a', [
    { id: 'web1', service: 'web', ips: ['10.0.0.1'] },
    { id: 'cache1', service: 'cache', ips: ['10.0.0.3'] },
  ]);
  await seedWorkloads(t.ctx, 'agent-b', 'host-b', [{ id: 'db1', service: 'db', ips: ['10.0.0.2'] }]);
});
afterEach(() => t.close());

const conversations = () => t.ctx.store.db.selectFrom('conversations').selectAll().orderBy('id').execute();
const violations = () => t.ctx.store.db.selectFrom('violations').selectAll().orderBy('id').execute();

// The client web1 (host-a) talks to db1 (host-b); each end's data plane reports it.
const clientSide = (over = {}) => connection({ workloadId: 'web1', client: '10.0.0.1', server: '10.0.0.2', serverPort: 5432, app: 'PostgreSQL', direction: 'egress', ruleId: 7, bytesToServer: 100, bytesToClient: 1000, ...over });
const serverSide = (over = {}) => connection({ workloadId: 'db1', client: '10.0.0.1', server: '10.0.0.2', serverPort: 5432, app: 'PostgreSQL', direction: 'ingress', ruleId: 7, bytesToServer: 90, bytesToClient: 990, ...over });

describe('ingestConnections', () => {
  it.each([
    ['client first', ['client', 'server']],
    ['server first', ['server', 'client']],
  ])('merges both ends of one connection into one conversation counted once (%s)', async (_name, order) => {
    for (const side of order) {
      if (side === 'client') await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide()], []);
      else await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide()], []);
    }
    const rows = await conversations();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      resolution: 0,
      bucket: (T + 1) * 1000 - (((T + 1) * 1000) % 5000),
      client_workload: 'web1',
      server_workload: 'db1',
      server_port: 5432,
      action: 'allow',
      rule_id: 7,
      enforced_by: 'both',
      // The server's report: 90 + 990, not the sum of both ends.
      bytes: 1080,
      packets: 11,
      sessions: 1,
    });
  });

  it('merges two workloads on one host reported in one batch', async () => {
    const toCache = { client: '10.0.0.1', server: '10.0.0.3', serverPort: 6379, app: 'Redis' };
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [
      connection({ ...toCache, workloadId: 'web1', direction: 'egress', bytesToServer: 10, bytesToClient: 20 }),
      connection({ ...toCache, workloadId: 'cache1', direction: 'ingress', bytesToServer: 11, bytesToClient: 21 }),
    ], []);
    const rows = await conversations();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ client_workload: 'web1', server_workload: 'cache1', bytes: 32, sessions: 1, enforced_by: 'both' });
  });

  it('keeps a connection to an outside address as one row with an empty server workload, counted from the client', async () => {
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [connection({ workloadId: 'web1', client: '10.0.0.1', server: '93.184.216.34', serverPort: 443, app: 'TLS' })], []);
    const rows = await conversations();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ client_workload: 'web1', server_workload: '', server_ip: '93.184.216.34', bytes: 1100, sessions: 1, enforced_by: 'client' });
  });

  it('counts an outside client from the server end', async () => {
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ client: '198.51.100.9' })], []);
    expect(await conversations()).toMatchObject([{ client_workload: '', server_workload: 'db1', bytes: 1080, enforced_by: 'server' }]);
  });

  it("counts the client's report when the server's agent is offline (its report will not come)", async () => {
    await t.ctx.store.db.updateTable('agents').set({ state: 'offline' }).where('id', '=', 'agent-b').execute();
    t.ctx.events.emit('agents', { agentId: 'agent-b', state: 'offline' });
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide()], []);
    expect(await conversations()).toMatchObject([{ client_workload: 'web1', server_workload: 'db1', bytes: 1100, sessions: 1 }]);
  });

  it('resolves a bridge address that repeats across hosts to the workload on the reporting host', async () => {
    await seedWorkloads(t.ctx, 'agent-a', 'host-a', [{ id: 'a-local', service: 'x', ips: ['172.17.0.2'] }]);
    await seedWorkloads(t.ctx, 'agent-b', 'host-b', [{ id: 'b-local', service: 'x', ips: ['172.17.0.2'] }]);
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [connection({ workloadId: 'web1', client: '10.0.0.1', server: '172.17.0.2' })], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [connection({ workloadId: 'db1', client: '10.0.0.2', server: '172.17.0.2' })], []);
    const rows = await conversations();
    expect(rows.map((r) => [r.client_workload, r.server_workload])).toEqual([
      ['web1', 'a-local'],
      ['db1', 'b-local'],
    ]);
  });

  it("stores a stopped client's sessions reported after it stopped as its own, and a reused address's by capture time", async () => {
    // As the agent does: the container exits (no namespace, so no interfaces), then is removed.
    const stop = async (id: string) => {
      const gone = { id, name: id, image: 'job:1', labels: {}, service: 'job', interfaces: [], state: 'stopped' as const, reason: '' };
      await ingestWorkloads(t.ctx, 'agent-b', 'host-b', { full: false, workloads: [gone], removedIds: [] });
      await ingestWorkloads(t.ctx, 'agent-b', 'host-b', { full: false, workloads: [], removedIds: [id] });
    };
    // Seconds since T (captured), as the server's data plane reports the job's sessions.
    const fromJob = (client: string, at: number) => serverSide({ client, firstSeen: T + at, lastSeen: T + at + 1 });
    now = T * 1000;
    await seedWorkloads(t.ctx, 'agent-b', 'host-b', [{ id: 'job1', service: 'job', ips: ['10.0.0.9'] }, { id: 'job2', service: 'job', ips: ['10.0.0.8'] }]);
    now += 3_000;
    await stop('job1');
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [fromJob('10.0.0.9', 1)], []);
    // Docker gives the address to the next container; the first job's last report comes after that.
    now += 2_000;
    await seedWorkloads(t.ctx, 'agent-b', 'host-b', [{ id: 'job3', service: 'job', ips: ['10.0.0.9'] }]);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [fromJob('10.0.0.9', 2), fromJob('10.0.0.9', 5)], []);
    // Past the tombstone, a stopped workload's address is an outside one again.
    now += STOPPED_KEPT_MS;
    await stop('job2');
    now += STOPPED_KEPT_MS + 1;
    t.ctx.events.emit('workloads', { agentId: 'agent-b', ids: [] });
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [fromJob('10.0.0.8', 1)], []);
    const rows = await conversations();
    const sessions = (ip: string, w: string) => rows.filter((r) => r.client_ip === ip && r.client_workload === w).reduce((n, r) => n + r.sessions, 0);
    expect([sessions('10.0.0.9', 'job1'), sessions('10.0.0.9', 'job3'), sessions('10.0.0.8', ''), sessions('10.0.0.9', '')]).toEqual([2, 1, 1, 0]);
  });

  it("does not let an agent speak for another agent's workload", async () => {
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [serverSide()], []);
    expect(await conversations()).toMatchObject([{ client_workload: 'web1', server_workload: '' }]);
  });

  it('puts deltas into 5 s buckets of their last-seen time and sums deltas within a bucket', async () => {
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ lastSeen: T + 1 }), serverSide({ lastSeen: T + 6, sessions: 0 })], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ lastSeen: T + 3.5, sessions: 2 })], []);
    const rows = await conversations();
    expect(rows.map((r) => [r.bucket - T * 1000, r.sessions, r.bytes])).toEqual([
      [0, 3, 2160],
      [5000, 0, 1080],
    ]);
  });

  it('stores DNS answers and emits connections events', async () => {
    const seen: number[] = [];
    t.ctx.events.on('connections', (e) => seen.push(e.count));
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide()], [{ name: 'DB.example.com', ip: '10.0.0.2' }, { name: 'db.example.com', ip: '10.0.0.2' }]);
    expect(await t.ctx.store.db.selectFrom('dns_names').select(['name', 'ip', 'last_seen']).execute()).toEqual([{ name: 'db.example.com', ip: '10.0.0.2', last_seen: now }]);
    expect(seen).toEqual([1]);
  });

  it('feeds the traffic stats once per connection', async () => {
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide()], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide()], []);
    now += 5000;
    const stats = trafficStats(t.ctx);
    expect(stats.window('', now, 5)).toEqual({ bytes: 1080, packets: 11, sessions: 1, violations: 0 });
    expect(stats.window('web1', now, 60).bytes).toBe(1080);
    expect(stats.window('db1', now, 300).bytes).toBe(1080);
    expect(stats.window('cache1', now, 300).bytes).toBe(0);
  });
});

describe('violations', () => {
  it('de-duplicates a violation both ends report: counted once, enforced by both', async () => {
    const v = { action: 'violate' as const, ruleId: 0, sessions: 2, violations: 2 };
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide(v)], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide(v)], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ ...v, lastSeen: T + 20 })], []);
    const rows = await violations();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ client_workload: 'web1', server_workload: 'db1', action: 'violate', rule_id: 0, client_count: 2, server_count: 4, count: 4, enforced_by: 'both', reported_by: 'dp', last_seen: (T + 20) * 1000 });
  });

  it('keeps different verdicts of the two ends apart (client Monitor, server Protect)', async () => {
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide({ action: 'violate', ruleId: 0 })], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ action: 'deny', ruleId: 0 })], []);
    expect((await violations()).map((r) => [r.action, r.enforced_by, r.count])).toEqual([
      ['violate', 'client', 1],
      ['deny', 'server', 1],
    ]);
    const conv = await conversations();
    expect(conv.map((r) => [r.action, r.enforced_by, r.sessions])).toEqual([
      ['violate', 'client', 0],
      ['deny', 'server', 1],
    ]);
  });

  it('records NFLOG drops: egress ones count as a denied conversation, ingress ones mark the server', async () => {
    const events: number[] = [];
    t.ctx.events.on('violations', (e) => events.push(e.count));
    const drop = { client: '10.0.0.1', server: '10.0.0.2', clientPort: 40000, serverPort: 5432, proto: 6, ruleId: 0, action: 'deny' as const, ts: T + 2, count: 3 };
    await ingestViolations(t.ctx, 'agent-a', [{ ...drop, workloadId: 'web1', direction: 'egress' }]);
    await ingestViolations(t.ctx, 'agent-a', [{ ...drop, workloadId: 'web1', direction: 'egress', count: 2 }]);
    expect(await violations()).toMatchObject([{ client_workload: 'web1', server_workload: 'db1', action: 'deny', count: 5, enforced_by: 'client', reported_by: 'nflog' }]);
    expect(await conversations()).toMatchObject([{ action: 'deny', enforced_by: 'client', sessions: 5, bytes: 0 }]);
    await ingestViolations(t.ctx, 'agent-b', [{ ...drop, workloadId: 'db1', direction: 'ingress' }]);
    expect(await violations()).toMatchObject([{ count: 5, enforced_by: 'both' }]);
    expect(events).toEqual([1, 1, 1]);
  });
});

describe('rule hits', () => {
  it('counts the sessions a rule decided once, ignoring the implicit deny', async () => {
    const ids: number[] = [];
    for (const action of ['allow', 'deny'] as const) {
      const r = await t.ctx.store.db
        .insertInto('rules')
        .values({ position: ids.length + 1, from_group: 'svc.web', to_group: 'svc.db', ports: 'any', apps: '["any"]', action, enabled: 1, comment: '', hits: 0, last_hit: null, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.push(Number(r.id));
    }
    const [allow, deny] = ids;
    await ingestConnections(t.ctx, 'agent-a', 'host-a', [clientSide({ ruleId: allow, sessions: 3 })], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ ruleId: allow, sessions: 3, lastSeen: T + 9 })], []);
    await ingestConnections(t.ctx, 'agent-b', 'host-b', [serverSide({ ruleId: deny, action: 'deny', sessions: 2 }), serverSide({ ruleId: 0, action: 'deny', sessions: 4 })], []);
    const rules = await t.ctx.store.db.selectFrom('rules').select(['id', 'hits', 'last_hit']).orderBy('id').execute();
    expect(rules).toEqual([
      { id: allow, hits: 3, last_hit: (T + 9) * 1000 },
      { id: deny, hits: 2, last_hit: (T + 1) * 1000 },
    ]);
  });
});
