import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changedWorkloadsSince, compileForWorkloads } from '../policy/compile.js';
import { groupsOfWorkload, workloadsInGroup } from '../policy/membership.js';
import { bumpPolicyRevision, currentRevision } from '../policy/revision.js';
import { ensureReservedGroups, ensureServiceGroups } from '../policy/service-groups.js';
import type { Context } from '../server/context.js';
import { testController, type TestController } from '../testing/controller.js';
import { PREVIEW_MEMBERS } from './groups.js';

interface W {
  id: string;
  service: string;
  ips: string[];
  image?: string;
  labels?: Record<string, string>;
  host?: string;
  state?: 'running' | 'stopped';
}

/** Stores workloads as the ingest does: rows, their service groups, one revision bump. */
async function addWorkloads(ctx: Context, list: W[]): Promise<void> {
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (tx) => {
    for (const w of list) {
      await tx
        .insertInto('workloads')
        .values({
          id: w.id,
          agent_id: 'agent-1',
          host: w.host ?? '192.168.1.10',
          name: w.id,
          image: w.image ?? `${w.service}:1`,
          labels: JSON.stringify(w.labels ?? {}),
          service: w.service,
          interfaces: JSON.stringify([{ name: 'eth0', mac: '02:00:00:00:00:01', ips: w.ips }]),
          state: w.state ?? 'running',
          reason: '',
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    await ensureServiceGroups(ctx, list.map((w) => w.service), tx);
    await bumpPolicyRevision(tx);
  });
}

const FIXTURE: W[] = [
  { id: 'web1', service: 'web', ips: ['10.0.0.1'], image: 'nginx:1.25', labels: { tier: 'web' } },
  { id: 'web2', service: 'web', ips: ['10.0.0.2'], image: 'nginx:1.27', labels: { tier: 'web', canary: '' } },
  { id: 'api1', service: 'api', ips: ['10.0.1.1', 'fd00::11'], image: 'registry.local/api:2', labels: { tier: 'api' } },
  { id: 'db1', service: 'db', ips: ['10.0.2.1'], image: 'postgres:16' },
  { id: 'old1', service: 'web', ips: ['10.0.0.9'], state: 'stopped' },
];

let t: TestController;
beforeEach(async () => {
  t = await testController();
  await ensureReservedGroups(t.ctx);
  await addWorkloads(t.ctx, FIXTURE);
});
afterEach(() => t.close());

describe('groups', () => {
  it('has the reserved groups, which cannot be deleted, renamed or given criteria', async () => {
    const r = await t.admin('GET', '/api/v1/groups?kind=reserved');
    expect(r.json.items.map((g: { name: string }) => g.name)).toEqual(['containers', 'external', 'nodes']);
    expect(r.json.items.find((g: { name: string }) => g.name === 'containers').members).toBe(4);
    for (const [method, body, field] of [
      ['DELETE', undefined, 'params.name'],
      ['PATCH', { name: 'outside' }, 'body.name'],
      ['PATCH', { criteria: [{ key: 'image', op: '=', value: 'x' }] }, 'body.criteria'],
    ] as const) {
      const res = await t.admin(method, '/api/v1/groups/external', body);
      expect(res.status).toBe(409);
      expect(res.json.error).toMatchObject({ code: 'MSEG_ERR_RESERVED', field });
    }
    expect((await t.admin('POST', '/api/v1/groups', { name: 'nodes', criteria: [] })).json.error.field).toBe('body.name');
  });

  it('makes service groups automatically with the default mode, monitor unless configured', async () => {
    expect((await t.admin('GET', '/api/v1/groups/svc.web')).json).toMatchObject({ kind: 'service', mode: 'monitor', members: 2, criteria: [{ key: 'service', op: '=', value: 'web' }] });
    await t.ctx.store.db.insertInto('config').values({ key: 'defaultMode', value: '"protect"' }).execute();
    const rev = await currentRevision(t.ctx);
    const events: number[] = [];
    t.ctx.events.on('policy', (e) => events.push(e.revision));
    const made = await ensureServiceGroups(t.ctx, ['cache', 'web', 'cache', '']);
    expect(made).toEqual({ created: ['svc.cache'], revision: rev + 1 });
    expect(events).toEqual([rev + 1]);
    expect((await t.admin('GET', '/api/v1/groups/svc.cache')).json.mode).toBe('protect');
    expect((await t.admin('GET', '/api/v1/groups/svc.web')).json.mode).toBe('monitor');
    // Nothing new: no revision bump.
    expect(await ensureServiceGroups(t.ctx, ['cache'])).toEqual({ created: [], revision: null });
  });

  it('sets the mode on service groups only', async () => {
    const r = await t.admin('PATCH', '/api/v1/groups/svc.api', { mode: 'protect' });
    expect(r.status).toBe(200);
    expect(r.json.mode).toBe('protect');
    await t.admin('POST', '/api/v1/groups', { name: 'web-tier', criteria: [{ key: 'label', op: '=', value: 'tier=web' }] });
    const bad = await t.admin('PATCH', '/api/v1/groups/web-tier', { mode: 'protect' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('body.mode');
    expect((await t.admin('PATCH', '/api/v1/groups/svc.api', { name: 'svc.other' })).json.error.code).toBe('MSEG_ERR_RESERVED');
  });

  it.each([
    ['label k=v', [{ key: 'label', op: '=', value: 'tier=web' }], ['web1', 'web2']],
    ['label presence', [{ key: 'label', op: '=', value: 'canary' }], ['web2']],
    ['label absence', [{ key: 'label', op: '!=', value: 'canary' }], ['api1', 'db1', 'web1']],
    ['image prefix', [{ key: 'image', op: 'prefix', value: 'nginx:' }], ['web1', 'web2']],
    ['image regex', [{ key: 'image', op: 'regex', value: '^registry\\.local/' }], ['api1']],
    ['name contains', [{ key: 'name', op: 'contains', value: 'b' }], ['db1', 'web1', 'web2']],
    ['OR within a key, AND across keys', [{ key: 'image', op: 'prefix', value: 'nginx' }, { key: 'image', op: '=', value: 'postgres:16' }, { key: 'label', op: '!=', value: 'canary' }], ['db1', 'web1']],
    ['IPv4 CIDR', [{ key: 'address', op: '=', value: '10.0.0.0/24' }], ['web1', 'web2']],
    ['IPv6 CIDR', [{ key: 'address', op: '=', value: 'fd00::/16' }], ['api1']],
    ['host', [{ key: 'host', op: '=', value: '192.168.1.10' }], ['api1', 'db1', 'web1', 'web2']],
    ['service !=', [{ key: 'service', op: '!=', value: 'web' }], ['api1', 'db1']],
    ['no criteria: nobody', [], []],
  ])('members by %s', async (_name, criteria, members) => {
    const r = await t.admin('POST', '/api/v1/groups', { name: 'g1', comment: 'test', criteria });
    expect(r.status).toBe(201);
    expect(r.json.members).toBe(members.length);
    const m = await t.reader('GET', '/api/v1/groups/g1/members');
    expect(m.json).toEqual({ items: members, total: members.length, limit: 100, offset: 0 });
    expect(await workloadsInGroup(t.ctx, 'g1')).toEqual(expect.arrayContaining(members));
  });

  it('matches domain groups through the DNS answers the DP saw', async () => {
    await t.admin('POST', '/api/v1/groups', { name: 'pay', criteria: [{ key: 'domain', op: '=', value: '*.pay.example' }] });
    expect((await t.admin('GET', '/api/v1/groups/pay/members')).json.items).toEqual([]);
    await t.ctx.store.db.insertInto('dns_names').values({ name: 'api.pay.example', ip: '10.0.1.1', last_seen: 1 }).execute();
    // DNS names are not a policy change by themselves; the next revision picks them up.
    await t.ctx.store.db.transaction().execute((tx) => bumpPolicyRevision(tx));
    expect((await t.admin('GET', '/api/v1/groups/pay/members')).json.items).toEqual(['api1']);
    expect(await groupsOfWorkload(t.ctx, 'api1')).toEqual(['containers', 'pay', 'svc.api']);
  });

  it('pages and filters the list', async () => {
    const r = await t.reader('GET', '/api/v1/groups?kind=service&limit=2&offset=1');
    expect(r.json).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(r.json.items.map((g: { name: string }) => g.name)).toEqual(['svc.db', 'svc.web']);
    expect((await t.reader('GET', '/api/v1/groups?name=WE')).json.items.map((g: { name: string }) => g.name)).toEqual(['svc.web']);
    expect((await t.reader('GET', '/api/v1/groups?name=%25')).json.total).toBe(0);
    expect((await t.reader('GET', '/api/v1/groups?kind=other')).json.error.field).toBe('query.kind');
  });

  it.each([
    [{ name: 'g', criteria: [{ key: 'image', op: 'regex', value: '(a+)+$' }] }, 'body.criteria.0.value', /exponential/],
    [{ name: 'g', criteria: [{ key: 'label', op: 'regex', value: 'tier=(x*)*y' }] }, 'body.criteria.0.value', /exponential/],
    [{ name: 'g', criteria: [{ key: 'colour', op: '=', value: 'red' }] }, 'body.criteria.0.key', /must be one of/],
    [{ name: 'g', criteria: [{ key: 'image', op: 'like', value: 'x' }] }, 'body.criteria.0.op', /must be one of/],
    [{ name: 'g', criteria: [{ key: 'address', op: '=', value: '10.0.0.0/99' }] }, 'body.criteria.0.value', /CIDR/],
    [{ name: 'g', criteria: [], extra: 1 }, 'body.extra', /unknown field/],
    [{ name: "g'; drop table groups; --", criteria: [] }, 'body.name', /must be/],
    [{ name: 'svc.mine', criteria: [] }, 'body.name', /service groups/],
    [{ name: 'g', criteria: 'image=x' }, 'body.criteria', /array/i],
  ])('refuses %j with 400 naming the field, storing nothing', async (body, field, msg) => {
    const before = (await t.admin('GET', '/api/v1/groups')).json.total;
    const rev = await currentRevision(t.ctx);
    const r = await t.admin('POST', '/api/v1/groups', body);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('MSEG_ERR_VALIDATION');
    expect(r.json.error.field).toBe(field);
    expect(r.json.error.message).toMatch(msg);
    expect((await t.admin('GET', '/api/v1/groups')).json.total).toBe(before);
    expect(await currentRevision(t.ctx)).toBe(rev);
  });

  it('refuses a duplicate name and writes by a reader', async () => {
    expect((await t.admin('POST', '/api/v1/groups', { name: 'g', criteria: [] })).status).toBe(201);
    expect((await t.admin('POST', '/api/v1/groups', { name: 'g', criteria: [] })).json.error).toMatchObject({ code: 'MSEG_ERR_CONFLICT', field: 'body.name' });
    expect((await t.reader('POST', '/api/v1/groups', { name: 'h', criteria: [] })).status).toBe(403);
    expect((await t.reader('DELETE', '/api/v1/groups/g')).status).toBe(403);
    expect((await t.reader('PATCH', '/api/v1/groups/g', { comment: 'x' })).status).toBe(403);
  });

  it('refuses to delete a group rules use (409 in use), renames with its rules, then deletes', async () => {
    await t.admin('POST', '/api/v1/groups', { name: 'web-tier', criteria: [{ key: 'label', op: '=', value: 'tier=web' }] });
    const rule = (await t.admin('POST', '/api/v1/policies', { from: 'web-tier', to: 'svc.api', ports: 'tcp/80', action: 'allow' })).json;
    const del = await t.admin('DELETE', '/api/v1/groups/web-tier');
    expect(del.status).toBe(409);
    expect(del.json.error).toMatchObject({ code: 'MSEG_ERR_IN_USE', field: 'params.name' });
    expect(del.json.error.message).toContain(`${rule.id}`);
    const ren = await t.admin('PATCH', '/api/v1/groups/web-tier', { name: 'frontends' });
    expect(ren.status).toBe(200);
    expect((await t.admin('GET', `/api/v1/policies/${rule.id}`)).json.from).toBe('frontends');
    expect((await t.admin('DELETE', '/api/v1/groups/frontends')).status).toBe(409);
    expect((await t.admin('DELETE', `/api/v1/policies/${rule.id}`)).status).toBe(204);
    expect((await t.admin('DELETE', '/api/v1/groups/frontends')).status).toBe(204);
    expect((await t.admin('GET', '/api/v1/groups/frontends')).status).toBe(404);
  });

  it('refuses to delete a service group with running workloads', async () => {
    expect((await t.admin('DELETE', '/api/v1/groups/svc.web')).json.error.code).toBe('MSEG_ERR_IN_USE');
  });

  it('bumps the revision and announces it on every change', async () => {
    const events: number[] = [];
    t.ctx.events.on('policy', (e) => events.push(e.revision));
    const r0 = await currentRevision(t.ctx);
    await t.admin('POST', '/api/v1/groups', { name: 'g', criteria: [] });
    await t.admin('PATCH', '/api/v1/groups/g', { comment: 'c' });
    await t.admin('PATCH', '/api/v1/groups/svc.web', { mode: 'protect' });
    await t.admin('DELETE', '/api/v1/groups/g');
    expect(events).toEqual([r0 + 1, r0 + 2, r0 + 3, r0 + 4]);
    expect(await currentRevision(t.ctx)).toBe(r0 + 4);
  });
});

describe('preview of unsaved criteria', () => {
  it.each([
    ['image prefix', [{ key: 'image', op: 'prefix', value: 'nginx:' }], ['web1', 'web2']],
    ['image regex', [{ key: 'image', op: 'regex', value: '^registry\\.local/' }], ['api1']],
    ['label k=v', [{ key: 'label', op: '=', value: 'tier=web' }], ['web1', 'web2']],
    ['label absence', [{ key: 'label', op: '!=', value: 'canary' }], ['api1', 'db1', 'web1']],
    ['service', [{ key: 'service', op: '=', value: 'db' }], ['db1']],
    ['service !=', [{ key: 'service', op: '!=', value: 'web' }], ['api1', 'db1']],
    ['IPv4 CIDR', [{ key: 'address', op: '=', value: '10.0.0.0/24' }], ['web1', 'web2']],
    ['IPv6 address', [{ key: 'address', op: '=', value: 'fd00::11' }], ['api1']],
    ['no criteria: nobody', [], []],
  ])('selects by %s what the saved group would, storing nothing', async (_name, criteria, ids) => {
    const rev = await currentRevision(t.ctx);
    const r = await t.admin('POST', '/api/v1/groups/preview', { criteria });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ members: ids.map((id) => ({ id, name: id, service: expect.any(String), host: '192.168.1.10' })), total: ids.length });
    expect(await currentRevision(t.ctx)).toBe(rev);
    await t.admin('POST', '/api/v1/groups', { name: 'saved', criteria });
    expect((await t.admin('GET', '/api/v1/groups/saved/members')).json.items).toEqual(ids);
  });

  it('names service and host of each member', async () => {
    const r = await t.admin('POST', '/api/v1/groups/preview', { criteria: [{ key: 'name', op: '=', value: 'api1' }] });
    expect(r.json.members).toEqual([{ id: 'api1', name: 'api1', service: 'api', host: '192.168.1.10' }]);
  });

  it(`lists at most ${PREVIEW_MEMBERS} members and counts them all`, async () => {
    await addWorkloads(
      t.ctx,
      Array.from({ length: PREVIEW_MEMBERS + 5 }, (_, i) => ({ id: `bulk${String(i).padStart(3, '0')}`, service: 'bulk', ips: [`10.9.${i >> 8}.${i & 255}`] })),
    );
    const r = await t.reader('POST', '/api/v1/groups/preview', { criteria: [{ key: 'service', op: '=', value: 'bulk' }] });
    expect(r.json.total).toBe(PREVIEW_MEMBERS + 5);
    expect(r.json.members).toHaveLength(PREVIEW_MEMBERS);
    expect(r.json.members[0].name).toBe('bulk000');
  });

  it.each([
    [{ criteria: [{ key: 'image', op: 'regex', value: '(' }] }, 'body.criteria.0.value', /not a valid regex/],
    [{ criteria: [{ key: 'service', op: '=', value: 'web' }, { key: 'image', op: 'regex', value: '(a+)+$' }] }, 'body.criteria.1.value', /exponential/],
    [{ criteria: [{ key: 'address', op: 'contains', value: '10.' }] }, 'body.criteria.0.op', /"=" or "!="/],
    [{ criteria: [{ key: 'colour', op: '=', value: 'red' }] }, 'body.criteria.0.key', /must be one of/],
    [{ criteria: [], name: 'g' }, 'body.name', /unknown field/],
    [{}, 'body.criteria', /required/],
  ])('refuses %j with 400 naming the field', async (body, field, msg) => {
    const r = await t.reader('POST', '/api/v1/groups/preview', body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MSEG_ERR_VALIDATION', field });
    expect(r.json.error.message).toMatch(msg);
  });

  it('answers a reader, who still may not create groups, and nobody without a token', async () => {
    const criteria = [{ key: 'label', op: '=', value: 'canary' }];
    expect((await t.reader('POST', '/api/v1/groups/preview', { criteria })).json).toEqual({ members: [{ id: 'web2', name: 'web2', service: 'web', host: '192.168.1.10' }], total: 1 });
    expect((await t.reader('POST', '/api/v1/groups', { name: 'preview', criteria })).status).toBe(403);
    expect((await t.anon('POST', '/api/v1/groups/preview', { criteria })).status).toBe(401);
  });
});

describe('compile cache', () => {
  it('recompiles on a new revision and reports only the workloads whose policy changed', async () => {
    const rev0 = await currentRevision(t.ctx);
    const first = await compileForWorkloads(t.ctx, ['web1', 'api1', 'db1', 'old1']);
    expect([...first.keys()].sort()).toEqual(['api1', 'db1', 'web1']);
    expect(first.get('web1')).toEqual({ mode: 'monitor', rules: [] });
    expect(await changedWorkloadsSince(t.ctx, rev0 - 1)).toBeNull();

    const rule = (await t.admin('POST', '/api/v1/policies', { from: 'svc.api', to: 'svc.db', ports: 'tcp/5432', action: 'allow' })).json;
    const rev1 = await currentRevision(t.ctx);
    expect((await changedWorkloadsSince(t.ctx, rev0))?.sort()).toEqual(['api1', 'db1']);
    expect((await compileForWorkloads(t.ctx, ['db1'])).get('db1')?.rules).toEqual([
      { id: rule.id, from: ['10.0.1.1', 'fd00::11'], to: ['10.0.2.1'], ports: 'tcp/5432', apps: ['any'], action: 'allow' },
    ]);

    // A comment is no change to any compiled policy.
    await t.admin('PATCH', `/api/v1/policies/${rule.id}`, { comment: 'db access' });
    expect(await changedWorkloadsSince(t.ctx, rev1)).toEqual([]);

    // A mode change reaches that service's workloads only.
    const rev2 = await currentRevision(t.ctx);
    await t.admin('PATCH', '/api/v1/groups/svc.db', { mode: 'protect' });
    expect(await changedWorkloadsSince(t.ctx, rev2)).toEqual(['db1']);
    expect((await compileForWorkloads(t.ctx, ['db1'])).get('db1')?.mode).toBe('protect');

    // A workload that stops is reported as changed and has no policy any more.
    const rev3 = await currentRevision(t.ctx);
    await t.ctx.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('workloads').set({ state: 'stopped' }).where('id', '=', 'web2').execute();
      await bumpPolicyRevision(tx);
    });
    expect(await changedWorkloadsSince(t.ctx, rev3)).toEqual(['web2']);
    expect((await compileForWorkloads(t.ctx, ['web2'])).size).toBe(0);
  });
});

describe('preview-protect', () => {
  it('lists the last day\'s conversations of the members that their own rules do not allow', async () => {
    const now = Date.now();
    const conv = (client: string, server: string, clientIp: string, serverIp: string, port: number, app: string, ageMs: number, resolution = 0, sessions = 1) =>
      t.ctx.store.db
        .insertInto('conversations')
        .values({
          resolution,
          // As ingest and the roll-up store them: a bucket is its resolution's slot of last_seen.
          bucket: now - ageMs - ((now - ageMs) % (resolution || 5_000)),
          client_workload: client,
          server_workload: server,
          client_ip: clientIp,
          server_ip: serverIp,
          server_port: port,
          proto: 6,
          app,
          action: 'violate',
          rule_id: 0,
          enforced_by: 'none',
          bytes: 100 * sessions,
          packets: 2,
          sessions,
          violations: 0,
          threat_severity: 0,
          first_seen: now - ageMs,
          last_seen: now - ageMs,
        })
        .execute();
    const allow = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/8080', action: 'allow' })).json;
    const deny = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'external', ports: 'tcp/25', action: 'deny' })).json;
    await conv('web1', 'api1', '10.0.0.1', '10.0.1.1', 8080, 'HTTP', 60_000); // allowed
    await conv('web1', 'db1', '10.0.0.1', '10.0.2.1', 5432, 'PostgreSQL', 60_000, 0, 3); // blocked at web's egress
    await conv('web1', 'db1', '10.0.0.1', '10.0.2.1', 5432, 'PostgreSQL', 60_000, 60_000, 5); // same, 1 min roll-up
    await conv('web2', '', '10.0.0.2', '203.0.113.5', 25, 'SMTP', 120_000); // explicit deny rule
    await conv('api1', 'web2', '10.0.1.1', '10.0.0.2', 9000, 'unknown', 180_000); // blocked at web's ingress
    await conv('api1', 'db1', '10.0.1.1', '10.0.2.1', 5432, 'PostgreSQL', 60_000); // not web's
    await conv('web1', 'db1', '10.0.0.1', '10.0.2.1', 6379, 'Redis', 25 * 3600_000); // older than a day
    await conv('web1', 'web2', '10.0.0.1', '10.0.0.2', 7000, 'unknown', 90_000); // members at both ends: read once, blocked at both
    await conv('api1', 'web1', '10.0.1.1', '10.0.0.1', 7001, 'unknown', 5 * 3600_000, 3_600_000, 2); // an hour roll-up

    const r = await t.reader('GET', '/api/v1/groups/svc.web/preview-protect');
    expect(r.status).toBe(200);
    expect(r.json.total).toBe(6);
    expect(r.json.items).toEqual([
      expect.objectContaining({ clientWorkload: 'web1', serverWorkload: 'db1', serverPort: 5432, side: 'egress', ruleId: 0, sessions: 5, bytes: 500 }),
      expect.objectContaining({ clientWorkload: 'web1', serverWorkload: 'web2', serverPort: 7000, side: 'egress', ruleId: 0, sessions: 1 }),
      expect.objectContaining({ clientWorkload: 'web1', serverWorkload: 'web2', serverPort: 7000, side: 'ingress', ruleId: 0, sessions: 1 }),
      expect.objectContaining({ clientWorkload: 'web2', serverIp: '203.0.113.5', serverPort: 25, side: 'egress', ruleId: deny.id }),
      expect.objectContaining({ clientWorkload: 'api1', serverWorkload: 'web2', serverPort: 9000, side: 'ingress', ruleId: 0 }),
      expect.objectContaining({ clientWorkload: 'api1', serverWorkload: 'web1', serverPort: 7001, side: 'ingress', ruleId: 0, sessions: 2 }),
    ]);
    expect(allow.id).toBeGreaterThan(0);
    const bad = await t.reader('GET', '/api/v1/groups/containers/preview-protect');
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('params.name');
    expect((await t.reader('GET', '/api/v1/groups/svc.none/preview-protect')).status).toBe(404);
  });
});
