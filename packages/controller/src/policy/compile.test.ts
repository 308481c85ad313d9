/**
 * Policy semantics, table-driven, on an in-memory snapshot: what each workload's DP receives
 * (compile) and what explain says for flows between them, which must agree.
 */
import { describe, expect, it } from 'vitest';
import { compileSnapshot, fingerprint } from './compile.js';
import { benchCompile } from './compile-bench.js';
import type { Criterion } from './criteria.js';
import { Evaluator, explainFlow, resolveEndpoint, parseFlowPort } from './explain.js';
import { buildSnapshot, workloadFacts, type PolicySnapshot } from './membership.js';
import { type Group, type Mode, type Rule, RESERVED_GROUPS } from './model.js';

type Crit = Criterion[];

const group = (name: string, criteria: Crit = [], kind: Group['kind'] = 'user', mode: Mode | null = null): Group => ({
  name,
  comment: '',
  criteria,
  kind,
  mode,
  createdAt: 0,
  updatedAt: 0,
});
const svc = (s: string, mode: Mode) => group(`svc.${s}`, [{ key: 'service', op: '=', value: s }], 'service', mode);

let nextId = 1;
const rule = (from: string, to: string, ports: string, action: Rule['action'], extra: Partial<Rule> = {}): Rule => {
  const id = extra.id ?? nextId++;
  return { id, position: id, from, to, ports, apps: ['any'], action, enabled: true, comment: '', hits: 0, lastHit: null, createdAt: 0, updatedAt: 0, ...extra };
};

const wl = (id: string, service: string, ips: string[], labels: Record<string, string> = {}, image = `${service}:1`, host = '192.168.1.10') =>
  workloadFacts({ id, name: id, image, service, host, labels: JSON.stringify(labels), interfaces: JSON.stringify([{ name: 'eth0', mac: '', ips }]) });

const WORKLOADS = [
  wl('web1', 'web', ['10.0.0.1'], { tier: 'web' }, 'nginx:1.25'),
  wl('web2', 'web', ['10.0.0.2/16'], { tier: 'web' }, 'nginx:1.25', '192.168.1.11'),
  wl('api1', 'api', ['10.0.1.1', 'fd00:0:0:0::11'], { tier: 'api' }),
  wl('db1', 'db', ['10.0.2.1'], { tier: 'db' }, 'postgres:16'),
  wl('noip', 'batch', []),
];

const RULES: Rule[] = [
  rule('svc.web', 'svc.api', 'tcp/8080', 'allow', { id: 1 }),
  rule('svc.api', 'svc.db', 'tcp/5432', 'allow', { id: 2, apps: ['PostgreSQL'] }),
  rule('svc.api', 'svc.db', 'any', 'deny', { id: 3 }),
  rule('svc.web', 'external', 'tcp/443', 'allow', { id: 4 }),
  rule('svc.web', 'svc.db', 'any', 'allow', { id: 5, enabled: false }),
  rule('svc.api', 'dns-pay', 'tcp/443', 'allow', { id: 6 }),
  rule('net-corp', 'svc.web', 'tcp/80', 'allow', { id: 7 }),
  rule('svc.api', 'empty', 'any', 'allow', { id: 8 }),
  rule('svc.db', 'nodes', 'tcp/9100', 'allow', { id: 9 }),
  rule('v6net', 'containers', 'udp/53', 'allow', { id: 10 }),
];

function snapshot(modes: { web: Mode; api: Mode; db?: Mode }, rules = RULES): PolicySnapshot {
  const groups = [
    ...RESERVED_GROUPS.map((n) => group(n, [], 'reserved')),
    svc('web', modes.web),
    svc('api', modes.api),
    svc('db', modes.db ?? 'monitor'),
    svc('batch', 'monitor'),
    group('net-corp', [{ key: 'address', op: '=', value: '203.0.113.0/24' }]),
    group('dns-pay', [{ key: 'domain', op: '=', value: '*.pay.example' }]),
    group('v6net', [{ key: 'address', op: '=', value: 'fd00::/64' }]),
    group('empty', [{ key: 'image', op: '=', value: 'nothing-runs-this' }]),
  ];
  const dns = new Map([['198.51.100.7', ['api.pay.example']]]);
  return buildSnapshot(7, groups, rules, WORKLOADS, ['192.168.1.10', '192.168.1.11', 'node-name-not-an-ip'], dns);
}

describe('compile', () => {
  const snap = snapshot({ web: 'protect', api: 'monitor' });
  const out = compileSnapshot(snap, ['web1', 'api1', 'db1', 'noip', 'gone']);

  it('gives each workload its mode, egress and ingress rules in order, external rules last, disabled and empty-peer rules left out', () => {
    expect(out.get('web1')).toEqual({
      mode: 'protect',
      rules: [
        { id: 1, from: ['10.0.0.1'], to: ['10.0.1.1', 'fd00::11'], ports: 'tcp/8080', apps: ['any'], action: 'allow' },
        { id: 7, from: ['203.0.113.0/24'], to: ['10.0.0.1'], ports: 'tcp/80', apps: ['any'], action: 'allow' },
        { id: 10, from: ['fd00::/64'], to: ['10.0.0.1'], ports: 'udp/53', apps: ['any'], action: 'allow' },
        { id: 4, from: ['10.0.0.1'], to: ['any'], ports: 'tcp/443', apps: ['any'], action: 'allow' },
      ],
    });
    // api1 is in v6net (from) and in containers (to) of rule 10: an egress and an ingress spec.
    expect(out.get('api1')?.rules.map((r) => r.id)).toEqual([1, 2, 3, 6, 10, 10]);
    expect(out.get('api1')?.rules.find((r) => r.id === 6)?.to).toEqual(['*.pay.example']);
    expect(out.get('api1')?.rules.filter((r) => r.id === 10)).toEqual([
      { id: 10, from: ['10.0.1.1', 'fd00::11'], to: ['10.0.0.1', '10.0.0.2', '10.0.1.1', 'fd00::11', '10.0.2.1'], ports: 'udp/53', apps: ['any'], action: 'allow' },
      { id: 10, from: ['fd00::/64'], to: ['10.0.1.1', 'fd00::11'], ports: 'udp/53', apps: ['any'], action: 'allow' },
    ]);
  });

  it('compiles app rules with their applications and ingress peers', () => {
    expect(out.get('db1')?.rules).toEqual([
      { id: 2, from: ['10.0.1.1', 'fd00::11'], to: ['10.0.2.1'], ports: 'tcp/5432', apps: ['PostgreSQL'], action: 'allow' },
      { id: 3, from: ['10.0.1.1', 'fd00::11'], to: ['10.0.2.1'], ports: 'any', apps: ['any'], action: 'deny' },
      { id: 9, from: ['10.0.2.1'], to: ['192.168.1.10', '192.168.1.11'], ports: 'tcp/9100', apps: ['any'], action: 'allow' },
      { id: 10, from: ['fd00::/64'], to: ['10.0.2.1'], ports: 'udp/53', apps: ['any'], action: 'allow' },
    ]);
  });

  it('gives a workload without addresses no rules, and skips unknown ids', () => {
    expect(out.get('noip')).toEqual({ mode: 'monitor', rules: [] });
    expect(out.has('gone')).toBe(false);
  });

  it('places an external rule after a later specific one but keeps order inside each part', () => {
    const rules = [rule('svc.web', 'external', 'any', 'deny', { id: 20, position: 1 }), rule('svc.web', 'svc.api', 'any', 'allow', { id: 21, position: 2 }), rule('svc.web', 'external', 'tcp/443', 'allow', { id: 22, position: 3 })];
    const ids = compileSnapshot(snapshot({ web: 'protect', api: 'protect' }, rules), ['web1']).get('web1')?.rules.map((r) => r.id);
    expect(ids).toEqual([21, 20, 22]);
  });

  it('emits a rule twice (egress and ingress) when the workload is on both sides', () => {
    const rules = [rule('svc.web', 'svc.web', 'tcp/7000', 'allow', { id: 30 })];
    const specs = compileSnapshot(snapshot({ web: 'monitor', api: 'monitor' }, rules), ['web1']).get('web1')?.rules;
    expect(specs).toEqual([
      { id: 30, from: ['10.0.0.1'], to: ['10.0.0.1', '10.0.0.2'], ports: 'tcp/7000', apps: ['any'], action: 'allow' },
      { id: 30, from: ['10.0.0.1', '10.0.0.2'], to: ['10.0.0.1'], ports: 'tcp/7000', apps: ['any'], action: 'allow' },
    ]);
  });

  it('fingerprints change with the policy and not otherwise', () => {
    const a = compileSnapshot(snapshot({ web: 'monitor', api: 'monitor' }), ['web1', 'api1']);
    const b = compileSnapshot(snapshot({ web: 'monitor', api: 'protect' }), ['web1', 'api1']);
    const t = new WeakMap<readonly string[], string>();
    expect(fingerprint(a.get('web1')!, t)).toBe(fingerprint(b.get('web1')!, new WeakMap()));
    expect(fingerprint(a.get('api1')!, t)).not.toBe(fingerprint(b.get('api1')!, t));
  });

  it('compiles 2,000 workloads × 400 rules through the benchmark hook, every workload present', () => {
    const r = benchCompile({ workloads: 2000, rules: 400 });
    expect(r.workloads).toBe(2000);
    expect(r.specs).toBeGreaterThan(2000);
    expect(r.totalMs).toBeGreaterThan(0);
  });
});

describe('membership', () => {
  const snap = snapshot({ web: 'monitor', api: 'monitor' });
  it.each([
    ['containers', ['api1', 'db1', 'noip', 'web1', 'web2']],
    ['svc.web', ['web1', 'web2']],
    ['v6net', ['api1']],
    ['external', []],
    ['nodes', []],
    ['empty', []],
  ])('%s has %j', (g, ids) => {
    expect([...(snap.members.get(g) ?? [])].sort()).toEqual(ids);
  });
  it('nodes are the hosts that are addresses; containers peers are every workload address', () => {
    expect(snap.peers.get('nodes')).toEqual(['192.168.1.10', '192.168.1.11']);
    expect(snap.peers.get('containers')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.1.1', 'fd00::11', '10.0.2.1']);
    expect(snap.peers.get('external')).toEqual(['any']);
  });
});

interface Case {
  name: string;
  modes: { web: Mode; api: Mode; db?: Mode };
  from: string;
  to: string;
  port: string;
  app?: string;
  verdict: 'allow' | 'deny' | 'violate';
  ruleId: number;
  enforcedBy: 'client' | 'server' | 'both' | 'none';
  client?: [number, 'allow' | 'deny'] | null;
  server?: [number, 'allow' | 'deny'] | null;
}

const CASES: Case[] = [
  { name: 'first matching allow', modes: { web: 'protect', api: 'protect' }, from: 'web1', to: 'api1', port: 'tcp/8080', verdict: 'allow', ruleId: 1, enforcedBy: 'both', client: [1, 'allow'], server: [1, 'allow'] },
  { name: 'implicit deny, both Protect', modes: { web: 'protect', api: 'protect' }, from: 'web1', to: 'api1', port: 'tcp/9090', verdict: 'deny', ruleId: 0, enforcedBy: 'both', client: [0, 'deny'], server: [0, 'deny'] },
  { name: 'implicit deny, both Monitor → violate', modes: { web: 'monitor', api: 'monitor' }, from: 'web1', to: 'api1', port: 'tcp/9090', verdict: 'violate', ruleId: 0, enforcedBy: 'none' },
  { name: 'client Protect enforces at its egress', modes: { web: 'protect', api: 'monitor' }, from: 'web1', to: 'api1', port: 'tcp/9090', verdict: 'deny', ruleId: 0, enforcedBy: 'client' },
  { name: 'server Protect enforces at its ingress', modes: { web: 'monitor', api: 'protect' }, from: 'web1', to: 'api1', port: 'udp/9090', verdict: 'deny', ruleId: 0, enforcedBy: 'server' },
  { name: 'app rule matches the named app', modes: { web: 'monitor', api: 'protect' }, from: 'api1', to: 'db1', port: 'tcp/5432', app: 'postgresql', verdict: 'allow', ruleId: 2, enforcedBy: 'client' },
  { name: 'app rule skipped for another app; later deny decides', modes: { web: 'monitor', api: 'protect' }, from: 'api1', to: 'db1', port: 'tcp/5432', app: 'Redis', verdict: 'deny', ruleId: 3, enforcedBy: 'client' },
  { name: 'app rule skipped when the app is unknown', modes: { web: 'monitor', api: 'monitor' }, from: 'api1', to: 'db1', port: 'tcp/5432', verdict: 'violate', ruleId: 3, enforcedBy: 'none' },
  { name: 'disabled rule is ignored', modes: { web: 'protect', api: 'monitor' }, from: 'web1', to: 'db1', port: 'tcp/5432', verdict: 'deny', ruleId: 0, enforcedBy: 'client', client: [0, 'deny'], server: [0, 'deny'] },
  { name: 'external address', modes: { web: 'protect', api: 'monitor' }, from: 'web1', to: '8.8.8.8', port: 'tcp/443', verdict: 'allow', ruleId: 4, enforcedBy: 'client', client: [4, 'allow'], server: null },
  { name: 'external rule is any at the client; the server still denies', modes: { web: 'monitor', api: 'protect' }, from: 'web1', to: 'api1', port: 'tcp/443', verdict: 'deny', ruleId: 0, enforcedBy: 'server', client: [4, 'allow'], server: [0, 'deny'] },
  { name: 'FQDN group through DNS answers', modes: { web: 'monitor', api: 'protect' }, from: 'api1', to: '198.51.100.7', port: 'tcp/443', verdict: 'allow', ruleId: 6, enforcedBy: 'client' },
  { name: 'FQDN group: unresolved address is not in it', modes: { web: 'monitor', api: 'protect' }, from: 'api1', to: '198.51.100.8', port: 'tcp/443', verdict: 'deny', ruleId: 0, enforcedBy: 'client' },
  { name: 'CIDR group as client; only the server end holds a policy', modes: { web: 'protect', api: 'monitor' }, from: '203.0.113.9', to: 'web1', port: 'tcp/80', verdict: 'allow', ruleId: 7, enforcedBy: 'server', client: null, server: [7, 'allow'] },
  { name: 'IPv6 CIDR group to containers', modes: { web: 'monitor', api: 'protect' }, from: 'fd00::99', to: 'api1', port: 'udp/53', verdict: 'allow', ruleId: 10, enforcedBy: 'server' },
  { name: 'workload addressed by its IPv6 address', modes: { web: 'protect', api: 'protect' }, from: 'web1', to: 'fd00::11', port: 'tcp/8080', verdict: 'allow', ruleId: 1, enforcedBy: 'both' },
  { name: 'nodes group', modes: { web: 'monitor', api: 'monitor', db: 'protect' }, from: 'db1', to: '192.168.1.11', port: 'tcp/9100', verdict: 'allow', ruleId: 9, enforcedBy: 'client' },
  { name: 'hypothetical: group to group', modes: { web: 'protect', api: 'monitor' }, from: 'svc.web', to: 'svc.api', port: 'tcp/8080', verdict: 'allow', ruleId: 1, enforcedBy: 'client' },
  { name: 'hypothetical: to a group of mixed modes', modes: { web: 'protect', api: 'monitor' }, from: 'v6net', to: 'containers', port: 'udp/53', verdict: 'allow', ruleId: 10, enforcedBy: 'none' },
  { name: 'two addresses: no end enforces, rules still decide', modes: { web: 'protect', api: 'protect' }, from: '8.8.8.8', to: '9.9.9.9', port: 'tcp/443', verdict: 'violate', ruleId: 0, enforcedBy: 'none', client: null, server: null },
];

describe('explain', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const snap = snapshot(c.modes);
    const ev = new Evaluator(snap);
    const client = resolveEndpoint(snap, c.from, 'query.from');
    const server = resolveEndpoint(snap, c.to, 'query.to');
    const { proto, port } = parseFlowPort(c.port, 'query.port');
    const e = explainFlow(ev, client, server, { proto, port, app: c.app ?? null });
    expect({ verdict: e.verdict, ruleId: e.ruleId, enforcedBy: e.enforcedBy }).toEqual({ verdict: c.verdict, ruleId: c.ruleId, enforcedBy: c.enforcedBy });
    if (c.client !== undefined) expect(e.client.decision && [e.client.decision.ruleId, e.client.decision.action]).toEqual(c.client);
    if (c.server !== undefined) expect(e.server.decision && [e.server.decision.ruleId, e.server.decision.action]).toEqual(c.server);
    expect(e.rule?.id ?? 0).toBe(c.ruleId);
  });

  it('names both ends\' modes and groups', () => {
    const snap = snapshot({ web: 'protect', api: 'monitor' });
    const e = explainFlow(new Evaluator(snap), resolveEndpoint(snap, 'web1', 'f'), resolveEndpoint(snap, 'api1', 't'), { proto: 6, port: 8080, app: null });
    expect(e.client).toMatchObject({ kind: 'workload', workload: 'web1', mode: 'protect', groups: ['containers', 'svc.web'] });
    expect(e.server).toMatchObject({ kind: 'workload', workload: 'api1', mode: 'monitor', groups: ['containers', 'svc.api', 'v6net'] });
  });

  it('agrees with the compiled rules: the first compiled spec that matches decides at each end', () => {
    // Brute force over flows between the fixture's workloads: the compiled spec order and explain's
    // side decision must name the same rule.
    const snap = snapshot({ web: 'protect', api: 'protect', db: 'protect' });
    const ev = new Evaluator(snap);
    const compiled = compileSnapshot(snap, snap.workloads.keys());
    const ids = ['web1', 'api1', 'db1'];
    for (const c of ids) {
      for (const s of ids) {
        if (c === s) continue;
        for (const port of [80, 443, 5432, 8080, 9100]) {
          const client = resolveEndpoint(snap, c, 'f');
          const server = resolveEndpoint(snap, s, 't');
          const cIp = snap.workloads.get(c)!.ips[0];
          const sIp = snap.workloads.get(s)!.ips[0];
          const first = (w: string) =>
            compiled.get(w)!.rules.find((r) => (r.from.includes(cIp) || r.from.includes('any')) && (r.to.includes(sIp) || r.to.includes('any')) && (r.ports === 'any' || r.ports === `tcp/${port}`) && r.apps.includes('any'))?.id ?? 0;
          expect(ev.decide('client', client, server, { proto: 6, port, app: null }).ruleId, `${c}→${s}:${port} client`).toBe(first(c));
          expect(ev.decide('server', client, server, { proto: 6, port, app: null }).ruleId, `${c}→${s}:${port} server`).toBe(first(s));
        }
      }
    }
  });

  it.each([
    ['tcp/80-90', /one port/],
    ['any', /one protocol and port/],
    ['tcp/0', /outside/],
    ['xyz/1', /not a protocol/],
  ])('refuses port %j', (p, msg) => {
    expect(() => parseFlowPort(p, 'query.port')).toThrow(msg);
  });

  it('refuses an endpoint that is nothing known', () => {
    const snap = snapshot({ web: 'monitor', api: 'monitor' });
    expect(() => resolveEndpoint(snap, 'no-such-thing', 'query.to')).toThrow(/query.to: "no-such-thing" is no IP address/);
  });
});
