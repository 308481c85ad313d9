import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestConnections } from '../ingest/connections.js';
import { connection, seedAgent, seedWorkloads } from '../ingest/fixtures.js';
import { runRollup } from '../ingest/rollup.js';
import { testController, type TestController } from '../testing/controller.js';

const T = 1_700_000_000;
let now = T * 1000 + 60_000;
let t: TestController;

const pg = (over = {}) => ({ client: '10.0.0.1', server: '10.0.0.2', serverPort: 5432, app: 'PostgreSQL', ruleId: 7, ...over });

beforeAll(async () => {
  t = await testController({ now: () => now });
  await seedAgent(t.ctx, 'agent-a', 'host-a');
  await seedAgent(t.ctx, 'agent-b', 'host-b');
  await seedWorkloads(t.ctx, 'agent-a', 'host-a', [
    { id: 'web1', service: 'web', ips: ['10.0.0.1'] },
    { id: 'web2', service: 'web', ips: ['10.0.0.4'] },
  ]);
  await seedWorkloads(t.ctx, 'agent-b', 'host-b', [{ id: 'db1', service: 'db', ips: ['10.0.0.2'] }]);
  await ingestConnections(t.ctx, 'agent-a', 'host-a', [
    connection({ ...pg(), workloadId: 'web1', direction: 'egress', lastSeen: T + 1 }),
    connection({ ...pg({ client: '10.0.0.4', ruleId: 0 }), workloadId: 'web2', direction: 'egress', action: 'violate', violations: 1, lastSeen: T + 2 }),
    connection({ workloadId: 'web1', client: '10.0.0.1', server: '93.184.216.34', serverPort: 443, app: 'TLS', ruleId: 9, lastSeen: T + 3, bytesToServer: 5, bytesToClient: 5 }),
  ], []);
  await ingestConnections(t.ctx, 'agent-b', 'host-b', [
    connection({ ...pg(), workloadId: 'db1', direction: 'ingress', lastSeen: T + 1, bytesToServer: 40, bytesToClient: 60 }),
    connection({ ...pg(), workloadId: 'db1', direction: 'ingress', lastSeen: T + 7, bytesToServer: 40, bytesToClient: 60, sessions: 0 }),
    connection({ ...pg({ client: '10.0.0.4', ruleId: 0 }), workloadId: 'db1', direction: 'ingress', action: 'violate', violations: 1, lastSeen: T + 2 }),
  ], []);
});
afterAll(() => t.close());

const get = async (query: string) => {
  const r = await t.reader('GET', `/api/v1/connections${query}`);
  return r;
};

describe('GET /connections', () => {
  it('lists merged conversations of the window, newest first, summed over buckets', async () => {
    const r = await get('');
    expect(r.status).toBe(200);
    expect(r.json.total).toBe(3);
    expect(r.json.items.map((c: any) => [c.clientWorkload, c.serverWorkload, c.serverPort, c.verdict, c.ruleId, c.enforcedBy, c.bytes, c.sessions])).toEqual([
      // Two 5 s buckets of the server's reports: 100 + 100 bytes, one session.
      ['web1', 'db1', 5432, 'allow', 7, 'both', 200, 1],
      ['web1', '', 443, 'allow', 9, 'client', 10, 1],
      ['web2', 'db1', 5432, 'violate', 0, 'both', 1100, 1],
    ]);
    expect(r.json.items[0]).toMatchObject({ firstSeen: T * 1000, lastSeen: (T + 7) * 1000, clientIp: '10.0.0.1', serverIp: '10.0.0.2', proto: 6, app: 'PostgreSQL' });
  });

  it.each([
    ['?from=web2', [['web2', 'db1']]],
    ['?from=svc.web&to=db1', [['web1', 'db1'], ['web2', 'db1']]],
    ['?to=external', [['web1', '']]],
    ['?verdict=violate', [['web2', 'db1']]],
    ['?app=TLS', [['web1', '']]],
    ['?port=5432&verdict=allow', [['web1', 'db1']]],
    ['?to=svc.web', []],
    [`?since=${(T + 5) * 1000}`, [['web1', 'db1']]],
    // Windows cover whole 5 s buckets: the one starting at T + 5 s holds only the second report.
    [`?since=${new Date((T + 5) * 1000).toISOString()}&until=${new Date((T + 600) * 1000).toISOString()}`, [['web1', 'db1']]],
    [`?since=${new Date((T - 60) * 1000).toISOString()}&until=${new Date(T * 1000).toISOString()}`, []],
  ])('filters %s', async (query, pairs) => {
    const r = await get(query);
    expect(r.status).toBe(200);
    expect(r.json.items.map((c: any) => [c.clientWorkload, c.serverWorkload])).toEqual(pairs);
    expect(r.json.total).toBe(pairs.length);
  });

  it('pages with the total of all pages', async () => {
    const a = await get('?limit=2');
    const b = await get('?limit=2&offset=2');
    expect([a.json.total, b.json.total, a.json.items.length, b.json.items.length]).toEqual([3, 3, 2, 1]);
    expect(b.json.items[0].clientWorkload).toBe('web2');
  });

  it('pages past what the newest bucket holds, with sums over the whole window', async () => {
    // The newest 5 s bucket holds one conversation; the page's second one is in the bucket before.
    const a = await get('?limit=1&offset=1');
    expect(a.json.total).toBe(3);
    expect(a.json.items.map((c: any) => [c.clientWorkload, c.serverWorkload, c.serverPort, c.bytes])).toEqual([['web1', '', 443, 10]]);
    const first = await get('?limit=1');
    expect(first.json.items.map((c: any) => [c.clientWorkload, c.serverWorkload, c.bytes, c.sessions, c.enforcedBy])).toEqual([['web1', 'db1', 200, 1, 'both']]);
    expect((await get('?limit=5&offset=3')).json).toMatchObject({ items: [], total: 3 });
  });

  it.each([
    ['?verdict=maybe', 400, 'query.verdict'],
    ['?since=yesterday', 400, 'query.since'],
    ['?until=2023-13-45T99:00', 400, 'query.until'],
    [`?since=${(T + 10) * 1000}&until=${T * 1000}`, 400, 'query.since'],
    ['?port=70000', 400, 'query.port'],
    ['?limit=0', 400, 'query.limit'],
    ['?colour=red', 400, 'query.colour'],
    ["?from=x'%20OR%201=1--", 404, 'query.from'],
  ])('refuses %s', async (query, status, field) => {
    const r = await get(query);
    expect(r.status).toBe(status);
    expect(r.json.error.field).toBe(field);
  });

  it('answers the same totals once the window is rolled up (minute rows, then raw after the watermark)', async () => {
    const before = await get(`?since=${(T - 3600) * 1000}`);
    now = T * 1000 + 10 * 60_000;
    await runRollup(t.ctx, 60_000);
    const rolled = await t.ctx.store.db.selectFrom('conversations').select('id').where('resolution', '=', 60_000).execute();
    expect(rolled.length).toBeGreaterThan(0);
    // A 2-hour window reads minute rows.
    const after = await get(`?since=${(T - 3600) * 1000}&until=${(T + 3600) * 1000}`);
    expect(after.json.items.map((c: any) => [c.clientWorkload, c.serverWorkload, c.bytes, c.sessions])).toEqual(
      before.json.items.map((c: any) => [c.clientWorkload, c.serverWorkload, c.bytes, c.sessions]),
    );
  });

  it('needs a login', async () => {
    expect((await t.anon('GET', '/api/v1/connections')).status).toBe(401);
  });
});
