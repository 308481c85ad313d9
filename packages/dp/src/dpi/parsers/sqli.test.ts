import { describe, expect, it } from 'vitest';
import { sqlInjection } from './sqli.js';

const hit = (t: string): boolean => {
  const b = Buffer.from(t, 'latin1');
  return sqlInjection(b, 0, b.length);
};

describe('sqlInjection', () => {
  it('finds classic injections, encoded or not', () => {
    for (const t of [
      "/login?user=admin'+or+'1'='1",
      '/login?user=admin%27%20OR%20%271%27%3D%271',
      '/login?user=admin%2527%2520or%25201%253D1--',
      "/item?id=1' or 1=1--",
      '/item?id=1 or 1=1',
      '/item?id=1) OR (1=1',
      '/item?id=" or ""="',
      "/item?id=x' OR 'a' LIKE 'a",
      "/user?name=admin'--",
      "/user?name=admin'%23",
      '/item?id=1;--',
      '/item?id=1; DROP TABLE users',
      '/item?id=-1+UNION+ALL+SELECT+1,2,3',
      '/item?id=-1/**/union/**/select/**/password/**/from/**/users',
      '/item?id=1 union(select 1)',
      '/item?id=1 AND SLEEP(5)',
      '/item?id=1;waitfor delay \'0:0:5\'',
      "/item?id=1' and benchmark(1000000,md5(1))",
      '/item?id=1 and extractvalue(1,concat(0x7e,@@version))',
      '/q?id=1 and 1=(select count(*) from information_schema.tables)',
      "/q?id=1' or true--",
    ]) {
      expect(hit(t), t).toBe(true);
    }
  });

  it('stays quiet on ordinary URLs', () => {
    for (const t of [
      '/',
      '/index.html',
      '/search?q=rock+and+roll',
      '/search?q=black+or+white',
      "/wiki/Rock_'n'_Roll",
      "/search?q=don't+stop+believing",
      "/search?q=it's+or+never",
      '/api/v1/users?id=42&sort=name&order=desc',
      '/blog/2020/10/sleep-well-tonight',
      '/docs/python/time.sleep.html',
      '/select/union/station?from=a&to=b',
      '/search?q=union+select+committee',
      '/search?q=a;b;c',
      '/p?utm_source=x--y&ref=a--b',
      '/img/logo.png?v=1.2.3',
      '/api?filter=status%3Dactive%26role%3Dadmin',
      '/path/with%2Fencoded%20space?and=or',
      '/cgi-bin/test?a=1&&b=2',
      '/comments?text=%E2%9C%93+great',
      '/items?sort=name;desc',
    ]) {
      expect(hit(t), t).toBe(false);
    }
  });

  it('never throws on truncated or random targets', () => {
    const t = Buffer.from("/login?user=admin%27%20OR%20%271%27%3D%271/*", 'latin1');
    for (let n = 0; n <= t.length; n++) sqlInjection(t, 0, n);
    const r = Buffer.alloc(9000);
    for (let i = 0; i < r.length; i++) r[i] = (i * 7919) & 0xff;
    expect(typeof sqlInjection(r, 0, r.length)).toBe('boolean');
  });
});
