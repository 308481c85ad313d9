/**
 * DNS answers the data plane learned since its last report, for the agent: its Protect tables
 * resolve peers named by domain from them, and it passes them on to the controller's domain
 * groups. One entry per (name, address) between reports, with the latest TTL seen.
 */
import type { DnsAnswerRecord } from '../control/messages.js';

/**
 * Answers held between two reports. A DNS flood past this is not sent on: the data plane's own
 * table still learns it, and a name in use is resolved again and reported then.
 */
const MAX_PENDING = 20_000;

export class LearnedDns {
  private pending = new Map<string, DnsAnswerRecord>();

  get size(): number {
    return this.pending.size;
  }

  add(name: string, addr: string, ttl: number): void {
    const lower = name.toLowerCase();
    const key = `${lower} ${addr}`;
    const had = this.pending.get(key);
    if (had) had.ttl = ttl;
    else if (this.pending.size < MAX_PENDING) this.pending.set(key, { name: lower, addr, ttl });
  }

  /** The answers learned since the last call, each pair once. */
  take(): DnsAnswerRecord[] {
    const out = [...this.pending.values()];
    this.pending = new Map();
    return out;
  }
}
