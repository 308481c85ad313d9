/**
 * Which domain names an address is known by: filled by the agent (set FQDN table) and by DNS
 * answers the data plane itself sees. Lets rules name peers by domain, wildcards included.
 */
import { addressKey } from '../net/address.js';

/** Bound on remembered addresses so a DNS flood cannot grow memory without limit. */
const MAX_ADDRESSES = 200_000;

export class FqdnTable {
  private readonly names = new Map<string, Set<string>>();

  add(name: string, addr: ArrayLike<number>): void {
    const key = addressKey(addr);
    let set = this.names.get(key);
    if (!set) {
      if (this.names.size >= MAX_ADDRESSES) {
        const oldest = this.names.keys().next().value;
        if (oldest !== undefined) this.names.delete(oldest);
      }
      set = new Set();
      this.names.set(key, set);
    }
    if (set.size < 64) set.add(name.toLowerCase());
  }

  replace(entries: Iterable<[string, ArrayLike<number>]>): void {
    this.names.clear();
    for (const [name, addr] of entries) this.add(name, addr);
  }

  namesOf(addr: ArrayLike<number>): ReadonlySet<string> | undefined {
    return this.names.get(addressKey(addr));
  }
}

/** `*.example.com` matches any name below example.com (not example.com itself); else exact. */
export function domainMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
  return pattern === name;
}
