import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAgent, seedWorkloads } from '../../ingest/fixtures.js';
import { ingestViolations } from '../../ingest/violations.js';
import { testController, type TestController } from '../../testing/controller.js';

// The querystring every log route shares (schemas/log-query.ts): each bad field is named.
const T = 1_700_000_000;
let t: TestController;

beforeAll(async () => {
  t = await testController({ now: () => T * 1000 + 30_000 });
  await seedAgent(t.ctx, 'agent-a', 'host-a');
  await seedWorkloads(t.ctx, 'agent-a', 'host-a', [
    { id: 'web1', service: 'web', ips: ['10.0.0.1'] },
    { id: 'db1', service: 'db', ips: ['10.0.0.2'] },
  ]);
  await ingestViolations(t.ctx, 'agent-a', [{ workloadId: 'web1', client: '10.0.0.1', server: '10.0.0.2', clientPort: 1, serverPort: 3306, proto: 6, ruleId: 0, action: 'deny', direction: 'egress', ts: T + 6, count: 2 }]);
});
afterAll(() => t.close());

describe('log routes: shared query fields', () => {
  const cases: [route: string, query: string, status: number, field: string][] = [
    ['/connections', 'since=yesterday', 400, 'query.since'],
    ['/violations', 'since=yesterday', 400, 'query.since'],
    ['/threats', 'until=soon', 400, 'query.until'],
    ['/connections', 'from=nope', 404, 'query.from'],
    ['/connections', 'to=nope', 404, 'query.to'],
    ['/violations', 'workload=nope', 404, 'query.workload'],
    ['/violations', 'to=nope', 404, 'query.to'],
    ['/threats', 'workload=nope', 404, 'query.workload'],
    ['/threats', 'limit=0', 400, 'query.limit'],
    ['/violations', 'offset=-1', 400, 'query.offset'],
  ];
  it.each(cases)('GET %s?%s answers %i naming %s', async (route, query, status, field) => {
    const res = await t.reader('GET', `/api/v1${route}?${query}`);
    expect([res.status, res.json.error.field]).toEqual([status, field]);
  });

  it('rejects a field a route does not have', async () => {
    for (const route of ['/connections', '/violations', '/threats']) expect((await t.reader('GET', `/api/v1${route}?bogus=1`)).status).toBe(400);
  });

  it('answers an empty page with the paging asked for when nothing matches', async () => {
    const res = await t.reader('GET', '/api/v1/violations?from=external&limit=5&offset=10');
    expect(res.json).toEqual({ items: [], total: 0, limit: 5, offset: 10 });
  });

  it('pages newest first with the total over all pages', async () => {
    const res = await t.reader('GET', `/api/v1/violations?since=${T * 1000}&until=${(T + 7) * 1000}&limit=1`);
    expect([res.json.total, res.json.items.map((v: { serverPort: number }) => v.serverPort)]).toEqual([1, [3306]]);
    expect((await t.reader('GET', `/api/v1/violations?until=${(T + 6) * 1000}`)).json.total).toBe(0);
  });
});
