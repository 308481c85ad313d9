import { afterEach, describe, expect, it } from 'vitest';
import { FakeKernel, isWrite } from '../testing/fake-kernel.js';
import { Enforcer } from './enforcer.js';
import type { EnforceWorkload, ProtectSpec } from './types.js';

const S = '/proc/10/ns/net';
const C = '/proc/20/ns/net';

const made: Enforcer[] = [];
afterEach(async () => {
  for (const e of made.splice(0)) await e.stop();
});

function enforcer(k: FakeKernel, onApplied?: (spec: ProtectSpec) => void): Enforcer {
  // Deny logs are not read here: a reader that exits at once is enough for the reconciler tests.
  const e = new Enforcer({ runner: k, rtnl: k, onDeny: () => {}, denyLogCommand: () => ['true'], onApplied });
  made.push(e);
  return e;
}

function setup(): { k: FakeKernel; e: Enforcer; server: EnforceWorkload; client: EnforceWorkload } {
  const k = new FakeKernel();
  k.addNetns(S);
  k.addNetns(C);
  const e = enforcer(k);
  const rules = [{ id: 4, from: ['10.0.0.3'], to: ['10.0.0.2'], ports: 'tcp/80', apps: ['any'], action: 'allow' as const }];
  const server: EnforceWorkload = { workloadId: 'srv', netns: S, ips: ['10.0.0.2'], mode: 'protect', rules };
  const client: EnforceWorkload = { workloadId: 'cli', netns: C, ips: ['10.0.0.3'], mode: 'monitor', rules };
  return { k, e, server, client };
}

const nftWrites = (k: FakeKernel, from: number) => k.log.slice(from).filter(isWrite);

describe('Protect tables reconcile', () => {
  it('first apply writes one atomic script into the Protect namespace only; re-apply only reads', async () => {
    const { k, e, server, client } = setup();
    e.setWorkloads([server, client]);
    await e.settle();
    // A namespace without the table gets it from one process: asked over netlink, nothing listed.
    expect(k.log.filter((l) => l.includes(S))).toEqual([`rtnl ${S}: get nft table inet mseg`, `nsenter --net=${S} -- nft -f - <<36 lines`]);
    expect(nftWrites(k, 0)).toEqual([`nsenter --net=${S} -- nft -f - <<36 lines`]);
    const script = k.ns.get(S)!.nft.get('inet mseg')!;
    expect(script.split('\n').slice(0, 3)).toEqual(['table inet mseg {}', 'delete table inet mseg', 'table inet mseg {']);
    expect(script).toContain('set in0_v4_p { type ipv4_addr . inet_proto . inet_service; flags interval; elements = { 10.0.0.3 . 6 . 80 } }');
    expect(script).toContain('ip saddr . meta l4proto . th dport @in0_v4_p accept');
    expect(k.ns.get(C)!.nft.size).toBe(0);
    expect(e.statuses()).toMatchObject([{ key: 'srv', kind: 'done' }]);

    const before = k.log.length;
    e.tables.touch();
    await e.settle();
    expect(k.log.length).toBeGreaterThan(before);
    expect(nftWrites(k, before)).toEqual([]);
  });

  it('a changed policy replaces the table and carries live cut entries over', async () => {
    const { k, e, server, client } = setup();
    e.setWorkloads([server, client]);
    await e.settle();
    expect(await e.cut({ workloadId: 'srv', client: '10.0.0.3', server: '10.0.0.2', clientPort: 41000, serverPort: 80, proto: 6 })).toBe(true);
    expect(await e.cut({ workloadId: 'cli', client: '10.0.0.3', server: '10.0.0.2', clientPort: 41000, serverPort: 80, proto: 6 })).toBe(false);
    const before = k.log.length;
    e.setWorkloads([{ ...server, rules: [{ ...server.rules[0], ports: 'tcp/80,tcp/443' }] }, client]);
    await e.settle();
    expect(nftWrites(k, before)).toHaveLength(1);
    const script = k.ns.get(S)!.nft.get('inet mseg')!;
    expect(script).toContain('elements = { 10.0.0.3 . 6 . 80, 10.0.0.3 . 6 . 443 }');
    expect(script).toContain('elements = { 10.0.0.3 . 10.0.0.2 . 6 . 41000 . 80 timeout 60s, 10.0.0.2 . 10.0.0.3 . 6 . 80 . 41000 timeout 60s }');
  });

  it('a table changed behind our back (rule deleted) is rewritten', async () => {
    const { k, e, server, client } = setup();
    e.setWorkloads([server, client]);
    await e.settle();
    const ns = k.ns.get(S)!;
    ns.nft.set('inet mseg', ns.nft.get('inet mseg')!.replace(/\n\s*ct state invalid drop/g, ''));
    const before = k.log.length;
    e.tables.touch();
    await e.settle();
    expect(nftWrites(k, before)).toEqual([`nsenter --net=${S} -- nft -f - <<36 lines`]);
  });

  it('Monitor deletes the table; prune removes tables only from known non-Protect namespaces', async () => {
    const { k, e, server, client } = setup();
    e.setWorkloads([server, client]);
    await e.settle();
    const before = k.log.length;
    e.setWorkloads([{ ...server, mode: 'monitor' }, client]);
    await e.settle();
    expect(nftWrites(k, before)).toEqual([`nsenter --net=${S} -- nft delete table inet mseg`]);
    expect(k.ns.get(S)!.nft.size).toBe(0);

    // A table left in the client's namespace (say, by an agent killed before it could delete it)
    // goes at the first pass of a fresh enforcer; other tables stay.
    k.ns.get(C)!.nft.set('inet mseg', k.ns.get(S)!.nft.get('inet mseg') ?? 'table inet mseg {}\ndelete table inet mseg\ntable inet mseg {\n}\n');
    k.ns.get(C)!.nft.set('inet other', 'x');
    const e2 = enforcer(k);
    e2.setWorkloads([{ ...server, mode: 'monitor' }, client]);
    const mark = k.log.length;
    await e2.settle();
    expect(nftWrites(k, mark)).toEqual([`nsenter --net=${C} -- nft delete table inet mseg`]);
    expect([...k.ns.get(C)!.nft.keys()]).toEqual(['inet other']);
  });

  it('a container that is gone counts as deleted', async () => {
    const { k, e, server, client } = setup();
    e.setWorkloads([server, client]);
    await e.settle();
    k.ns.delete(S);
    e.setWorkloads([client]);
    await e.settle();
    expect(e.statuses()).toEqual([]);
  });

  it('a provisional table is replaced by the rule set from the controller, rewritten only when the rules differ', async () => {
    const k = new FakeKernel();
    k.addNetns(S);
    const applied: string[] = [];
    const e = enforcer(k, (spec) => applied.push(`${spec.workloadId}:${spec.provisional ? 'provisional' : 'own'}`));
    const rules = [{ id: 4, from: ['10.0.0.3'], to: ['10.0.0.2'], ports: 'tcp/80', apps: ['any'], action: 'allow' as const }];
    const srv = (r: typeof rules, provisional?: boolean): EnforceWorkload => ({ workloadId: 'srv', netns: S, ips: ['10.0.0.2'], mode: 'protect', rules: r, provisional });
    e.setWorkloads([srv([], true)]);
    await e.settle();
    const failClosed = k.ns.get(S)!.nft.get('inet mseg')!;
    // Fail-closed: nothing accepted but loopback, established flows, neighbour and (link-local)
    // multicast listener discovery.
    const accepts = failClosed.split('\n').map((l) => l.trim()).filter((l) => l.endsWith(' accept'));
    expect(accepts.filter((l) => !/^(iif lo|oif lo|ct state established,related|icmpv6 type .*|ip6 hoplimit 1 icmpv6 type .*) accept$/.test(l))).toEqual([]);
    expect(accepts).toHaveLength(8);
    // The controller's rules differ: one atomic rewrite.
    e.setWorkloads([srv(rules)]);
    await e.settle();
    expect(nftWrites(k, 0)).toEqual([`nsenter --net=${S} -- nft -f - <<34 lines`, `nsenter --net=${S} -- nft -f - <<36 lines`]);
    // This agent wrote the fail-closed table and put no cut entry in since: nothing to read first.
    expect(k.log.filter((l) => l.includes('nft -j list'))).toEqual([]);
    // The same rules provisional first and then as the controller's: read, not rewritten.
    e.setWorkloads([srv(rules, true)]);
    await e.settle();
    e.setWorkloads([srv(rules)]);
    await e.settle();
    expect(nftWrites(k, 0)).toHaveLength(2);
    expect(applied).toEqual(['srv:provisional', 'srv:own', 'srv:provisional', 'srv:own']);
  });
});
