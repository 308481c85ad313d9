import type { RuleSpec } from '@mseg/dp';
import { describe, expect, it } from 'vitest';
import { compileDirection } from './compile.js';
import { adoptRules, ServiceModes } from './provisional.js';

const rule = (id: number, from: string[], to: string[], ports = 'tcp/80'): RuleSpec => ({ id, from, to, ports, apps: ['any'], action: 'allow' });
// web1 (10.0.0.1) as the controller compiled it: serves tcp/80 to 10.0.9.0/24, calls db 10.0.2.1.
const WEB1 = [rule(1, ['10.0.9.0/24'], ['10.0.0.1']), rule(2, ['10.0.0.1'], ['10.0.2.1'], 'tcp/5432'), rule(3, ['10.0.7.7'], ['any'], 'udp/53')];

describe('provisional rules for a new member of a Protect service', () => {
  it('adds the new addresses to the sides that named the template member, peers unchanged', () => {
    expect(adoptRules(WEB1, ['10.0.0.1'], ['10.0.0.5'])).toEqual([
      rule(1, ['10.0.9.0/24'], ['10.0.0.1', '10.0.0.5']),
      rule(2, ['10.0.0.1', '10.0.0.5'], ['10.0.2.1'], 'tcp/5432'),
      // `any` covers the template too: the side is widened, which changes nothing it matches.
      rule(3, ['10.0.7.7'], ['any', '10.0.0.5'], 'udp/53'),
    ]);
    const adopted = adoptRules(WEB1, ['10.0.0.1'], ['10.0.0.5']);
    const inbound = compileDirection('in', adopted, ['10.0.0.5'], new Map());
    const outbound = compileDirection('out', adopted, ['10.0.0.5'], new Map());
    expect(inbound.flatMap((g) => g.ports.map((p) => `${p.net.addr}/${p.net.len} ${p.proto} ${p.lo}`))).toEqual(['10.0.9.0/24 6 80', '10.0.7.7/32 17 53']);
    expect(outbound.flatMap((g) => g.ports.map((p) => `${p.net.addr}/${p.net.len} ${p.proto} ${p.lo}`))).toEqual(['10.0.2.1/32 6 5432']);
    // Unadopted, only the rule whose own side is `any` would apply to the new address.
    expect(compileDirection('in', WEB1, ['10.0.0.5'], new Map()).flatMap((g) => g.ports.map((p) => `${p.net.addr}/${p.net.len} ${p.proto} ${p.lo}`))).toEqual(['10.0.7.7/32 17 53']);
  });

  it('knows a service in Protect from its members, keeps it after they are gone, and copies a member by id', () => {
    const s = new ServiceModes();
    expect(s.provisional('web', ['10.0.0.5'])).toBeNull();
    const other = [rule(9, ['10.0.9.9'], ['10.0.0.2'])];
    s.learn(
      [
        { id: 'b', service: 'web', ips: ['10.0.0.2'] },
        { id: 'a', service: 'web', ips: ['10.0.0.1'] },
        { id: 'c', service: 'db', ips: ['10.0.2.1'] },
      ],
      new Map([
        ['b', { mode: 'protect' as const, rules: other }],
        ['a', { mode: 'protect' as const, rules: WEB1 }],
        ['c', { mode: 'monitor' as const, rules: [] }],
      ]),
    );
    expect(s.provisional('web', ['10.0.0.5'])).toEqual(adoptRules(WEB1, ['10.0.0.1'], ['10.0.0.5']));
    expect(s.provisional('db', ['10.0.2.9'])).toBeNull();
    expect(s.provisional('unknown', ['10.0.3.1'])).toBeNull();
    s.learn([], new Map());
    expect(s.provisional('web', ['10.0.0.5'])).toEqual(adoptRules(WEB1, ['10.0.0.1'], ['10.0.0.5']));
  });

  it('fails closed: Protect wins over Monitor within a service; without a template no rule is allowed', () => {
    const s = new ServiceModes();
    s.learn(
      [
        { id: 'a', service: 'web', ips: ['10.0.0.1'] },
        { id: 'b', service: 'web', ips: [] },
      ],
      new Map([
        ['a', { mode: 'monitor' as const, rules: [] }],
        ['b', { mode: 'protect' as const, rules: [] }],
      ]),
    );
    expect(s.provisional('web', ['10.0.0.5'])).toEqual([]);
    // The group went back to Monitor: its members say so, and new members are left open.
    s.learn([{ id: 'a', service: 'web', ips: ['10.0.0.1'] }], new Map([['a', { mode: 'monitor' as const, rules: [] }]]));
    expect(s.provisional('web', ['10.0.0.5'])).toBeNull();
  });
});
