/**
 * Malformed and hostile input: nDPI's bad/fuzzed captures through the CLI, and a million randomly
 * mutated valid packets through the whole pipeline (decode, sessions, every DPI parser, policy,
 * threats). Nothing may throw or hang, and memory must stay bounded by the tables' capacities.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinkType } from '../src/decode/linktype.js';
import { DataPlane } from '../src/engine/data-plane.js';
import { compilePolicy } from '../src/policy/compiled.js';
import { policySchema } from '../src/policy/model.js';
import { readCaptureFile } from '../src/source/capture-file.js';
import { NDPI_DIR, replayJson } from './helpers/replay-cli.js';

const hostile = existsSync(NDPI_DIR) ? readdirSync(NDPI_DIR).filter((f) => /^(badpackets|malformed_dns|fuzz-)/.test(f)) : [];

describe.skipIf(hostile.length === 0)('hostile captures', () => {
  for (const file of hostile) {
    it(`${file} is read to the end`, () => {
      const { summary, flows } = replayJson(join(NDPI_DIR, file), ['--threats']);
      expect(summary.packets).toBeGreaterThan(0);
      expect(flows.length).toBeGreaterThan(0);
    });
  }
});

/** xorshift32: reproducible mutations, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function corpus(): { linkType: number; frame: Uint8Array }[] {
  const out: { linkType: number; frame: Uint8Array }[] = [];
  for (const f of readdirSync(NDPI_DIR).filter((n) => /\.(pcap|pcapng|cap)$/.test(n))) {
    readCaptureFile(join(NDPI_DIR, f), (linkType, buf, off, len) => {
      if (len > 0) out.push({ linkType, frame: buf.slice(off, off + len) });
    });
  }
  return out;
}

describe.skipIf(!existsSync(NDPI_DIR))('fuzz', () => {
  it('1,000,000 mutated valid packets never throw and memory stays bounded', () => {
    const frames = corpus();
    expect(frames.length).toBeGreaterThan(1000);
    const next = rng(0x5eed);
    const dp = new DataPlane({
      sessions: 1 << 16,
      dpiSessions: 1 << 14,
      onThreat: () => undefined,
      onConnections: () => undefined,
      onFlowEnd: () => undefined,
    });
    dp.defaultPolicy = compilePolicy(policySchema.parse({
      mode: 'protect',
      rules: [{ id: 1, from: ['any'], to: ['any'], ports: 'tcp/1-1024', apps: ['HTTP', 'TLS'], action: 'allow' }],
    }));
    const scratch = new Uint8Array(70_000);
    const total = 1_000_000;
    let heapAtQuarter = 0;
    for (let i = 0; i < total; i++) {
      const src = frames[next() % frames.length];
      let len = src.frame.length;
      scratch.set(src.frame);
      const kind = next() % 8;
      if (kind < 4) {
        // Flip 1-4 random bits, most often in the headers where parsing decisions are made.
        const flips = 1 + (next() % 4);
        for (let k = 0; k < flips; k++) {
          const pos = next() % 3 === 0 ? next() % len : next() % Math.min(len, 80);
          scratch[pos] ^= 1 << (next() % 8);
        }
      } else if (kind === 4) {
        len = next() % (len + 1);
      } else if (kind === 5) {
        const extra = next() % 256;
        for (let k = 0; k < extra; k++) scratch[len + k] = next() & 255;
        len += extra;
      } else if (kind === 6) {
        // Overwrite a run with extreme values (0x00 or 0xff) to hit length fields.
        const pos = next() % len;
        const run = 1 + (next() % 8);
        const v = next() & 1 ? 0xff : 0;
        for (let k = pos; k < Math.min(len, pos + run); k++) scratch[k] = v;
      }
      const linkType = next() % 64 === 0 ? LinkType.RAW : src.linkType;
      const ts = 1_700_000_000 + i / 50_000;
      // A throw here fails the test with the iteration's state intact.
      dp.handleFrame(linkType, scratch, 0, len, len + (next() % 2) * 1500, ts, 0);
      if (i === total / 4) {
        globalThis.gc?.();
        heapAtQuarter = process.memoryUsage().heapUsed;
      }
    }
    dp.flush();
    globalThis.gc?.();
    const heapEnd = process.memoryUsage().heapUsed;
    const c = dp.counters();
    expect(c.packets).toBe(total);
    expect(c.malformed).toBeGreaterThan(1000);
    expect(c.sessionsCreated).toBeGreaterThan(1000);
    // Tables are pre-sized; what may grow is bounded per-session DPI state and maps with caps.
    expect(heapEnd - heapAtQuarter).toBeLessThan(96 << 20);
  });
});
