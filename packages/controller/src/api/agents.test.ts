import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHeartbeat } from '../ingest/agents.js';
import { testController, type TestController } from '../testing/controller.js';

const NOW = Date.UTC(2026, 0, 4);

describe('agent routes', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await testController({ now: () => NOW });
    const agent = (id: string, host: string, state: 'online' | 'offline' | 'revoked') => ({
      id, host, version: '0.1.0', state, registered_at: NOW - 1000, last_seen: NOW - 10, policy_revision: 4,
    });
    await t.ctx.store.db.insertInto('agents').values([agent('a1', 'node-b', 'online'), agent('a2', 'node-a', 'offline'), agent('a3', 'node-c', 'revoked')]).execute();
    await t.ctx.store.db
      .insertInto('workloads')
      .values(['w1', 'w2'].map((id) => ({ id, agent_id: 'a1', host: 'node-b', name: id, image: 'i', labels: '{}', service: 's', interfaces: '[]', state: 'running' as const, reason: '', created_at: NOW, updated_at: NOW })))
      .execute();
  });
  afterAll(() => t.close());

  it('lists agents by host with their workload counts', async () => {
    const r = await t.reader('GET', '/api/v1/agents');
    expect(r.status).toBe(200);
    expect(r.json.total).toBe(3);
    expect(r.json.items.map((a: { id: string }) => a.id)).toEqual(['a2', 'a1', 'a3']);
    expect(r.json.items[1]).toEqual({ id: 'a1', host: 'node-b', version: '0.1.0', state: 'online', registeredAt: NOW - 1000, lastSeen: NOW - 10, policyRevision: 4, workloads: 2, status: null });
    expect(r.json.items[0].workloads).toBe(0);
  });

  it('filters and pages', async () => {
    expect((await t.reader('GET', '/api/v1/agents?state=online')).json).toMatchObject({ total: 1, items: [{ id: 'a1' }] });
    expect((await t.reader('GET', '/api/v1/agents?host=node-c')).json).toMatchObject({ total: 1, items: [{ id: 'a3' }] });
    expect((await t.reader('GET', '/api/v1/agents?limit=1&offset=2')).json).toMatchObject({ total: 3, limit: 1, offset: 2, items: [{ id: 'a3' }] });
    const bad = await t.reader('GET', '/api/v1/agents?state=asleep');
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('query.state');
  });

  it('shows the last heartbeat: data plane state, capture drops and problems', async () => {
    const agent = await t.ctx.store.db.selectFrom('agents').selectAll().where('id', '=', 'a2').executeTakeFirstOrThrow();
    const status = {
      policyRevision: 5,
      workloads: 3,
      protectedWorkloads: 1,
      dataPlane: { running: false, restarts: 2, packets: 9000, drops: 17, sessions: 40 },
      problems: ['nftables missing'],
    };
    await recordHeartbeat(t.ctx, agent, status);
    await recordHeartbeat(t.ctx, agent, { ...status, dataPlane: { ...status.dataPlane, running: true, drops: 21 } });
    const r = await t.reader('GET', '/api/v1/agents');
    const a2 = r.json.items.find((a: { id: string }) => a.id === 'a2');
    expect(a2.state).toBe('online');
    expect(a2.status).toEqual({
      at: NOW,
      workloads: 3,
      protectedWorkloads: 1,
      dataPlane: { running: true, restarts: 2, packets: 9000, drops: 21, sessions: 40 },
      problems: ['nftables missing'],
    });
    expect(r.json.items.find((a: { id: string }) => a.id === 'a1').status).toBeNull();
  });
});
