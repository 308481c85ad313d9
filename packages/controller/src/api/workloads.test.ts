import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpPolicyRevision } from '../policy/revision.js';
import { testController, type TestController } from '../testing/controller.js';

const NOW = Date.UTC(2026, 0, 3);

interface Spec {
  id: string;
  host: string;
  name: string;
  image: string;
  service: string;
  state?: 'running' | 'stopped' | 'unmonitored';
}

const SPECS: Spec[] = [
  { id: 'w01', host: 'h1', name: 'web-1', image: 'docker.io/library/nginx:1.25', service: 'web' },
  { id: 'w02', host: 'h1', name: 'web-2', image: 'docker.io/library/nginx:1.25', service: 'web' },
  { id: 'w03', host: 'h2', name: 'web-3', image: 'NGINX:1.27', service: 'web' },
  { id: 'w04', host: 'h2', name: 'db-1', image: 'postgres:16', service: 'db' },
  { id: 'w05', host: 'h2', name: 'db-2', image: 'postgres:16', service: 'db', state: 'stopped' },
  { id: 'w06', host: 'h3', name: 'cache_1', image: 'redis:7', service: 'cache', state: 'unmonitored' },
  { id: 'w07', host: 'h3', name: "x'); drop table workloads; --", image: 'evil%_image', service: 'evil' },
];

describe('workload routes', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await testController({ now: () => NOW });
    await t.ctx.store.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('workloads')
        .values(
          SPECS.map((s, i) => ({
            id: s.id,
            agent_id: `agent-${s.host}`,
            host: s.host,
            name: s.name,
            image: s.image,
            labels: JSON.stringify({ tier: s.service }),
            service: s.service,
            interfaces: JSON.stringify([{ name: 'eth0', mac: `02:42:ac:11:00:0${i}`, ips: [`172.17.0.${i + 2}`] }]),
            state: s.state ?? 'running',
            reason: s.state === 'unmonitored' ? 'host network' : '',
            created_at: NOW - i,
            updated_at: NOW,
          })),
        )
        .execute();
      const group = (name: string, kind: 'user' | 'service', mode: 'monitor' | 'protect' | null, criteria: object[]) => ({
        name, comment: '', criteria: JSON.stringify(criteria), kind, mode, created_at: NOW, updated_at: NOW,
      });
      // db is in Protect; web in Monitor; cache and evil have no service group yet (system default).
      await tx
        .insertInto('groups')
        .values([
          group('svc.web', 'service', 'monitor', [{ key: 'service', op: '=', value: 'web' }]),
          group('svc.db', 'service', 'protect', [{ key: 'service', op: '=', value: 'db' }]),
          group('nginx', 'user', null, [{ key: 'image', op: 'contains', value: 'nginx' }]),
          group('nobody', 'user', null, [{ key: 'name', op: '=', value: 'nobody' }]),
        ])
        .execute();
      await bumpPolicyRevision(tx);
    });
  });
  afterAll(() => t.close());

  const ids = async (query: string) => {
    const r = await t.reader('GET', `/api/v1/workloads${query}`);
    expect(r.status, `${query}: ${r.body}`).toBe(200);
    return (r.json.items as { id: string }[]).map((w) => w.id).sort();
  };

  it('lists every workload with its service group mode', async () => {
    const r = await t.reader('GET', '/api/v1/workloads');
    expect(r.json).toMatchObject({ total: 7, limit: 100, offset: 0 });
    expect(r.json.items[0]).toEqual({
      id: 'w01',
      agentId: 'agent-h1',
      host: 'h1',
      name: 'web-1',
      image: 'docker.io/library/nginx:1.25',
      labels: { tier: 'web' },
      service: 'web',
      interfaces: [{ name: 'eth0', mac: '02:42:ac:11:00:00', ips: ['172.17.0.2'] }],
      state: 'running',
      reason: '',
      mode: 'monitor',
      createdAt: NOW,
      updatedAt: NOW,
    });
  });

  it.each([
    ['?host=h2', ['w03', 'w04', 'w05']],
    ['?service=db', ['w04', 'w05']],
    ['?state=running', ['w01', 'w02', 'w03', 'w04', 'w07']],
    ['?state=unmonitored', ['w06']],
    ['?image=nginx', ['w01', 'w02', 'w03']],
    ['?name=WEB', ['w01', 'w02', 'w03']],
    ['?mode=protect', ['w04', 'w05']],
    ['?mode=monitor', ['w01', 'w02', 'w03', 'w06', 'w07']],
    // Group criteria are the policy's (case-sensitive `contains`), unlike the name/image filters.
    ['?group=nginx', ['w01', 'w02']],
    ['?group=svc.db', ['w04']],
    ['?group=nobody', []],
    ['?host=h2&service=web', ['w03']],
    ['?group=nginx&host=h1&name=2', ['w02']],
    // LIKE wildcards and quotes are matched literally, never as SQL.
    ['?name=_', ['w06']],
    ['?image=%25_', ['w07']],
    ['?image=%25', ['w07']],
    [`?name=${encodeURIComponent("x'); drop table workloads; --")}`, ['w07']],
    [`?host=${encodeURIComponent("' or '1'='1")}`, []],
  ])('filters %s', async (query, expected) => {
    expect(await ids(query)).toEqual(expected);
  });

  it('follows the system default mode for services without a group', async () => {
    expect((await t.admin('PATCH', '/api/v1/system/config', { defaultMode: 'protect' })).status).toBe(200);
    try {
      expect(await ids('?mode=protect')).toEqual(['w04', 'w05', 'w06', 'w07']);
      expect((await t.reader('GET', '/api/v1/workloads/w06')).json.mode).toBe('protect');
    } finally {
      await t.admin('PATCH', '/api/v1/system/config', { defaultMode: 'monitor' });
    }
  });

  it('pages in a stable order with the total of all pages', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 8; offset += 3) {
      const r = await t.reader('GET', `/api/v1/workloads?limit=3&offset=${offset}`);
      expect(r.json).toMatchObject({ total: 7, limit: 3, offset });
      seen.push(...r.json.items.map((w: { id: string }) => w.id));
    }
    expect(seen).toEqual(['w01', 'w02', 'w04', 'w05', 'w03', 'w06', 'w07']);
    const filtered = await t.reader('GET', '/api/v1/workloads?service=web&limit=1&offset=1');
    expect(filtered.json).toMatchObject({ total: 3, items: [{ id: 'w02' }] });
    expect((await t.reader('GET', '/api/v1/workloads?limit=1000')).status).toBe(200);
  });

  it.each([
    ['?limit=0', 'query.limit'],
    ['?limit=1001', 'query.limit'],
    ['?offset=x', 'query.offset'],
    ['?mode=block', 'query.mode'],
    ['?sort=name', 'query.sort'],
    [`?name=${'a'.repeat(300)}`, 'query.name'],
  ])('refuses %s naming %s', async (query, field) => {
    const r = await t.reader('GET', `/api/v1/workloads${query}`);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MSEG_ERR_VALIDATION', field });
  });

  it('answers 404 naming the field for an unknown group', async () => {
    const r = await t.reader('GET', '/api/v1/workloads?group=nope');
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'MSEG_ERR_NOT_FOUND', field: 'query.group' });
  });

  it('answers one workload or 404', async () => {
    const r = await t.reader('GET', '/api/v1/workloads/w04');
    expect(r.json).toMatchObject({ id: 'w04', name: 'db-1', mode: 'protect', service: 'db' });
    const missing = await t.reader('GET', '/api/v1/workloads/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: 'MSEG_ERR_NOT_FOUND', field: 'params.id' });
  });
});
