import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestConnections } from '../ingest/connections.js';
import { connection, seedAgent, seedWorkloads } from '../ingest/fixtures.js';
import { ingestThreats } from '../ingest/threats.js';
import { ingestViolations } from '../ingest/violations.js';
import { testController, type TestController } from '../testing/controller.js';
import { AUTO_GROUP_NODES } from './graph.js';

const T = 1_700_000_000;
let now = T * 1000 + 30_000;
let t: TestController;

beforeAll(async () => {
  t = await testController({ now: () => now });
  await seedAgent(t.ctx, 'agent-a', 'host-a');
  await seedWorkloads(t.ctx, 'agent-a', 'host-a', [
    { id: 'web1', service: 'web', ips: ['10.0.0.1'] },
    { id: 'web2', service: 'web', ips: ['10.0.0.4'] },
    { id: 'db1', service: 'db', ips: ['10.0.0.2'] },
  ]);
  await t.ctx.store.db.updateTable('groups').set({ mode: 'protect' }).where('name', '=', 'svc.db').execute();
  await ingestConnections(t.ctx, 'agent-a', 'host-a', [
    connection({ workloadId: 'db1', client: '10.0.0.1', server: '10.0.0.2', serverPort: 5432, app: 'PostgreSQL', direction: 'ingress', ruleId: 7, lastSeen: T + 1 }),
    connection({ workloadId: 'db1', client: '10.0.0.4', server: '10.0.0.2', serverPort: 5432, app: 'PostgreSQL', direction: 'ingress', ruleId: 7, lastSeen: T + 2 }),
    connection({ workloadId: 'db1', client: '10.0.0.4', server: '10.0.0.2', serverPort: 22, app: 'SSH', direction: 'ingress', ruleId: 0, action: 'deny', lastSeen: T + 3 }),
    connection({ workloadId: 'web1', client: '10.0.0.1', server: '93.184.216.34', serverPort: 443, app: 'TLS', ruleId: 9, lastSeen: T + 4 }),
  ], []);
});
afterAll(() => t.close());

describe('GET /graph', () => {
  it('shows workloads and outside addresses as nodes and what flowed between them as edges', async () => {
    const r = await t.reader('GET', '/api/v1/graph?level=workload');
    expect(r.status).toBe(200);
    expect(r.json.level).toBe('workload');
    expect(r.json.nodes).toEqual([
      { id: '93.184.216.34', kind: 'external', name: '93.184.216.34', group: 'external', mode: null },
      { id: 'db1', kind: 'workload', name: 'db-db1', group: 'svc.db', mode: 'protect' },
      { id: 'web1', kind: 'workload', name: 'web-web1', group: 'svc.web', mode: 'monitor' },
      { id: 'web2', kind: 'workload', name: 'web-web2', group: 'svc.web', mode: 'monitor' },
    ]);
    const web2 = r.json.edges.find((e: any) => e.from === 'web2');
    expect(web2).toEqual({ from: 'web2', to: 'db1', ports: ['tcp/22', 'tcp/5432'], apps: ['PostgreSQL', 'SSH'], bytes: 2200, sessions: 2, violations: 0, verdict: 'deny', lastSeen: (T + 3) * 1000, ruleIds: [0, 7] });
    expect(r.json.edges).toHaveLength(3);
  });

  it('rolls up to service groups plus external', async () => {
    const r = await t.reader('GET', '/api/v1/graph?level=group');
    expect(r.json.level).toBe('group');
    expect(r.json.nodes).toEqual([
      { id: 'external', kind: 'external', name: 'external', group: 'external', mode: null },
      { id: 'svc.db', kind: 'group', name: 'svc.db', group: 'svc.db', mode: 'protect' },
      { id: 'svc.web', kind: 'group', name: 'svc.web', group: 'svc.web', mode: 'monitor' },
    ]);
    expect(r.json.edges.map((e: any) => [e.from, e.to, e.ports.join(' '), e.bytes, e.sessions, e.verdict])).toEqual([
      ['svc.web', 'external', 'tcp/443', 1100, 1, 'allow'],
      ['svc.web', 'svc.db', 'tcp/22 tcp/5432', 3300, 3, 'deny'],
    ]);
  });

  it(`level=auto stays at workloads up to ${AUTO_GROUP_NODES} nodes and rolls up beyond`, async () => {
    expect((await t.reader('GET', '/api/v1/graph')).json.level).toBe('workload');
    const many = Array.from({ length: AUTO_GROUP_NODES }, (_, i) => connection({ workloadId: 'web1', client: '10.0.0.1', server: `203.0.${i >> 8}.${i & 255}`, serverPort: 443, app: 'TLS', lastSeen: T + 5 }));
    await ingestConnections(t.ctx, 'agent-a', 'host-a', many, []);
    const r = await t.reader('GET', '/api/v1/graph?level=auto');
    expect(r.json.level).toBe('group');
    expect(r.json.edges.find((e: any) => e.to === 'external').sessions).toBe(AUTO_GROUP_NODES + 1);
  });

  it('a window that ends now reads its current minute from the minute rows, one with an end from the 5 s rows', async () => {
    const minute = now - (now % 60_000);
    // A minute row with no 5 s rows under it: only a read of the minute rows can see it.
    const row = { resolution: 60_000, bucket: minute, client_node: 'svc.web', client_kind: 1, server_node: 'svc.db', server_kind: 1, server_port: 6379, proto: 6, app: 'Redis', action: 'allow' as const, rule_id: 0, bytes: 5, sessions: 1, violations: 0, last_seen: now - 1000 };
    await t.ctx.store.db.insertInto('graph_edges').values(row).execute();
    try {
      const ports = (r: { json: { edges: { from: string; to: string; ports: string[] }[] } }) => r.json.edges.find((e) => e.from === 'svc.web' && e.to === 'svc.db')?.ports;
      expect(ports(await t.reader('GET', '/api/v1/graph?level=group'))).toEqual(['tcp/22', 'tcp/5432', 'tcp/6379']);
      expect(ports(await t.reader('GET', `/api/v1/graph?level=group&until=${now}`))).toEqual(['tcp/22', 'tcp/5432']);
      // A window inside the current minute is read from 5 s rows either way (no minute counted twice).
      expect(ports(await t.reader('GET', `/api/v1/graph?level=group&since=${minute + 1000}`))).toEqual(['tcp/22', 'tcp/5432']);
    } finally {
      await t.ctx.store.db.deleteFrom('graph_edges').where('server_port', '=', 6379).execute();
    }
  });

  it('takes a time window and refuses bad input naming the field', async () => {
    const r = await t.reader('GET', `/api/v1/graph?level=workload&since=${(T + 10) * 1000}`);
    expect(r.json).toMatchObject({ nodes: [], edges: [], since: (T + 10) * 1000, until: now });
    for (const [q, field] of [['level=galaxy', 'query.level'], ['since=soon', 'query.since'], ['zoom=2', 'query.zoom']]) {
      const bad = await t.reader('GET', `/api/v1/graph?${q}`);
      expect(bad.status).toBe(400);
      expect(bad.json.error.field).toBe(field);
    }
  });
});

describe('GET /violations and /threats', () => {
  beforeAll(async () => {
    await ingestViolations(t.ctx, 'agent-a', [{ workloadId: 'web1', client: '10.0.0.1', server: '10.0.0.2', clientPort: 1, serverPort: 3306, proto: 6, ruleId: 0, action: 'deny', direction: 'egress', ts: T + 6, count: 2 }]);
    await ingestThreats(t.ctx, 'agent-a', [
      { id: 4003, name: 'SQL injection', severity: 'critical', ts: T + 1, workloadId: 'db1', client: '10.0.0.4:1', server: '10.0.0.2:80', proto: 6, app: 'HTTP', detail: 'x', count: 1 },
      { id: 3002, name: 'SSLv2/v3 or TLS 1.0/1.1', severity: 'medium', ts: T + 2, workloadId: 'web1', client: '10.0.0.1:2', server: '93.184.216.34:443', proto: 6, app: 'TLS', detail: 'TLS 1.0', count: 3 },
    ]);
  });

  it('lists violations newest first with filters and paging', async () => {
    const all = await t.reader('GET', '/api/v1/violations');
    expect(all.json.items.map((v: any) => [v.clientWorkload, v.serverPort, v.action, v.count, v.enforcedBy, v.reportedBy])).toEqual([
      ['web1', 3306, 'deny', 2, 'client', 'nflog'],
      ['web2', 22, 'deny', 1, 'server', 'dp'],
    ]);
    expect((await t.reader('GET', '/api/v1/violations?workload=db1')).json.total).toBe(2);
    expect((await t.reader('GET', '/api/v1/violations?from=web2')).json.items.map((v: any) => v.serverPort)).toEqual([22]);
    expect((await t.reader('GET', `/api/v1/violations?since=${(T + 5) * 1000}`)).json.items.map((v: any) => v.serverPort)).toEqual([3306]);
    const page = await t.reader('GET', '/api/v1/violations?limit=1&offset=1');
    expect([page.json.total, page.json.items[0].serverPort]).toEqual([2, 22]);
    expect((await t.reader('GET', '/api/v1/violations?action=allow')).json.error.field).toBe('query.action');
    expect((await t.reader('GET', '/api/v1/violations?workload=nope')).status).toBe(404);
  });

  it('lists threats with workload, severity and time filters', async () => {
    const all = await t.reader('GET', '/api/v1/threats');
    expect(all.json.items.map((x: any) => [x.threatId, x.workloadId, x.client, x.count])).toEqual([
      [3002, 'web1', '10.0.0.1', 3],
      [4003, 'db1', '10.0.0.4', 1],
    ]);
    expect((await t.reader('GET', '/api/v1/threats?workload=svc.db')).json.items.map((x: any) => x.threatId)).toEqual([4003]);
    expect((await t.reader('GET', '/api/v1/threats?minSeverity=high')).json.items.map((x: any) => x.threatId)).toEqual([4003]);
    expect((await t.reader('GET', '/api/v1/threats?severity=medium')).json.total).toBe(1);
    expect((await t.reader('GET', `/api/v1/threats?until=${(T + 2) * 1000}`)).json.items.map((x: any) => x.threatId)).toEqual([4003]);
    expect((await t.reader('GET', '/api/v1/threats?severity=apocalyptic')).json.error.field).toBe('query.severity');
  });
});

describe('GET /stats', () => {
  it('answers system and per-workload totals over 5 s, 60 s and 300 s', async () => {
    now += 5_000;
    const r = await t.reader('GET', '/api/v1/stats');
    expect(r.status).toBe(200);
    // Everything above was ingested in one 5 s slot that is now complete.
    expect(r.json.system['5s']).toMatchObject({ bytes: 4400 + AUTO_GROUP_NODES * 1100, sessions: 4 + AUTO_GROUP_NODES + 2 });
    expect(r.json.system['300s'].bytes).toBe(r.json.system['5s'].bytes);
    expect(r.json.workloads[0].id).toBe('web1');
    const db = await t.reader('GET', '/api/v1/stats?workload=db1');
    expect(db.json.workloads).toEqual([{ id: 'db1', windows: expect.objectContaining({ '60s': expect.objectContaining({ bytes: 3300, sessions: 5, violations: 2 }) }) }]);
    now += 301_000;
    expect((await t.reader('GET', '/api/v1/stats')).json.system['300s'].bytes).toBe(0);
    expect((await t.reader('GET', '/api/v1/stats?workload=ghost')).status).toBe(404);
  });
});
