import { describe, expect, it } from 'vitest';
import { format, LANGS } from './define';
import { ALL, DICTIONARIES } from './messages';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
  it('define every key once across features', () => {
    const seen = new Map<string, number>();
    for (const [i, m] of ALL.entries()) {
      for (const key of Object.keys(m.en)) {
        expect(seen.has(key), `${key} is defined by features #${seen.get(key)} and #${i}`).toBe(false);
        seen.set(key, i);
      }
    }
  });

  it('have every English key in Chinese, translated, with the same placeholders', () => {
    for (const key of Object.keys(DICTIONARIES.en) as (keyof typeof DICTIONARIES.en)[]) {
      const en = DICTIONARIES.en[key];
      const zh = DICTIONARIES['zh-CN'][key];
      expect(zh, key).toBeTruthy();
      expect(placeholders(zh), key).toEqual(placeholders(en));
    }
    expect(Object.keys(DICTIONARIES['zh-CN']).sort()).toEqual(Object.keys(DICTIONARIES.en).sort());
    expect(LANGS).toEqual(['en', 'zh-CN']);
  });

  it('fill placeholders and leave unknown ones visible', () => {
    expect(format('{total} in total', { total: 3 })).toBe('3 in total');
    expect(format('Code: {code} {other}', { code: 'X' })).toBe('Code: X {other}');
  });
});
