/**
 * Live group membership. A snapshot reads groups, rules, workloads, host addresses and DNS names once and
 * indexes members by group and groups by workload, so compile and explain never query per rule or
 * per workload. Snapshots are cached per context and revision: every change that can move a member
 * bumps the revision, which makes the next caller rebuild.
 */
import { formatAddress, parseAddress } from '@mseg/dp';
import { MsegError } from '../errors.js';
import type { Context } from '../server/context.js';
import type { Workload } from '../store/schema.js';
import { compileCriteria, type DnsIndex, type GroupMatcher, type WorkloadFacts } from './criteria.js';
import { CONTAINERS, EXTERNAL, NODES, type Criterion, type Group, type Rule, groupFromRow, ruleFromRow, serviceGroupName } from './model.js';
import { currentRevision } from './revision.js';

export interface PolicySnapshot {
  revision: number;
  groups: Map<string, Group>;
  /** Every rule, in evaluation order (position, then id). */
  rules: Rule[];
  workloads: Map<string, WorkloadFacts>;
  /** Group name → member workload ids. */
  members: Map<string, string[]>;
  /** Workload id → names of the groups it is in. */
  groupsOf: Map<string, Set<string>>;
  /** Group name → peers as the DP takes them (IPs, CIDRs, domains; `any` for external). */
  peers: Map<string, string[]>;
  /** Canonical address → workload id. */
  ipOwner: Map<string, string>;
  /** The hosts' addresses. */
  nodeIps: Set<string>;
  dns: DnsIndex;
  matchers: Map<string, GroupMatcher>;
}

/** Canonical text of an address (`::ffff:a.b.c.d` → `a.b.c.d`, IPv6 compressed); null if not one. */
export function canonicalIp(text: string): string | null {
  const slash = text.indexOf('/');
  const words = parseAddress(slash < 0 ? text : text.slice(0, slash));
  return words ? formatAddress(words) : null;
}

export function workloadFacts(w: Pick<Workload, 'id' | 'name' | 'image' | 'service' | 'host' | 'labels' | 'interfaces'>): WorkloadFacts {
  const ifaces = JSON.parse(w.interfaces) as { ips?: string[] }[];
  const ips: string[] = [];
  const words: Uint32Array[] = [];
  for (const i of ifaces) {
    for (const text of i.ips ?? []) {
      const ip = canonicalIp(text);
      if (ip === null || ips.includes(ip)) continue;
      ips.push(ip);
      words.push(parseAddress(ip) as Uint32Array);
    }
  }
  return { id: w.id, name: w.name, image: w.image, service: w.service, host: w.host, labels: JSON.parse(w.labels) as Record<string, string>, ips, words };
}

function attribute(w: WorkloadFacts, key: NonNullable<GroupMatcher['indexKey']>['key']): string[] {
  if (key !== 'label') return [w[key]];
  return Object.entries(w.labels).map(([k, v]) => `${k}=${v}`);
}

/** Builds a snapshot from already-loaded rows (also used by the compile benchmark). */
export function buildSnapshot(
  revision: number,
  groups: Group[],
  rules: Rule[],
  workloads: WorkloadFacts[],
  nodeAddresses: Iterable<string>,
  dns: DnsIndex,
): PolicySnapshot {
  const byId = new Map(workloads.map((w) => [w.id, w]));
  const ipOwner = new Map<string, string>();
  for (const w of workloads) for (const ip of w.ips) ipOwner.set(ip, w.id);
  const nodeIps = new Set<string>();
  for (const h of new Set(nodeAddresses)) {
    const ip = canonicalIp(h);
    if (ip !== null && !h.includes('/')) nodeIps.add(ip);
  }

  // Attribute value → workloads, built per key on first use.
  const indexes = new Map<string, Map<string, WorkloadFacts[]>>();
  const candidates = (m: GroupMatcher): readonly WorkloadFacts[] => {
    if (!m.indexKey) return workloads;
    let idx = indexes.get(m.indexKey.key);
    if (!idx) {
      idx = new Map();
      for (const w of workloads) {
        for (const v of attribute(w, m.indexKey.key)) {
          const list = idx.get(v);
          if (list) list.push(w);
          else idx.set(v, [w]);
        }
      }
      indexes.set(m.indexKey.key, idx);
    }
    return idx.get(m.indexKey.value) ?? [];
  };

  const groupMap = new Map(groups.map((g) => [g.name, g]));
  const matchers = new Map<string, GroupMatcher>();
  const members = new Map<string, string[]>();
  const groupsOf = new Map<string, Set<string>>(workloads.map((w) => [w.id, new Set<string>()]));
  const peers = new Map<string, string[]>();
  const allIps = [...ipOwner.keys()];

  for (const g of groups) {
    let ids: string[];
    if (g.name === CONTAINERS) ids = workloads.map((w) => w.id);
    else if (g.name === EXTERNAL || g.name === NODES) ids = [];
    else {
      const m = compileCriteria(g.criteria);
      matchers.set(g.name, m);
      ids = [];
      for (const w of candidates(m)) if (m.matchesWorkload(w, dns)) ids.push(w.id);
    }
    members.set(g.name, ids);
    for (const id of ids) groupsOf.get(id)?.add(g.name);

    if (g.name === EXTERNAL) peers.set(g.name, ['any']);
    else if (g.name === NODES) peers.set(g.name, [...nodeIps]);
    else if (g.name === CONTAINERS) peers.set(g.name, allIps);
    else if (matchers.get(g.name)?.addressGroup) peers.set(g.name, (matchers.get(g.name) as GroupMatcher).peers);
    else {
      const ips: string[] = [];
      for (const id of ids) for (const ip of (byId.get(id) as WorkloadFacts).ips) ips.push(ip);
      peers.set(g.name, ips);
    }
  }
  const ordered = [...rules].sort((a, b) => a.position - b.position || a.id - b.id);
  return { revision, groups: groupMap, rules: ordered, workloads: byId, members, groupsOf, peers, ipOwner, nodeIps, dns, matchers };
}

async function loadSnapshot(ctx: Context, revision: number): Promise<PolicySnapshot> {
  const db = ctx.store.db;
  const [groupRows, ruleRows, workloadRows, agentHosts, dnsRows] = await Promise.all([
    db.selectFrom('groups').selectAll().execute(),
    db.selectFrom('rules').selectAll().execute(),
    db.selectFrom('workloads').select(['id', 'name', 'image', 'service', 'host', 'labels', 'interfaces']).where('state', '!=', 'stopped').execute(),
    db.selectFrom('agents').select('host').where('state', '!=', 'revoked').execute(),
    db.selectFrom('dns_names').select(['name', 'ip']).execute(),
  ]);
  const dns = new Map<string, string[]>();
  for (const r of dnsRows) {
    const ip = canonicalIp(r.ip);
    if (ip === null) continue;
    const list = dns.get(ip);
    if (list) list.push(r.name.toLowerCase());
    else dns.set(ip, [r.name.toLowerCase()]);
  }
  const workloads = workloadRows.map(workloadFacts);
  // Hosts are known by the address their agent and workloads report; names that are not
  // addresses cannot be matched against traffic and are left out of `nodes`.
  const hosts = [...agentHosts.map((a) => a.host), ...workloads.map((w) => w.host)];
  return buildSnapshot(revision, groupRows.map(groupFromRow), ruleRows.map(ruleFromRow), workloads, hosts, dns);
}

const cache = new WeakMap<Context, { revision: number; snapshot: Promise<PolicySnapshot> }>();

/** The membership snapshot of the current revision, shared by concurrent callers. */
export async function policySnapshot(ctx: Context): Promise<PolicySnapshot> {
  const revision = await currentRevision(ctx);
  const hit = cache.get(ctx);
  if (hit && hit.revision === revision) return hit.snapshot;
  const snapshot = loadSnapshot(ctx, revision);
  cache.set(ctx, { revision, snapshot });
  snapshot.catch(() => {
    if (cache.get(ctx)?.snapshot === snapshot) cache.delete(ctx);
  });
  return snapshot;
}

export async function workloadsInGroup(ctx: Context, name: string): Promise<string[]> {
  const snap = await policySnapshot(ctx);
  const ids = snap.members.get(name);
  if (!ids) throw new MsegError('MSEG_ERR_NOT_FOUND', `group "${name}" does not exist`, 'params.name');
  return ids;
}

/**
 * The running workloads that criteria (already validated) select in a snapshot, as a group with
 * them would have as members: the editor's preview of a group before it is saved.
 */
export function workloadsMatching(snap: PolicySnapshot, criteria: readonly Criterion[]): WorkloadFacts[] {
  const m = compileCriteria(criteria);
  return [...snap.workloads.values()].filter((w) => m.matchesWorkload(w, snap.dns));
}

export async function groupsOfWorkload(ctx: Context, id: string): Promise<string[]> {
  const snap = await policySnapshot(ctx);
  return [...(snap.groupsOf.get(id) ?? [])].sort();
}

/** Groups an address belongs to: its workload's, else the address groups around it plus nodes or external. */
export function groupsOfAddress(snap: PolicySnapshot, ip: string): Set<string> {
  const owner = snap.ipOwner.get(ip);
  if (owner !== undefined) return snap.groupsOf.get(owner) as Set<string>;
  const out = new Set<string>();
  for (const [name, m] of snap.matchers) if (m.matchesAddress(ip, snap.dns)) out.add(name);
  out.add(snap.nodeIps.has(ip) ? NODES : EXTERNAL);
  return out;
}

/** Mode of a workload: its service group's, monitor when the group is missing. */
export function modeOfWorkload(snap: PolicySnapshot, w: WorkloadFacts): 'monitor' | 'protect' {
  return snap.groups.get(serviceGroupName(w.service))?.mode ?? 'monitor';
}
