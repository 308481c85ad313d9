import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { THREATS, Threat } from './catalog.js';

const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../../docs/dp.md'), 'utf8');

describe('threat catalogue', () => {
  it('has unique ids, one definition per Threat constant', () => {
    expect(new Set(THREATS.map((t) => t.id)).size).toBe(THREATS.length);
    expect(new Set(Object.values(Threat))).toEqual(new Set(THREATS.map((t) => t.id)));
  });

  it('is documented in docs/dp.md exactly', () => {
    for (const t of THREATS) expect(doc).toContain(`| ${t.id} | ${t.name} | ${t.severity} |`);
    const rows = doc.split('\n').filter((l) => /^\| \d{4} \|/.test(l));
    expect(rows.length).toBe(THREATS.length);
  });
});
