/**
 * The Protect table of one workload, rendered as one `nft -f` script that replaces the table in
 * a single transaction (create-if-missing, delete, create), so the kernel never holds a partial
 * table and established connections (conntrack) never see a gap.
 *
 *   chain input/output (hook, policy accept; the table's last rule drops):
 *     lo accepted → flows the DP asked to cut (TCP reset, else drop) → established/related
 *     accepted → invalid dropped → IPv6 neighbour discovery accepted → policy groups in order
 *     (allow: accept on a set hit; deny: log with the rule id, drop) → log rule 0, drop.
 *
 * The last rule of each chain carries the hash of the policy part as its comment: `update` reads
 * the table and compares that, and the rule counts, to know whether it is already right.
 */
import { createHash } from 'node:crypto';
import { NFT_TABLE } from '../plumbing/names.js';
import type { Direction, Group } from './compile.js';
import { netText } from './peers.js';

/** NFLOG group of the deny log (per namespace: every Protect container uses the same number). */
export const NFLOG_GROUP = 6573;
/** Bytes of each denied packet copied to the log: IP and transport headers are all we read. */
export const NFLOG_SNAPLEN = 128;
/** Default life of a cut entry: long enough for the reset to reach both ends' retransmits. */
export const CUT_TIMEOUT_S = 60;
/** Log records per second per chain; beyond it packets are still dropped, just not logged. */
const LOG_RATE = 'limit rate 200/second burst 100 packets';

export interface CutFlow {
  v6: boolean;
  saddr: string;
  daddr: string;
  proto: number;
  sport: number;
  dport: number;
  /** Seconds left. */
  timeout: number;
}

export interface TableScript {
  script: string;
  hash: string;
  /** Rules per chain, for the read-back check. */
  ruleCounts: Record<'input' | 'output', number>;
}

const FAMILY = { v4: { set: 'ipv4_addr', match: 'ip' }, v6: { set: 'ipv6_addr', match: 'ip6' } } as const;

export function logPrefix(dir: Direction, ruleId: number): string {
  return `mseg:${dir}:${ruleId}`;
}

export function hashComment(hash: string): string {
  return `mseg ${hash}`;
}

function cutElement(c: CutFlow): string {
  return `${c.saddr} . ${c.daddr} . ${c.proto} . ${c.sport} . ${c.dport} timeout ${Math.max(1, Math.round(c.timeout))}s`;
}

/** Renders the table; `cuts` are the live cut entries carried over into the new table. */
export function renderTable(groups: Record<Direction, Group[]>, cuts: readonly CutFlow[]): TableScript {
  const sets: string[] = [];
  const chains: Record<Direction, string[]> = { in: [], out: [] };
  for (const dir of ['in', 'out'] as const) {
    const peer = dir === 'in' ? 'saddr' : 'daddr';
    groups[dir].forEach((g, i) => {
      const matches: string[] = [];
      for (const fam of ['v4', 'v6'] as const) {
        const f = FAMILY[fam];
        const v6 = fam === 'v6';
        const any = g.any.filter((n) => n.v6 === v6).map(netText);
        const proto = g.proto.filter((e) => e.net.v6 === v6).map((e) => `${netText(e.net)} . ${e.proto}`);
        const ports = g.ports.filter((e) => e.net.v6 === v6).map((e) => `${netText(e.net)} . ${e.proto} . ${e.lo === e.hi ? e.lo : `${e.lo}-${e.hi}`}`);
        const name = `${dir}${i}_${fam}`;
        if (any.length) {
          sets.push(`  set ${name}_a { type ${f.set}; flags interval; elements = { ${any.join(', ')} } }`);
          matches.push(`${f.match} ${peer} @${name}_a`);
        }
        if (proto.length) {
          sets.push(`  set ${name}_l { type ${f.set} . inet_proto; flags interval; elements = { ${proto.join(', ')} } }`);
          matches.push(`${f.match} ${peer} . meta l4proto @${name}_l`);
        }
        if (ports.length) {
          sets.push(`  set ${name}_p { type ${f.set} . inet_proto . inet_service; flags interval; elements = { ${ports.join(', ')} } }`);
          matches.push(`${f.match} ${peer} . meta l4proto . th dport @${name}_p`);
        }
      }
      for (const m of matches) {
        if (g.action === 'allow') chains[dir].push(`${m} accept`);
        else chains[dir].push(`${m} ${LOG_RATE} log prefix "${logPrefix(dir, g.ruleId)}" group ${NFLOG_GROUP} snaplen ${NFLOG_SNAPLEN}`, `${m} drop`);
      }
    });
  }
  const policy = [...sets, '--', ...chains.in, '--', ...chains.out].join('\n');
  const hash = createHash('sha256').update(policy).digest('hex').slice(0, 16);

  const cut4 = cuts.filter((c) => !c.v6).map(cutElement);
  const cut6 = cuts.filter((c) => c.v6).map(cutElement);
  const cutSet = (name: string, t: string, elems: string[]): string =>
    `  set ${name} { type ${t} . ${t} . inet_proto . inet_service . inet_service; flags timeout; timeout ${CUT_TIMEOUT_S}s;${elems.length ? ` elements = { ${elems.join(', ')} }` : ''} }`;

  const chain = (name: 'input' | 'output', dir: Direction): string[] => {
    const lo = name === 'input' ? 'iif lo accept' : 'oif lo accept';
    const body = [
      lo,
      // The resets themselves must pass: a reset sent by the input chain leaves through the
      // output chain, where its tuple is also in the cut set (they fall to "established" below).
      'meta l4proto tcp tcp flags & rst == 0 ip saddr . ip daddr . meta l4proto . th sport . th dport @cut4 reject with tcp reset',
      'meta l4proto != tcp ip saddr . ip daddr . meta l4proto . th sport . th dport @cut4 drop',
      'meta l4proto tcp tcp flags & rst == 0 ip6 saddr . ip6 daddr . meta l4proto . th sport . th dport @cut6 reject with tcp reset',
      'meta l4proto != tcp ip6 saddr . ip6 daddr . meta l4proto . th sport . th dport @cut6 drop',
      'ct state established,related accept',
      // Out-of-window or otherwise broken packets: not a policy decision, not worth a log line.
      'ct state invalid drop',
      // Without neighbour discovery IPv6 stops working at all; it is link housekeeping, not a flow.
      'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept',
      // Multicast listener discovery, link-local by rule (hop limit 1): the DP gives it no verdict
      // either, so logging it as a deny would report housekeeping as an attack.
      'ip6 hoplimit 1 icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept',
      ...chains[dir],
      `${LOG_RATE} log prefix "${logPrefix(dir, 0)}" group ${NFLOG_GROUP} snaplen ${NFLOG_SNAPLEN}`,
      `drop comment "${hashComment(hash)}"`,
    ];
    return [`  chain ${name} {`, `    type filter hook ${name} priority filter; policy accept;`, ...body.map((r) => `    ${r}`), '  }'];
  };
  const input = chain('input', 'in');
  const output = chain('output', 'out');
  const script = [
    `table inet ${NFT_TABLE} {}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    cutSet('cut4', 'ipv4_addr', cut4),
    cutSet('cut6', 'ipv6_addr', cut6),
    ...sets,
    ...input,
    ...output,
    '}',
    '',
  ].join('\n');
  return { script, hash, ruleCounts: { input: input.length - 3, output: output.length - 3 } };
}

/** `nft add element` lines for one cut flow, both directions of it. */
export function cutElementsScript(c: Omit<CutFlow, 'timeout'>, timeoutS = CUT_TIMEOUT_S): string {
  const set = c.v6 ? 'cut6' : 'cut4';
  const fwd = cutElement({ ...c, timeout: timeoutS });
  const rev = cutElement({ ...c, saddr: c.daddr, daddr: c.saddr, sport: c.dport, dport: c.sport, timeout: timeoutS });
  return `add element inet ${NFT_TABLE} ${set} { ${fwd}, ${rev} }\n`;
}
