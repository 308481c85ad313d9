import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testController, type TestController } from '../testing/controller.js';
import { NODE_EXTERNAL, NODE_GROUP, NODE_HOST, NODE_WORKLOAD } from './address-book.js';
import { ingestConnections } from './connections.js';
import { connection, seedAgent, seedWorkloads } from './fixtures.js';
import { MINUTE } from './rollup.js';

const T = 1_700_000_000;
let t: TestController;

beforeEach(async () => {
  t = await testController({ now: () => T * 1000 + 10_000 });
  await seedAgent(t.ctx, 'agent-a', '192.0.2.10');
  await seedAgent(t.ctx, 'agent-b', '192.0.2.11');
  await seedWorkloads(t.ctx, 'agent-a', '192.0.2.10', [{ id: 'web1', service: 'web', ips: ['10.0.0.1'] }]);
  await seedWorkloads(t.ctx, 'agent-b', '192.0.2.11', [{ id: 'db1', service: 'db', ips: ['10.0.0.2'] }]);
});
afterEach(() => t.close());

const clientSide = connection({ workloadId: 'web1', client: '10.0.0.1', server: '10.0.0.2', serverPort: 5432, direction: 'egress', bytesToServer: 100, bytesToClient: 1000 });
const serverSide = connection({ workloadId: 'db1', client: '10.0.0.1', server: '10.0.0.2', serverPort: 5432, direction: 'ingress', bytesToServer: 90, bytesToClient: 990 });

describe('group commit', () => {
  it('writes concurrent reports in one transaction, both ends as one row, each report recorded with it', async () => {
    await Promise.all([
      ingestConnections(t.ctx, 'agent-a', '192.0.2.10', [clientSide], [], { agentId: 'agent-a', batchId: 'a1' }),
      ingestConnections(t.ctx, 'agent-b', '192.0.2.11', [serverSide], [], { agentId: 'agent-b', batchId: 'b1' }),
    ]);
    const rows = await t.ctx.store.db.selectFrom('conversations').selectAll().execute();
    expect(rows).toMatchObject([{ client_workload: 'web1', server_workload: 'db1', enforced_by: 'both', bytes: 1080, sessions: 1 }]);
    const batches = await t.ctx.store.db.selectFrom('report_batches').select(['agent_id', 'batch_id']).orderBy('agent_id').execute();
    expect(batches).toEqual([
      { agent_id: 'agent-a', batch_id: 'a1' },
      { agent_id: 'agent-b', batch_id: 'b1' },
    ]);
  });

  it('fails every report of a failed transaction and stores none of it', async () => {
    await sql`drop table graph_edges`.execute(t.ctx.store.db);
    const results = await Promise.allSettled([
      ingestConnections(t.ctx, 'agent-a', '192.0.2.10', [clientSide], [], { agentId: 'agent-a', batchId: 'a1' }),
      ingestConnections(t.ctx, 'agent-b', '192.0.2.11', [serverSide], [], { agentId: 'agent-b', batchId: 'b1' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await t.ctx.store.db.selectFrom('conversations').selectAll().execute()).toEqual([]);
    expect(await t.ctx.store.db.selectFrom('report_batches').selectAll().execute()).toEqual([]);
  });
});

describe('group map edges', () => {
  it('places each end as its service group, a host, an outside address or an unknown workload, per 5 s and per minute', async () => {
    await ingestConnections(t.ctx, 'agent-a', '192.0.2.10', [
      clientSide,
      connection({ workloadId: 'web1', client: '10.0.0.1', server: '93.184.216.34', serverPort: 443, app: 'TLS' }),
      connection({ workloadId: 'web1', client: '10.0.0.1', server: '198.51.100.7', serverPort: 443, app: 'TLS' }),
      connection({ workloadId: 'web1', client: '10.0.0.1', server: '192.0.2.11', serverPort: 10250, app: 'HTTP' }),
      connection({ workloadId: 'new1', client: '10.0.0.9', server: '93.184.216.34', serverPort: 80 }),
    ], []);
    const rows = await t.ctx.store.db
      .selectFrom('graph_edges')
      .select(['resolution', 'bucket', 'client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'bytes', 'sessions'])
      .orderBy('resolution')
      .orderBy('server_port')
      .execute();
    const bucket5s = (T + 1) * 1000 - (((T + 1) * 1000) % 5000);
    const bucketMin = (T + 1) * 1000 - (((T + 1) * 1000) % MINUTE);
    // Counted as the conversations are: web1 → db1 from db1's report, which has not come yet.
    const ends = [
      ['new1', NODE_WORKLOAD, 'external', NODE_EXTERNAL, 80, 1100, 1],
      ['svc.web', NODE_GROUP, 'external', NODE_EXTERNAL, 443, 2200, 2],
      ['svc.web', NODE_GROUP, 'svc.db', NODE_GROUP, 5432, 0, 0],
      ['svc.web', NODE_GROUP, 'nodes', NODE_HOST, 10250, 1100, 1],
    ];
    expect(rows.map((r) => [r.resolution, r.bucket, r.client_node, r.client_kind, r.server_node, r.server_kind, r.server_port, r.bytes, r.sessions])).toEqual([
      ...ends.map((e) => [0, bucket5s, ...e]),
      ...ends.map((e) => [MINUTE, bucketMin, ...e]),
    ]);
  });

  it('shows a workload unknown at ingest under its group once it is known, at level=group', async () => {
    await ingestConnections(t.ctx, 'agent-a', '192.0.2.10', [connection({ workloadId: 'new1', client: '10.0.0.9', server: '93.184.216.34', serverPort: 80 })], []);
    const window = `since=${T * 1000}&until=${(T + 10) * 1000}`;
    const before = await t.reader('GET', `/api/v1/graph?level=group&${window}`);
    expect(before.json.edges.map((e: any) => [e.from, e.to])).toEqual([['new1', 'external']]);
    expect(before.json.nodes.find((n: any) => n.id === 'new1')).toEqual({ id: 'new1', kind: 'workload', name: 'new1', group: '', mode: null });
    await seedWorkloads(t.ctx, 'agent-a', '192.0.2.10', [{ id: 'new1', service: 'api', ips: ['10.0.0.9'] }]);
    const after = await t.reader('GET', `/api/v1/graph?level=group&${window}`);
    expect(after.json.edges.map((e: any) => [e.from, e.to, e.sessions])).toEqual([['svc.api', 'external', 1]]);
  });
});
