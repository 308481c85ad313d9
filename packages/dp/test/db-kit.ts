/**
 * Test harness for the database and messaging DPI parsers: a fake DpiFlow, helpers that feed
 * payload sequences, and the foreign first payloads every parser must refuse.
 */
import type { DpiFlow, DpiParser, Verdict } from '../src/dpi/parser.js';
import { CONTINUE, MATCH } from '../src/dpi/parser.js';
import { newMeta } from '../src/dpi/meta.js';

export type Step = [fromClient: boolean, hex: string];

export interface TestFlow extends DpiFlow {
  clientPackets: number;
  serverPackets: number;
  threats: [number, string][];
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function ascii(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

export function newFlow(): TestFlow {
  const threats: [number, string][] = [];
  return {
    l4: 6,
    clientPort: 40000,
    serverPort: 5555,
    clientPackets: 0,
    serverPackets: 0,
    meta: newMeta(),
    state: [],
    threats,
    threat(id: number, detail: string) {
      threats.push([id, detail]);
    },
  };
}

/** Gives the parser slot 0, as the engine would give it its index in PARSERS. */
export function slotted<P extends DpiParser & { slot: number }>(p: P): P {
  p.slot = 0;
  return p;
}

/** Offers one payload the way the engine does: counters first, then classify, at an offset. */
export function offer(p: DpiParser, f: TestFlow, fromClient: boolean, bytes: Uint8Array): Verdict {
  if (fromClient) f.clientPackets++;
  else f.serverPackets++;
  // Place the payload mid-buffer so parsers that ignore `off` fail.
  const buf = new Uint8Array(bytes.length + 7);
  buf.set(bytes, 3);
  return p.classify(f, buf, 3, bytes.length, fromClient);
}

/** Feeds steps until a verdict other than CONTINUE; returns [verdict, steps used, flow]. */
export function run(p: DpiParser, steps: readonly (Step | [boolean, Uint8Array])[]): [Verdict, number, TestFlow] {
  const f = newFlow();
  let v: Verdict = CONTINUE;
  let i = 0;
  for (; i < steps.length && v === CONTINUE; i++) {
    const [c, d] = steps[i];
    v = offer(p, f, c, typeof d === 'string' ? hex(d) : d);
  }
  return [v, i, f];
}

/** First payloads of other protocols (both directions are tried by `assertRefuses`). */
export const FOREIGN: readonly Uint8Array[] = [
  ascii('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'),
  ascii('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
  ascii('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
  ascii('220 mail.example.com ESMTP Postfix\r\n'),
  ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  hex('16030100f4010000f00303' + '11'.repeat(32) + '00'),
  hex('1603030059020000550303' + '22'.repeat(32) + '00'),
  hex('00000000'),
  hex('ff'),
  hex(''),
];

/** Deterministic pseudo-random bytes (xorshift32) so failures reproduce. */
export function randomBytes(seed: number, n: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Every foreign payload and random bytes, as the first payload in either direction, and repeated. */
export function refusals(p: DpiParser, extra: readonly Uint8Array[] = []): number {
  let matches = 0;
  const all = [...FOREIGN, ...extra];
  for (let s = 1; s <= 300; s++) all.push(randomBytes(s, 1 + (s * 37) % 600));
  for (const d of all) {
    for (const dir of [true, false]) {
      const f = newFlow();
      for (let k = 0; k < 4; k++) {
        const v = offer(p, f, k % 2 === 0 ? dir : !dir, d);
        if (v === MATCH) matches++;
        if (v !== CONTINUE) break;
      }
    }
  }
  return matches;
}

/** Number of strict prefixes of `bytes` (from length 0 to `upTo`-1) that wrongly MATCH on a fresh flow. */
export function prefixMatches(p: DpiParser, fromClient: boolean, bytes: Uint8Array, upTo = bytes.length, before: readonly Step[] = []): number {
  let matches = 0;
  for (let n = 0; n < upTo; n++) {
    const f = newFlow();
    for (const [c, h] of before) offer(p, f, c, hex(h));
    if (offer(p, f, fromClient, bytes.subarray(0, n)) === MATCH) matches++;
  }
  return matches;
}

/** Replays a session split at random points; must never throw. Returns the verdicts seen. */
export function randomSplits(p: DpiParser, steps: readonly Step[], seed: number): Verdict[] {
  const r = randomBytes(seed, 64);
  const f = newFlow();
  const seen: Verdict[] = [];
  let k = 0;
  for (const [c, h] of steps) {
    const b = hex(h);
    let at = 0;
    while (at < b.length) {
      const n = 1 + (r[k++ % r.length] % Math.max(1, b.length - at));
      seen.push(offer(p, f, c, b.subarray(at, at + n)));
      at += n;
    }
  }
  return seen;
}
