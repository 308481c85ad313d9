import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bumpPolicyRevision, currentRevision } from '../policy/revision.js';
import { ensureReservedGroups, ensureServiceGroups } from '../policy/service-groups.js';
import type { Context } from '../server/context.js';
import { testController, type TestController } from '../testing/controller.js';

async function addWorkloads(ctx: Context, list: { id: string; service: string; ips: string[] }[]): Promise<void> {
  const now = ctx.now();
  await ctx.store.db.transaction().execute(async (tx) => {
    for (const w of list) {
      await tx
        .insertInto('workloads')
        .values({
          id: w.id,
          agent_id: 'agent-1',
          host: '192.168.1.10',
          name: w.id,
          image: `${w.service}:1`,
          labels: '{}',
          service: w.service,
          interfaces: JSON.stringify([{ name: 'eth0', mac: '02:00:00:00:00:01', ips: w.ips }]),
          state: 'running',
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

async function setup(): Promise<TestController> {
  const t = await testController();
  await ensureReservedGroups(t.ctx);
  await addWorkloads(t.ctx, [
    { id: 'web1', service: 'web', ips: ['10.0.0.1'] },
    { id: 'api1', service: 'api', ips: ['10.0.1.1'] },
    { id: 'db1', service: 'db', ips: ['10.0.2.1'] },
  ]);
  return t;
}

let t: TestController;
beforeEach(async () => {
  t = await setup();
});
afterEach(() => t.close());

const ids = (r: { json: { items: { id: number }[] } }) => r.json.items.map((x) => x.id);

describe('policies CRUD', () => {
  it('creates, reads, changes and deletes rules', async () => {
    const c = await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'TCP/8080', apps: ['http', 'grpc'], action: 'allow', comment: 'web to api' });
    expect(c.status).toBe(201);
    expect(c.json).toMatchObject({ from: 'svc.web', to: 'svc.api', ports: 'tcp/8080', apps: ['HTTP', 'gRPC'], action: 'allow', enabled: true, hits: 0, lastHit: null, comment: 'web to api' });
    const id = c.json.id;
    expect((await t.reader('GET', `/api/v1/policies/${id}`)).json.id).toBe(id);
    const p = await t.admin('PATCH', `/api/v1/policies/${id}`, { enabled: false, apps: ['any'] });
    expect(p.json).toMatchObject({ enabled: false, apps: ['any'], ports: 'tcp/8080' });
    expect((await t.admin('DELETE', `/api/v1/policies/${id}`)).status).toBe(204);
    expect((await t.admin('GET', `/api/v1/policies/${id}`)).json.error).toMatchObject({ code: 'MSEG_ERR_NOT_FOUND', field: 'params.id' });
    expect((await t.admin('DELETE', `/api/v1/policies/${id}`)).status).toBe(404);
    expect((await t.admin('PATCH', '/api/v1/policies/999', { comment: 'x' })).status).toBe(404);
  });

  it.each([
    [{ ports: 'tcp/0' }, 'body.ports', /port 0 is outside 1-65535/],
    [{ ports: 'tcp/70000' }, 'body.ports', /port 70000 is outside 1-65535/],
    [{ ports: 'xyz/80' }, 'body.ports', /"xyz" is not a protocol/],
    [{ ports: 'tcp/90-80' }, 'body.ports', /range ends before it starts/],
    [{ ports: "tcp/80' or 1=1 --" }, 'body.ports', /is not proto\/port/],
    [{ ports: 80 }, 'body.ports', /string/i],
    [{ apps: ['HTTP', 'telnetish'] }, 'body.apps.1', /unknown application/],
    [{ apps: [] }, 'body.apps', /./],
    [{ action: 'permit' }, 'body.action', /must be one of allow, deny/],
    [{ from: 'nope' }, 'body.from', /group "nope" does not exist/],
    [{ to: "x'); drop table rules; --" }, 'body.to', /does not exist/],
    [{ colour: 'red' }, 'body.colour', /unknown field/],
    [{ enabled: 'yes' }, 'body.enabled', /boolean/i],
    [{ before: 999 }, 'body.before', /rule 999 does not exist/],
  ])('refuses %j with 400 naming the field, storing nothing', async (change, field, msg) => {
    const rev = await currentRevision(t.ctx);
    const r = await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/80', action: 'allow', ...change });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MSEG_ERR_VALIDATION', field });
    expect(r.json.error.message).toMatch(msg);
    expect((await t.admin('GET', '/api/v1/policies')).json.total).toBe(0);
    expect(await currentRevision(t.ctx)).toBe(rev);
  });

  it('refuses a bad port in a change, keeping the rule as it was', async () => {
    const id = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/80', action: 'allow' })).json.id;
    for (const ports of ['tcp/0', 'tcp/70000', 'xyz/80', 'tcp/90-80']) {
      const r = await t.admin('PATCH', `/api/v1/policies/${id}`, { ports });
      expect(r.status).toBe(400);
      expect(r.json.error.field).toBe('body.ports');
    }
    expect((await t.admin('GET', `/api/v1/policies/${id}`)).json.ports).toBe('tcp/80');
  });

  it('refuses a 10 MB body', async () => {
    const r = await t.admin('POST', '/api/v1/policies/import', JSON.stringify({ version: 1, groups: [], rules: [], pad: 'x'.repeat(10 * 1024 * 1024) }), { 'content-type': 'application/json' });
    expect(r.status).toBe(413);
  });

  it('keeps order: appends, inserts before, reorders the whole list', async () => {
    const mk = async (ports: string, before?: number) =>
      (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports, action: 'allow', ...(before ? { before } : {}) })).json.id as number;
    const a = await mk('tcp/1');
    const b = await mk('tcp/2');
    const c = await mk('tcp/3', b);
    const d = await mk('tcp/4', a);
    expect(ids(await t.reader('GET', '/api/v1/policies'))).toEqual([d, a, c, b]);
    const re = await t.admin('POST', '/api/v1/policies/reorder', { ids: [b, a, d, c] });
    expect(re.status).toBe(200);
    expect(re.json.items.map((r: { id: number; position: number }) => [r.id, r.position])).toEqual([
      [b, 1],
      [a, 2],
      [d, 3],
      [c, 4],
    ]);
    expect(ids(await t.reader('GET', '/api/v1/policies'))).toEqual([b, a, d, c]);
    for (const [body, field] of [
      [{ ids: [b, a, d] }, 'body.ids'],
      [{ ids: [b, a, d, c, c] }, 'body.ids.4'],
      [{ ids: [b, a, d, c, 999] }, 'body.ids.4'],
      [{ ids: ['b'] }, 'body.ids.0'],
    ] as const) {
      const r = await t.admin('POST', '/api/v1/policies/reorder', body);
      expect(r.status).toBe(400);
      expect(r.json.error.field).toBe(field);
    }
    expect(ids(await t.reader('GET', '/api/v1/policies'))).toEqual([b, a, d, c]);
    expect((await t.reader('POST', '/api/v1/policies/reorder', { ids: [a, b, c, d] })).status).toBe(403);
  });

  it('inserts many times at one spot without losing the order', async () => {
    const last = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/9', action: 'deny' })).json.id;
    const first = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/1', action: 'allow', before: last })).json.id;
    const made: number[] = [];
    // Each new rule goes right before `last`, so halving the same gap runs out of precision.
    for (let i = 0; i < 60; i++) made.push((await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: `tcp/${100 + i}`, action: 'allow', before: last })).json.id);
    expect(ids(await t.reader('GET', '/api/v1/policies?limit=1000'))).toEqual([first, ...made, last]);
  });

  it('filters and pages the list', async () => {
    const a = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', action: 'allow' })).json.id;
    const b = (await t.admin('POST', '/api/v1/policies', { from: 'svc.api', to: 'svc.db', action: 'deny', enabled: false })).json.id;
    const c = (await t.admin('POST', '/api/v1/policies', { from: 'svc.db', to: 'external', action: 'deny' })).json.id;
    expect(ids(await t.reader('GET', '/api/v1/policies?group=svc.api'))).toEqual([a, b]);
    expect(ids(await t.reader('GET', '/api/v1/policies?from=svc.db'))).toEqual([c]);
    expect(ids(await t.reader('GET', '/api/v1/policies?to=svc.db'))).toEqual([b]);
    expect(ids(await t.reader('GET', '/api/v1/policies?action=deny&enabled=true'))).toEqual([c]);
    expect(ids(await t.reader('GET', '/api/v1/policies?enabled=false'))).toEqual([b]);
    const page = await t.reader('GET', '/api/v1/policies?limit=1&offset=1');
    expect(page.json).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(ids(page)).toEqual([b]);
    expect((await t.reader('GET', '/api/v1/policies?limit=0')).json.error.field).toBe('query.limit');
    expect((await t.reader('GET', '/api/v1/policies?action=drop')).json.error.field).toBe('query.action');
  });
});

describe('explain', () => {
  it('answers verdict, deciding rule, enforcing side and both modes', async () => {
    const rule = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/8080', action: 'allow' })).json;
    await t.admin('PATCH', '/api/v1/groups/svc.api', { mode: 'protect' });
    const ok = await t.reader('GET', '/api/v1/policies/explain?from=web1&to=10.0.1.1&port=tcp/8080&app=HTTP');
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      verdict: 'allow',
      ruleId: rule.id,
      rule: { id: rule.id },
      enforcedBy: 'server',
      flow: { proto: 6, port: 8080, app: 'HTTP' },
      client: { kind: 'workload', workload: 'web1', mode: 'monitor', decision: { ruleId: rule.id, action: 'allow' } },
      server: { kind: 'address', workload: 'api1', mode: 'protect', decision: { ruleId: rule.id, action: 'allow' } },
    });
    const no = await t.reader('GET', '/api/v1/policies/explain?from=svc.web&to=svc.api&port=udp/53');
    expect(no.json).toMatchObject({ verdict: 'deny', ruleId: 0, rule: null, enforcedBy: 'server' });
    const mon = await t.reader('GET', '/api/v1/policies/explain?from=svc.api&to=db1&port=tcp/5432');
    expect(mon.json).toMatchObject({ verdict: 'deny', ruleId: 0, enforcedBy: 'client', server: { mode: 'monitor' } });
    const viol = await t.reader('GET', '/api/v1/policies/explain?from=db1&to=8.8.8.8&port=tcp/443');
    expect(viol.json).toMatchObject({ verdict: 'violate', ruleId: 0, enforcedBy: 'none', server: { kind: 'address', groups: ['external'], mode: null, decision: null } });
  });

  it.each([
    ['from=web1&to=api1&port=tcp/0', 'query.port', /outside/],
    ['from=web1&to=api1&port=tcp/70000', 'query.port', /outside/],
    ['from=web1&to=api1&port=xyz/80', 'query.port', /not a protocol/],
    ['from=web1&to=api1&port=tcp/90-80', 'query.port', /range ends/],
    ['from=web1&to=api1&port=tcp/80-90', 'query.port', /one port/],
    ['from=web1&to=api1&port=tcp/80&app=gopher', 'query.app', /unknown application/],
    ['from=ghost&to=api1&port=tcp/80', 'query.from', /no IP address, running workload id or group name/],
    ['from=web1&port=tcp/80', 'query.to', /required/],
    ['from=web1&to=api1&port=tcp/80&x=1', 'query.x', /unknown field/],
  ])('refuses %s naming %s', async (qs, field, msg) => {
    const r = await t.reader('GET', `/api/v1/policies/explain?${qs}`);
    expect(r.status).toBe(400);
    expect(r.json.error.field).toBe(field);
    expect(r.json.error.message).toMatch(msg);
  });
});

describe('export and import', () => {
  const DOC = {
    version: 1,
    groups: [
      { name: 'frontends', comment: 'web tier', criteria: [{ key: 'label', op: '=', value: 'tier=web' }] },
      { name: 'corp', criteria: [{ key: 'address', op: '=', value: '203.0.113.0/24' }] },
      { name: 'svc.web', mode: 'protect' },
      { name: 'svc.batch', mode: 'monitor' },
    ],
    rules: [
      { from: 'corp', to: 'frontends', ports: 'tcp/443', action: 'allow', comment: 'office' },
      { from: 'svc.web', to: 'svc.api', ports: 'tcp/8080', apps: ['HTTP'], action: 'allow' },
      { from: 'svc.web', to: 'external', action: 'deny', enabled: false },
    ],
  };

  it('imports JSON idempotently: the second time changes nothing and bumps no revision', async () => {
    const first = await t.admin('POST', '/api/v1/policies/import', DOC);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ groupsCreated: 3, groupsUpdated: 1, rulesCreated: 3, rulesUpdated: 0, rulesDeleted: 0 });
    expect(first.json.revision).toBeGreaterThan(0);
    const rev = await currentRevision(t.ctx);
    const before = await t.admin('GET', '/api/v1/policies/export');
    const again = await t.admin('POST', '/api/v1/policies/import', DOC);
    expect(again.json).toEqual({ groupsCreated: 0, groupsUpdated: 0, rulesCreated: 0, rulesUpdated: 0, rulesDeleted: 0, reordered: false, revision: null });
    expect(await currentRevision(t.ctx)).toBe(rev);
    expect((await t.admin('GET', '/api/v1/policies/export')).json).toEqual(before.json);
    expect((await t.admin('GET', '/api/v1/groups/svc.web')).json.mode).toBe('protect');
    expect((await t.admin('GET', '/api/v1/groups/frontends/members')).json.items).toEqual([]);
  });

  it('imports YAML, and replace mode deletes unlisted rules and takes the document order', async () => {
    const keep = (await t.admin('POST', '/api/v1/policies', { from: 'svc.web', to: 'svc.api', ports: 'tcp/8080', apps: ['HTTP'], action: 'allow' })).json.id;
    const drop = (await t.admin('POST', '/api/v1/policies', { from: 'svc.db', to: 'external', action: 'deny' })).json.id;
    const r = await t.admin('POST', '/api/v1/policies/import?mode=replace', YAML.stringify(DOC), { 'content-type': 'application/yaml' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ rulesCreated: 2, rulesUpdated: 0, rulesDeleted: 1, reordered: true });
    const list = (await t.admin('GET', '/api/v1/policies')).json.items;
    expect(list.map((x: { from: string; to: string }) => `${x.from}>${x.to}`)).toEqual(['corp>frontends', 'svc.web>svc.api', 'svc.web>external']);
    expect(list[1].id).toBe(keep);
    expect(list.some((x: { id: number }) => x.id === drop)).toBe(false);
    const again = await t.admin('POST', '/api/v1/policies/import?mode=replace', YAML.stringify(DOC), { 'content-type': 'text/yaml' });
    expect(again.json.revision).toBeNull();
  });

  it('round-trips: export from one controller, import into another, same document', async () => {
    await t.admin('POST', '/api/v1/policies/import', DOC);
    await t.admin('POST', '/api/v1/groups', { name: 'dbs', criteria: [{ key: 'image', op: 'regex', value: '^postgres:' }] });
    await t.admin('POST', '/api/v1/policies', { from: 'svc.api', to: 'dbs', ports: 'tcp/5432,tcp/6432', action: 'allow', before: 1 });
    const yamlDoc = await t.admin('GET', '/api/v1/policies/export?format=yaml');
    expect(yamlDoc.headers['content-type']).toMatch(/application\/yaml/);
    const exported = YAML.parse(yamlDoc.body);
    expect(exported).toEqual((await t.admin('GET', '/api/v1/policies/export')).json);

    const other = await setup();
    try {
      const r = await other.admin('POST', '/api/v1/policies/import', yamlDoc.body, { 'content-type': 'application/yaml' });
      expect(r.status).toBe(200);
      const strip = (d: { rules: object[] }) => ({ ...d, rules: d.rules.map((x) => ({ ...x, id: undefined })) });
      const back = (await other.admin('GET', '/api/v1/policies/export')).json;
      expect(strip(back)).toEqual(strip(exported));
      expect((await other.admin('POST', '/api/v1/policies/import', back)).json.revision).toBeNull();
    } finally {
      await other.close();
    }
  });

  it.each([
    [{ ...DOC, rules: [{ from: 'corp', to: 'frontends', ports: 'tcp/0', action: 'allow' }] }, 'body.rules.0.ports'],
    [{ ...DOC, rules: [{ from: 'corp', to: 'nowhere', action: 'allow' }] }, 'body.rules.0.to'],
    [{ ...DOC, groups: [{ name: 'g', criteria: [{ key: 'image', op: 'regex', value: '(a+)+$' }] }] }, 'body.groups.0.criteria.0.value'],
    [{ ...DOC, groups: [{ name: 'g', mode: 'protect' }] }, 'body.groups.0.mode'],
    [{ ...DOC, groups: [{ name: 'svc.x', criteria: [] }] }, 'body.groups.0.criteria'],
    [{ ...DOC, groups: [{ name: 'external', criteria: [] }] }, 'body.groups.0.name'],
    [{ ...DOC, groups: [DOC.groups[0], DOC.groups[0]] }, 'body.groups.1.name'],
    [{ ...DOC, version: 2 }, 'body.version'],
    [{ ...DOC, extra: true }, 'body.extra'],
  ])('refuses a bad document (%#) naming the field, storing nothing', async (doc, field) => {
    const rev = await currentRevision(t.ctx);
    const r = await t.admin('POST', '/api/v1/policies/import', doc);
    expect(r.status).toBe(400);
    expect(r.json.error.field).toBe(field);
    expect(await currentRevision(t.ctx)).toBe(rev);
    expect((await t.admin('GET', '/api/v1/policies')).json.total).toBe(0);
    expect((await t.admin('GET', '/api/v1/groups/frontends')).status).toBe(404);
  });

  it('refuses YAML that does not parse, and imports by a reader', async () => {
    const r = await t.admin('POST', '/api/v1/policies/import', 'version: 1\ngroups: [\n', { 'content-type': 'application/yaml' });
    expect(r.status).toBe(400);
    expect(r.json.error.field).toBe('body');
    expect((await t.reader('POST', '/api/v1/policies/import', DOC)).status).toBe(403);
  });
});
