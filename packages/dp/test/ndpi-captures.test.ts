/**
 * Acceptance against nDPI's reference captures (shared/pcaps/ndpi): every flow nDPI classified
 * by payload as a protocol mseg supports must come out of `mseg-dp replay` with that protocol,
 * and no flow may get a different supported protocol than expected.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_NAMES } from '../src/dpi/apps.js';
import { NDPI_DIR, flowKey, readExpected, replayJson, type JsonFlow } from './helpers/replay-cli.js';

const SUPPORTED = new Set<string>(APP_NAMES.filter((a) => a !== 'unknown'));
const rows = readExpected(join(NDPI_DIR, 'expected.tsv'));
const pcaps = [...new Set(rows.map((r) => r.pcap))];

const cache = new Map<string, Map<string, JsonFlow>>();
function flowsOf(pcap: string): Map<string, JsonFlow> {
  let m = cache.get(pcap);
  if (!m) {
    m = new Map();
    for (const f of replayJson(join(NDPI_DIR, pcap)).flows) m.set(flowKey(f.l4, f.client, f.server), f);
    cache.set(pcap, m);
  }
  return m;
}

describe.skipIf(!existsSync(NDPI_DIR))('nDPI reference captures', () => {
  for (const r of rows.filter((row) => SUPPORTED.has(row.app))) {
    it(`${r.pcap} ${r.l4} ${r.client} ${r.server} is ${r.app}`, () => {
      const f = flowsOf(r.pcap).get(flowKey(r.l4, r.client, r.server));
      expect(f, 'flow present in replay output').toBeDefined();
      expect(f!.app).toBe(r.app);
    });
  }

  for (const pcap of pcaps) {
    it(`${pcap}: no flow gets a different supported protocol than expected`, () => {
      const expected = new Map(rows.filter((r) => r.pcap === pcap).map((r) => [flowKey(r.l4, r.client, r.server), r.app]));
      const wrong: string[] = [];
      for (const [key, f] of flowsOf(pcap)) {
        if (f.app === 'unknown') continue;
        const want = expected.get(key);
        if (want !== undefined && want !== f.app) wrong.push(`${key}: got ${f.app}, expected ${want}`);
      }
      expect(wrong).toEqual([]);
    });
  }
});
