import type { RuleSpec } from '@mseg/dp';
import { describe, expect, it } from 'vitest';
import { compileDirection, type Group } from './compile.js';
import { netText } from './peers.js';

const SELF = ['10.0.0.2', 'fd00::2'];

function rule(id: number, r: Partial<RuleSpec>): RuleSpec {
  return { id, from: ['any'], to: ['any'], ports: 'any', apps: ['any'], action: 'allow', ...r };
}

/** Groups as readable lines: action/rule, then each element. */
function show(groups: Group[]): string[] {
  return groups.flatMap((g) => [
    `${g.action} ${g.ruleId}`,
    ...g.any.map((n) => `  ${netText(n)}`),
    ...g.proto.map((e) => `  ${netText(e.net)} . ${e.proto}`),
    ...g.ports.map((e) => `  ${netText(e.net)} . ${e.proto} . ${e.lo}-${e.hi}`),
  ]);
}

describe('policy compilation for the kernel', () => {
  it('takes rules for the side the workload is on: to → in (peers from), from → out (peers to)', () => {
    const rules = [
      rule(1, { from: ['10.0.1.0/24'], to: ['10.0.0.2'], ports: 'tcp/80' }),
      rule(2, { from: ['10.0.0.2'], to: ['10.0.9.9'], ports: 'tcp/5432' }),
      rule(3, { from: ['10.0.1.0/24'], to: ['10.0.0.3'], ports: 'tcp/22' }),
    ];
    expect(show(compileDirection('in', rules, SELF, new Map()))).toEqual(['allow 1', '  10.0.1.0/24 . 6 . 80-80']);
    expect(show(compileDirection('out', rules, SELF, new Map()))).toEqual(['allow 2', '  10.0.9.9 . 6 . 5432-5432']);
  });

  it('merges consecutive allows into one group, keeps each deny apart and in order', () => {
    const rules = [
      rule(1, { from: ['10.0.1.0/24'], to: SELF, ports: 'tcp/80' }),
      rule(2, { from: ['10.0.2.0/24'], to: SELF, ports: 'tcp/80' }),
      rule(3, { from: ['10.0.3.0/24'], to: SELF, ports: 'tcp/22', action: 'deny' }),
      rule(4, { from: ['10.0.4.0/24'], to: SELF, ports: 'tcp/23', action: 'deny' }),
      rule(5, { from: ['any'], to: SELF, ports: 'tcp/22' }),
    ];
    expect(show(compileDirection('in', rules, SELF, new Map()))).toEqual([
      'allow 1', '  10.0.1.0/24 . 6 . 80-80', '  10.0.2.0/24 . 6 . 80-80',
      'deny 3', '  10.0.3.0/24 . 6 . 22-22',
      'deny 4', '  10.0.4.0/24 . 6 . 23-23',
      'allow 5', '  0.0.0.0/0 . 6 . 22-22', '  ::/0 . 6 . 22-22',
    ]);
  });

  it('allows application rules provisionally and leaves application denies to the DP', () => {
    const rules = [
      rule(1, { from: ['10.0.1.5'], to: SELF, ports: 'tcp/80', apps: ['HTTP'] }),
      rule(2, { from: ['10.0.1.5'], to: SELF, ports: 'tcp/443', apps: ['SSH'], action: 'deny' }),
    ];
    expect(show(compileDirection('in', rules, SELF, new Map()))).toEqual(['allow 1', '  10.0.1.5 . 6 . 80-80']);
  });

  it('makes elements disjoint: nested networks and overlapping port ranges, families apart', () => {
    const rules = [
      rule(1, { from: ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', 'fd00::/16', 'fd00:1::/32'], to: SELF, ports: 'tcp/80-90' }),
      rule(2, { from: ['10.1.0.0/16'], to: SELF, ports: 'tcp/85-100,udp/53,icmp' }),
      rule(3, { from: ['192.168.0.0/16'], to: SELF, ports: 'any' }),
      rule(4, { from: ['192.168.1.1'], to: SELF, ports: 'tcp/80' }),
    ];
    expect(show(compileDirection('in', rules, SELF, new Map()))).toEqual([
      'allow 1',
      '  192.168.0.0/16',
      '  10.1.0.0/16 . 1',
      '  10.0.0.0/8 . 6 . 80-90',
      '  fd00::/16 . 6 . 80-90',
      '  10.1.0.0/16 . 6 . 91-100',
      '  10.1.0.0/16 . 17 . 53-53',
    ]);
  });

  it('resolves domains and wildcards through the FQDN map; unknown names add nothing', () => {
    const fqdn = new Map([
      ['db.example.com', ['10.5.0.9']],
      ['cache.example.com', ['10.5.0.10', 'fd00::10']],
      ['other.test', ['10.6.0.1']],
    ]);
    const rules = [
      rule(1, { from: SELF, to: ['db.example.com'], ports: 'tcp/5432' }),
      rule(2, { from: SELF, to: ['*.example.com'], ports: 'tcp/6379' }),
      rule(3, { from: SELF, to: ['missing.example.org'], ports: 'tcp/1' }),
    ];
    expect(show(compileDirection('out', rules, SELF, fqdn))).toEqual([
      'allow 1',
      '  10.5.0.9 . 6 . 5432-5432',
      '  10.5.0.9 . 6 . 6379-6379',
      '  10.5.0.10 . 6 . 6379-6379',
      '  fd00::10 . 6 . 6379-6379',
    ]);
  });
});
