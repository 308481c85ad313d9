import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMap } from '../events/bus.js';
import { testController, type TestController } from '../testing/controller.js';

const NOW = Date.UTC(2026, 0, 2);
const MIN = 60_000;

describe('system routes', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await testController({ now: () => NOW });
  });
  afterAll(() => t.close());

  it('summarises the store', async () => {
    const db = t.ctx.store.db;
    const agent = (id: string, state: 'online' | 'offline') => ({ id, host: id, version: '1', state, registered_at: NOW, last_seen: NOW, policy_revision: 0 });
    await db.insertInto('agents').values([agent('a1', 'online'), agent('a2', 'online'), agent('a3', 'offline')]).execute();
    const wl = (id: string, state: 'running' | 'stopped') => ({ id, agent_id: 'a1', host: 'a1', name: id, image: 'i', labels: '{}', service: 's', interfaces: '[]', state, reason: '', created_at: NOW, updated_at: NOW });
    await db.insertInto('workloads').values([wl('w1', 'running'), wl('w2', 'running'), wl('w3', 'stopped')]).execute();
    await db.insertInto('groups').values({ name: 'g', comment: '', criteria: '[]', kind: 'user', mode: null, created_at: NOW, updated_at: NOW }).execute();
    await db.insertInto('rules').values({ position: 1, from_group: 'g', to_group: 'g', ports: 'any', apps: '["any"]', action: 'allow', enabled: 1, comment: '', hits: 0, last_hit: null, created_at: NOW, updated_at: NOW }).execute();
    const conv = (bucket: number, last: number, resolution = 0, port = 80) => ({
      resolution, bucket, client_workload: 'w1', server_workload: 'w2', client_ip: '10.0.0.1', server_ip: '10.0.0.2', server_port: port, proto: 6, app: 'http',
      action: 'allow' as const, rule_id: 1, enforced_by: 'server', bytes: 1, packets: 1, sessions: 1, violations: 0, threat_severity: 0, first_seen: last, last_seen: last,
    });
    // Two raw conversations in the last 5 minutes, one older, and a 1-min rollup that must not count twice.
    await db.insertInto('conversations').values([conv(NOW - MIN, NOW - MIN), conv(NOW - MIN, NOW - MIN, 0, 443), conv(NOW - 10 * MIN, NOW - 10 * MIN), conv(NOW - MIN, NOW - MIN, 60_000)]).execute();
    const viol = (port: number, last: number) => ({
      client_workload: 'w1', server_workload: 'w2', client_ip: '10.0.0.1', server_ip: '10.0.0.2', server_port: port, proto: 6, app: 'http', rule_id: 0,
      action: 'violate' as const, enforced_by: 'server', reported_by: 'server', count: 3, first_seen: last, last_seen: last,
    });
    await db.insertInto('violations').values([viol(1, NOW - MIN), viol(2, NOW - 25 * 60 * MIN)]).execute();
    const threat = (tid: number, last: number) => ({ threat_id: tid, name: 'syn flood', severity: 'high', workload_id: 'w1', client: '1.2.3.4', server: '10.0.0.1', proto: 6, app: '', detail: '', count: 1, first_seen: last, last_seen: last });
    await db.insertInto('threats').values([threat(1, NOW - MIN), threat(2, NOW - 2 * MIN), threat(3, NOW - 48 * 60 * MIN)]).execute();

    const r = await t.reader('GET', '/api/v1/system/summary');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      agents: { online: 2, total: 3 },
      workloads: { running: 2, total: 3 },
      groups: 1,
      rules: 1,
      connections5m: 2,
      violations24h: 1,
      threats24h: 2,
      time: NOW,
    });
  });

  it('reads the defaults and patches parts of the configuration', async () => {
    expect((await t.reader('GET', '/api/v1/system/config')).json).toEqual({
      defaultMode: 'monitor',
      retention: { rawMinutes: 60, minuteHours: 48, hourDays: 30 },
      sessionHours: 12,
    });
    const seen: EventMap['config'][] = [];
    const off = t.ctx.events.on('config', (e) => seen.push(e));
    const r = await t.admin('PATCH', '/api/v1/system/config', { defaultMode: 'protect', retention: { hourDays: 90 } });
    off();
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ defaultMode: 'protect', retention: { rawMinutes: 60, minuteHours: 48, hourDays: 90 }, sessionHours: 12 });
    expect(seen).toEqual([{ keys: ['defaultMode', 'retention'] }]);
    // A later partial retention patch keeps the earlier change.
    expect((await t.admin('PATCH', '/api/v1/system/config', { retention: { rawMinutes: 15 } })).json.retention).toEqual({ rawMinutes: 15, minuteHours: 48, hourDays: 90 });
    expect((await t.reader('GET', '/api/v1/system/config')).json.retention.hourDays).toBe(90);
  });

  it.each([
    [{ retention: { rawMinutes: 1441 } }, 'body.retention.rawMinutes'],
    [{ retention: { minuteHours: 1.5 } }, 'body.retention.minuteHours'],
    [{ retention: { hourDays: 0 } }, 'body.retention.hourDays'],
    [{ retention: 30 }, 'body.retention'],
    [{ sessionHours: 0 }, 'body.sessionHours'],
    [{ sessionHours: 721 }, 'body.sessionHours'],
    [{ defaultMode: "protect'; drop table config; --" }, 'body.defaultMode'],
  ])('refuses %j naming %s', async (body, field) => {
    const before = (await t.admin('GET', '/api/v1/system/config')).json;
    const r = await t.admin('PATCH', '/api/v1/system/config', body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MSEG_ERR_VALIDATION', field });
    expect((await t.admin('GET', '/api/v1/system/config')).json).toEqual(before);
  });

  it('lets only admins change the configuration', async () => {
    const r = await t.reader('PATCH', '/api/v1/system/config', { defaultMode: 'monitor' });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('MSEG_ERR_AUTH_FORBIDDEN');
  });
});
