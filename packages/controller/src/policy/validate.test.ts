import { describe, expect, it } from 'vitest';
import type { Criterion } from './model.js';
import { checkApps, checkCriteria, checkPorts, checkRegex, checkUserGroupName } from './validate.js';

function failure(fn: () => unknown): { code: string; field: string; message: string } {
  try {
    fn();
  } catch (e) {
    const err = e as { code: string; field: string; message: string };
    return { code: err.code, field: err.field, message: err.message };
  }
  throw new Error('expected a validation error');
}

describe('checkPorts', () => {
  it.each([
    ['any', 'any'],
    ['', 'any'],
    ['TCP/80', 'tcp/80'],
    ['tcp/80,udp/53,tcp/8000-8080', 'tcp/80,udp/53,tcp/8000-8080'],
    ['icmp', 'icmp'],
    ['tcp', 'tcp'],
  ])('accepts %j as %j', (input, out) => {
    expect(checkPorts(input, 'body.ports')).toBe(out);
  });

  it.each([
    ['tcp/0', /port 0 is outside/],
    ['tcp/70000', /port 70000 is outside/],
    ['xyz/80', /"xyz" is not a protocol/],
    ['tcp/90-80', /range ends before it starts/],
    ['tcp/80,', /is not proto\/port/],
    ['icmp/8', /icmp has no ports/],
    ['tcp/80;drop table rules', /is not proto\/port/],
  ])('refuses %j naming the field', (input, msg) => {
    const f = failure(() => checkPorts(input, 'body.rules.3.ports'));
    expect(f.code).toBe('MSEG_ERR_VALIDATION');
    expect(f.field).toBe('body.rules.3.ports');
    expect(f.message).toMatch(msg);
  });
});

describe('checkRegex', () => {
  it.each(['^web-[0-9]+$', 'nginx|httpd', '^registry\\.local/'])('accepts %j', (p) => {
    expect(() => checkRegex(p, 'f')).not.toThrow();
  });

  it.each([
    ['(a+)+$', /exponential/],
    ['(x*)*y', /exponential/],
    ['(.*a){12}', /exponential/],
    ['([a-z]+)*$', /exponential/],
    ['(unclosed', /not a valid regex/],
    ['a'.repeat(129), /longer than 128/],
  ])('refuses %j', (p, msg) => {
    const f = failure(() => checkRegex(p, 'body.criteria.0.value'));
    expect(f.field).toBe('body.criteria.0.value');
    expect(f.message).toMatch(msg);
  });
});

describe('checkApps', () => {
  it('normalises names to the DP spelling and de-duplicates', () => {
    expect(checkApps(['http', 'HTTP', 'redis'], 'body.apps')).toEqual(['HTTP', 'Redis']);
    expect(checkApps(['ANY'], 'body.apps')).toEqual(['any']);
  });
  it.each([
    [['any', 'HTTP'], 'body.apps', /cannot be combined/],
    [[], 'body.apps', /at least one/],
    [['HTTP', 'gopher'], 'body.apps.1', /unknown application "gopher"/],
    [['unknown'], 'body.apps.0', /unknown application/],
  ])('refuses %j', (apps, field, msg) => {
    const f = failure(() => checkApps(apps, 'body.apps'));
    expect(f.field).toBe(field);
    expect(f.message).toMatch(msg);
  });
});

describe('checkCriteria', () => {
  it('normalises values', () => {
    expect(
      checkCriteria(
        [
          { key: 'domain', op: '=', value: ' *.Example.COM ' },
          { key: 'image', op: 'prefix', value: 'nginx' },
        ],
        'body.criteria',
      ),
    ).toEqual([
      { key: 'domain', op: '=', value: '*.example.com' },
      { key: 'image', op: 'prefix', value: 'nginx' },
    ]);
  });

  it.each<[Criterion[], string, RegExp]>([
    [[{ key: 'image', op: 'regex', value: '(a+)+$' }], 'body.criteria.0.value', /exponential/],
    [[{ key: 'label', op: 'regex', value: 'tier=(a|a?)+$' }], 'body.criteria.0.value', /exponential|valid/],
    [[{ key: 'label', op: 'regex', value: 'tier=([a-z]+)*$' }], 'body.criteria.0.value', /exponential/],
    [[{ key: 'address', op: '=', value: '10.0.0.0/33' }], 'body.criteria.0.value', /not an IPv4\/IPv6 address or CIDR/],
    [[{ key: 'address', op: 'contains', value: '10.0.0.1' }], 'body.criteria.0.op', /take "=" or "!="/],
    [[{ key: 'domain', op: '=', value: 'bad domain' }], 'body.criteria.0.value', /not a domain name/],
    [[{ key: 'label', op: 'prefix', value: 'tier' }], 'body.criteria.0.value', /needs "key=value"/],
    [[{ key: 'label', op: '=', value: '=x' }], 'body.criteria.0.value', /"key=value" or "key"/],
    [[{ key: 'name', op: '=', value: '  ' }], 'body.criteria.0.value', /must not be empty/],
    [
      [
        { key: 'address', op: '=', value: '10.0.0.0/8' },
        { key: 'address', op: '!=', value: '10.1.0.0/16' },
      ],
      'body.criteria.1.op',
      /cannot exclude/,
    ],
  ])('refuses %j at %s', (criteria, field, msg) => {
    const f = failure(() => checkCriteria(criteria, 'body.criteria'));
    expect(f.field).toBe(field);
    expect(f.message).toMatch(msg);
  });

  it('lets a workload group narrow by address and exclude', () => {
    expect(() =>
      checkCriteria(
        [
          { key: 'image', op: '=', value: 'nginx' },
          { key: 'address', op: '!=', value: '10.1.0.0/16' },
        ],
        'body.criteria',
      ),
    ).not.toThrow();
  });
});

describe('checkUserGroupName', () => {
  it.each([
    ['external', /reserved/],
    ['containers', /reserved/],
    ['svc.web', /service groups/],
    ['a b', /must be/],
    ["x'; drop table groups;--", /must be/],
  ])('refuses %j', (name, msg) => {
    expect(failure(() => checkUserGroupName(name, 'body.name')).message).toMatch(msg);
  });
});
