/**
 * Compiles a workload's policy (the DP rule shape) into what the kernel enforces for it, per
 * direction: `in` (the workload serves; peers are clients, checked at the input hook) and `out`
 * (the workload is the client; peers are servers, checked at the output hook). A rule counts for
 * a direction when its own side (`to` for in, `from` for out) covers one of the workload's IPs.
 *
 * First match wins in the DP, so order is kept: consecutive allow rules merge into one group
 * (one set lookup), each deny rule is a group of its own (its id goes into the log prefix).
 * Application-specific rules cannot be judged in the kernel: an allow naming applications is
 * allowed provisionally (the DP asks for a cut once it knows the application), and a deny naming
 * applications is left to the DP for the same reason.
 */
import { parsePorts, type RuleSpec } from '@mseg/dp';
import { containsAny, reduceNets, resolvePeer, type FqdnMap, type Net } from './peers.js';

export type Direction = 'in' | 'out';

/** Elements of one group, each list disjoint (interval sets refuse overlaps). */
export interface Group {
  action: 'allow' | 'deny';
  /** Rule id for a deny group (the log prefix), the first rule's id for an allow group. */
  ruleId: number;
  /** Peer with any protocol and port. */
  any: Net[];
  /** Peer . protocol (protocols without ports, e.g. icmp, or every port of one). */
  proto: { net: Net; proto: number }[];
  /** Peer . protocol . port range (tcp, udp, sctp). */
  ports: { net: Net; proto: number; lo: number; hi: number }[];
}

const PORTED = new Set([6, 17, 132]);

function isAnyApp(apps: readonly string[]): boolean {
  return apps.length === 0 || apps.some((a) => a.toLowerCase() === 'any');
}

export function compileDirection(dir: Direction, rules: readonly RuleSpec[], selfIps: readonly string[], fqdn: FqdnMap): Group[] {
  const groups: Group[] = [];
  let pending: { rule: RuleSpec; peers: Net[] }[] = [];
  const flush = (): void => {
    if (pending.length) groups.push(buildGroup(pending));
    pending = [];
  };
  for (const rule of rules) {
    const self = (dir === 'in' ? rule.to : rule.from).flatMap((p) => resolvePeer(p, fqdn));
    if (selfIps.length && !containsAny(self, selfIps)) continue;
    if (rule.action === 'deny' && !isAnyApp(rule.apps)) continue;
    const peers = (dir === 'in' ? rule.from : rule.to).flatMap((p) => resolvePeer(p, fqdn));
    if (rule.action === 'deny' || pending[0]?.rule.action === 'deny') flush();
    pending.push({ rule, peers });
    if (rule.action === 'deny') flush();
  }
  flush();
  return groups.filter((g) => g.any.length || g.proto.length || g.ports.length);
}

function buildGroup(items: { rule: RuleSpec; peers: Net[] }[]): Group {
  const any: Net[] = [];
  const byProto = new Map<number, Net[]>();
  const ranges: { net: Net; proto: number; lo: number; hi: number }[] = [];
  for (const { rule, peers } of items) {
    const parsed = parsePorts(rule.ports);
    if (typeof parsed === 'string') throw new Error(`rule ${rule.id}: ${parsed}`);
    for (const r of parsed) {
      if (r.proto === 0) any.push(...peers);
      else if (!PORTED.has(r.proto) || (r.lo === 0 && r.hi === 65535)) byProto.set(r.proto, [...(byProto.get(r.proto) ?? []), ...peers]);
      else for (const net of peers) ranges.push({ net, proto: r.proto, lo: r.lo, hi: r.hi });
    }
  }
  const anyNets = reduceNets(any);
  const covered = (n: Net, nets: readonly Net[]): boolean => nets.some((x) => x.start <= n.start && n.end <= x.end);
  const proto: Group['proto'] = [];
  for (const [p, nets] of [...byProto].sort((a, b) => a[0] - b[0])) {
    for (const net of reduceNets(nets)) if (!covered(net, anyNets)) proto.push({ net, proto: p });
  }
  const ports = disjointRanges(ranges.filter((r) => !covered(r.net, anyNets) && !proto.some((p) => p.proto === r.proto && covered(r.net, [p.net]))));
  return { action: items[0].rule.action, ruleId: items[0].rule.id, any: anyNets, proto, ports };
}

/**
 * Peer × port-range elements made disjoint in both dimensions: ports are cut into elementary
 * segments at every range boundary, each segment gets the reduced networks of the ranges that
 * cover it, and neighbouring segments with the same networks are joined again.
 */
function disjointRanges(items: { net: Net; proto: number; lo: number; hi: number }[]): Group['ports'] {
  const out: Group['ports'] = [];
  const protos = [...new Set(items.map((i) => i.proto))].sort((a, b) => a - b);
  for (const proto of protos) {
    const mine = items.filter((i) => i.proto === proto);
    const cuts = [...new Set(mine.flatMap((i) => [i.lo, i.hi + 1]))].sort((a, b) => a - b);
    let prev: { key: string; nets: Net[]; lo: number; hi: number } | null = null;
    const emit = (): void => {
      if (prev) for (const net of prev.nets) out.push({ net, proto, lo: prev.lo, hi: prev.hi });
    };
    for (let k = 0; k < cuts.length - 1; k++) {
      const lo = cuts[k];
      const hi = cuts[k + 1] - 1;
      const nets = reduceNets(mine.filter((i) => i.lo <= lo && hi <= i.hi).map((i) => i.net));
      const key = nets.map((n) => `${n.addr}/${n.len}`).join(',');
      if (prev && prev.key === key && prev.hi + 1 === lo) {
        prev.hi = hi;
        continue;
      }
      emit();
      prev = nets.length ? { key, nets, lo, hi } : null;
    }
    emit();
  }
  return out;
}
