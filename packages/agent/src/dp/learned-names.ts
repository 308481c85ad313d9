/**
 * Domain names the data plane saw resolved (its `dns` messages), for the enforcer: Protect tables
 * resolve peers named by domain from this map. Each (name, address) lives for its DNS TTL, held
 * between a floor and a ceiling, and the map is bounded.
 *
 * The DP is not sent this map back (`fqdn_set`): it learns the same answers itself, from the same
 * frames and earlier, and `fqdn_set` replaces its table, which would drop what it learned since.
 */
import type { DnsAnswerRecord } from '@mseg/dp';
import type { FqdnMap } from '../enforce/peers.js';

/**
 * Resolvers answer with TTLs of 0 to a few seconds (dnsmasq host records, Kubernetes services);
 * clients keep using the address past that, and each expiry rewrites a Protect table.
 */
export const TTL_FLOOR_S = 60;
/** An address a name stopped resolving to leaves the tables within the hour. */
export const TTL_CEILING_S = 3600;
/** (name, address) pairs kept; past this the least recently answered go first. */
export const MAX_PAIRS = 50_000;

interface Pair {
  name: string;
  addr: string;
  /** ms since the epoch. */
  until: number;
}

export class LearnedNames {
  /** Keyed by `name addr`, in the order last answered (a refresh moves a pair to the end). */
  private readonly pairs = new Map<string, Pair>();

  get size(): number {
    return this.pairs.size;
  }

  /** Adds or refreshes the answers; true when the name → addresses map changed. */
  learn(answers: readonly DnsAnswerRecord[], now: number): boolean {
    let changed = false;
    for (const a of answers) {
      const name = a.name.toLowerCase();
      const key = `${name} ${a.addr}`;
      const ttl = Math.min(Math.max(a.ttl, TTL_FLOOR_S), TTL_CEILING_S);
      const had = this.pairs.get(key);
      this.pairs.delete(key);
      this.pairs.set(key, { name, addr: a.addr, until: Math.max(had?.until ?? 0, now + ttl * 1000) });
      if (had) continue;
      changed = true;
      if (this.pairs.size > MAX_PAIRS) {
        const oldest = this.pairs.keys().next().value;
        if (oldest !== undefined) this.pairs.delete(oldest);
      }
    }
    return changed;
  }

  /** Drops the pairs whose TTL ran out; true when any did. */
  expire(now: number): boolean {
    let changed = false;
    for (const [key, p] of this.pairs) {
      if (p.until > now) continue;
      this.pairs.delete(key);
      changed = true;
    }
    return changed;
  }

  map(): FqdnMap {
    const out = new Map<string, string[]>();
    for (const p of this.pairs.values()) {
      const list = out.get(p.name);
      if (list) list.push(p.addr);
      else out.set(p.name, [p.addr]);
    }
    return out;
  }
}
