/**
 * Peers of a rule as address intervals: IPs and CIDRs as given, `any` as both whole families,
 * domains (and `*.domain` wildcards) through the FQDN→IP map the caller keeps. Interval sets in
 * nftables refuse overlapping elements, so lists are reduced: CIDRs either nest or are disjoint,
 * and dropping every one nested in another leaves disjoint ones covering the same addresses.
 */
import { formatAddress, parseCidr, type Cidr } from '@mseg/dp';

export interface Net {
  v6: boolean;
  /** Network address, masked. */
  addr: string;
  /** Prefix length within its family (0..32 or 0..128). */
  len: number;
  /** First and last address as numbers; the two families never overlap (IPv6 offset by 2^128). */
  start: bigint;
  end: bigint;
}

export type FqdnMap = ReadonlyMap<string, readonly string[]>;

function toNet(c: Cidr): Net {
  const v4 = c.words[0] === 0 && c.words[1] === 0 && c.words[2] === 0xffff;
  // IPv6 networks live above 2^128, so ::/0 never appears to contain the v4-mapped range.
  let start = v4 ? 0n : 1n;
  for (const w of c.words) start = (start << 32n) | BigInt(w);
  const end = start + (1n << BigInt(128 - c.bits)) - 1n;
  return { v6: !v4, addr: formatAddress(c.words), len: v4 ? c.bits - 96 : c.bits, start, end };
}

const ANY = ['0.0.0.0/0', '::/0'];

/** Resolves one peer to networks; a domain not (yet) in the map resolves to nothing. */
export function resolvePeer(peer: string, fqdn: FqdnMap): Net[] {
  if (peer === 'any') return ANY.map((p) => toNet(parseCidr(p)!));
  const c = parseCidr(peer);
  if (c) return [toNet(c)];
  const name = peer.toLowerCase();
  const ips: string[] = [];
  if (name.startsWith('*.')) {
    const suffix = name.slice(1);
    for (const [n, list] of fqdn) if (n.toLowerCase().endsWith(suffix)) ips.push(...list);
  } else {
    ips.push(...(fqdn.get(name) ?? fqdn.get(peer) ?? []));
  }
  return ips.flatMap((ip) => {
    const p = parseCidr(ip);
    return p ? [toNet(p)] : [];
  });
}

/** Disjoint networks covering the same addresses: nested ones dropped, duplicates merged. */
export function reduceNets(nets: readonly Net[]): Net[] {
  const sorted = [...nets].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.len - b.len));
  const out: Net[] = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && n.start <= last.end) continue;
    out.push(n);
  }
  return out;
}

export function containsAny(nets: readonly Net[], ips: readonly string[]): boolean {
  return ips.some((ip) => {
    const c = parseCidr(ip);
    if (!c) return false;
    const n = toNet(c);
    return nets.some((x) => x.start <= n.start && n.end <= x.end);
  });
}

export function netText(n: Net): string {
  return (n.v6 ? n.len === 128 : n.len === 32) ? n.addr : `${n.addr}/${n.len}`;
}
