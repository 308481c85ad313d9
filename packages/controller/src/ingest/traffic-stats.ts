/**
 * Recent traffic of the whole system and of each workload, fed at ingest, for /stats over the
 * last 5 s, 60 s and 300 s. In memory, not in the store: these windows are always "now", and
 * summing them from raw conversations would scan every row of the last five minutes per request.
 * Each controller replica counts the reports it ingested itself.
 */
import type { Context } from '../server/context.js';

/** Slot width: the agents' report interval. */
export const SLOT_MS = 5_000;
/** 300 s of complete slots plus the one being filled. */
const SLOTS = 61;
/** Per slot: slot number, bytes, packets, sessions, violations. */
const WIDTH = 5;

export interface TrafficTotals {
  bytes: number;
  packets: number;
  sessions: number;
  violations: number;
}

export class TrafficStats {
  private readonly rings = new Map<string, Float64Array>();
  private lastSweep = 0;

  /** Adds to a key ('' = the whole system, else a workload id) in the slot of `now`. */
  add(key: string, now: number, bytes: number, packets: number, sessions: number, violations: number): void {
    let ring = this.rings.get(key);
    if (!ring) {
      ring = new Float64Array(SLOTS * WIDTH).fill(-1);
      this.rings.set(key, ring);
    }
    const slot = Math.floor(now / SLOT_MS);
    const at = (slot % SLOTS) * WIDTH;
    if (ring[at] !== slot) {
      ring[at] = slot;
      ring[at + 1] = ring[at + 2] = ring[at + 3] = ring[at + 4] = 0;
    }
    ring[at + 1] += bytes;
    ring[at + 2] += packets;
    ring[at + 3] += sessions;
    ring[at + 4] += violations;
    this.sweep(slot);
  }

  /** Totals over the complete slots of the last `seconds` before `now` (the slot being filled is left out). */
  window(key: string, now: number, seconds: number): TrafficTotals {
    const out = { bytes: 0, packets: 0, sessions: 0, violations: 0 };
    const ring = this.rings.get(key);
    if (!ring) return out;
    const current = Math.floor(now / SLOT_MS);
    const n = Math.min(SLOTS - 1, Math.ceil((seconds * 1000) / SLOT_MS));
    for (let slot = current - n; slot < current; slot++) {
      const at = (((slot % SLOTS) + SLOTS) % SLOTS) * WIDTH;
      if (ring[at] !== slot) continue;
      out.bytes += ring[at + 1];
      out.packets += ring[at + 2];
      out.sessions += ring[at + 3];
      out.violations += ring[at + 4];
    }
    return out;
  }

  /** Keys with traffic in the last 300 s. */
  keys(): string[] {
    return [...this.rings.keys()];
  }

  /** Drops keys that had nothing for a whole ring, at most once a ring, so memory follows live workloads. */
  private sweep(slot: number): void {
    if (slot - this.lastSweep < SLOTS) return;
    this.lastSweep = slot;
    for (const [key, ring] of this.rings) {
      let newest = -1;
      for (let i = 0; i < SLOTS; i++) newest = Math.max(newest, ring[i * WIDTH]);
      if (slot - newest >= SLOTS) this.rings.delete(key);
    }
  }
}

const perContext = new WeakMap<Context, TrafficStats>();

export function trafficStats(ctx: Context): TrafficStats {
  let s = perContext.get(ctx);
  if (!s) {
    s = new TrafficStats();
    perContext.set(ctx, s);
  }
  return s;
}
