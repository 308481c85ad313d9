import { describe, expect, it } from 'vitest';
import { App, APP_UNKNOWN } from '../dpi/apps.js';
import { parseAddress } from '../net/address.js';
import { Action, compilePolicy, evaluate, type Verdict } from './compiled.js';
import { FqdnTable } from './fqdn-table.js';
import { parsePorts, policySchema, describeZodError } from './model.js';

const fqdn = new FqdnTable();
fqdn.add('api.example.com', parseAddress('203.0.113.10')!);

function verdict(
  spec: unknown,
  client: string,
  server: string,
  proto: number,
  port: number,
  app = APP_UNKNOWN,
  appFinal = true,
): Verdict {
  const policy = compilePolicy(policySchema.parse(spec));
  return evaluate(policy, parseAddress(client)!, parseAddress(server)!, proto, port, app, appFinal, fqdn, { action: 0, ruleId: 0, pending: false });
}

const rules = [
  { id: 1, from: ['10.0.0.0/24'], to: ['10.0.1.5'], ports: 'tcp/80', apps: ['HTTP'], action: 'allow' },
  { id: 2, from: ['10.0.0.0/24'], to: ['10.0.1.5'], ports: 'tcp/80', action: 'deny' },
  { id: 3, from: ['any'], to: ['fd00::/64'], ports: 'udp/53,tcp/8000-8080', action: 'allow' },
  { id: 4, from: ['any'], to: ['*.example.com'], ports: 'tcp/443', action: 'allow' },
];

describe('policy evaluation', () => {
  const cases: [string, string, string, number, number, number, boolean, string, number, number, boolean][] = [
    // name, client, server, proto, port, app, appFinal, mode, expected action, rule, pending
    ['app rule matches known app', '10.0.0.9', '10.0.1.5', 6, 80, App.HTTP, true, 'protect', Action.allow, 1, false],
    ['other app falls through to the next rule', '10.0.0.9', '10.0.1.5', 6, 80, App.Redis, true, 'protect', Action.deny, 2, false],
    ['unknown app, DPI still running: provisional and pending', '10.0.0.9', '10.0.1.5', 6, 80, APP_UNKNOWN, false, 'protect', Action.allow, 1, true],
    ['unknown app after DPI gave up: app rule does not match', '10.0.0.9', '10.0.1.5', 6, 80, APP_UNKNOWN, true, 'protect', Action.deny, 2, false],
    ['no rule matches: implicit deny, rule 0', '10.0.2.9', '10.0.1.5', 6, 80, App.HTTP, true, 'protect', Action.deny, 0, false],
    ['monitor turns deny into violate', '10.0.2.9', '10.0.1.5', 6, 80, App.HTTP, true, 'monitor', Action.violate, 0, false],
    ['IPv6 CIDR and port list', '10.0.0.1', 'fd00::53', 17, 53, APP_UNKNOWN, true, 'protect', Action.allow, 3, false],
    ['port range', '10.0.0.1', 'fd00::1', 6, 8080, APP_UNKNOWN, true, 'protect', Action.allow, 3, false],
    ['outside port range', '10.0.0.1', 'fd00::1', 6, 8081, APP_UNKNOWN, true, 'protect', Action.deny, 0, false],
    ['protocol must match', '10.0.0.1', 'fd00::53', 6, 53, APP_UNKNOWN, true, 'protect', Action.deny, 0, false],
    ['FQDN wildcard via DNS-learnt name', '10.0.0.1', '203.0.113.10', 6, 443, APP_UNKNOWN, true, 'protect', Action.allow, 4, false],
    ['FQDN does not match other addresses', '10.0.0.1', '203.0.113.11', 6, 443, APP_UNKNOWN, true, 'protect', Action.deny, 0, false],
  ];
  for (const [name, c, s, proto, port, app, fin, mode, action, rule, pending] of cases) {
    it(name, () => {
      const v = verdict({ mode, rules }, c, s, proto, port, app, fin);
      expect({ action: v.action, ruleId: v.ruleId, pending: v.pending }).toEqual({ action, ruleId: rule, pending });
    });
  }

  it('first match wins by order', () => {
    const reversed = [rules[1], rules[0]];
    expect(verdict({ mode: 'protect', rules: reversed }, '10.0.0.9', '10.0.1.5', 6, 80, App.HTTP).ruleId).toBe(2);
  });
});

describe('policy validation', () => {
  it.each([
    ['tcp/0', 'port 0 is outside 1-65535'],
    ['tcp/70000', 'port 70000 is outside 1-65535'],
    ['xyz/80', '"xyz" is not a protocol'],
    ['tcp/90-80', 'range ends before it starts'],
    ['icmp/8', 'icmp has no ports'],
  ])('refuses ports %s', (ports, msg) => {
    expect(parsePorts(ports)).toContain(msg);
  });

  it('names the offending field', () => {
    const r = policySchema.safeParse({ rules: [{ id: 1, from: ['10.0.0.0/33'], action: 'allow' }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeZodError(r.error)).toMatch(/^rules\.0\.from\.0: must be/);
    const r2 = policySchema.safeParse({ rules: [{ id: 1, action: 'allow', apps: ['Gopher'] }] });
    expect(r2.success).toBe(false);
    if (!r2.success) expect(describeZodError(r2.error)).toContain('rules.0.apps.0: unknown application');
    const r3 = policySchema.safeParse({ rules: [{ id: 1, action: 'allow', extra: 1 }] });
    expect(r3.success).toBe(false);
  });
});
