/**
 * Verdicts for real or hypothetical flows, decided exactly as the compiled policy will decide them
 * on each end: the client's DP/nftables evaluate its egress rules, the server's its ingress rules,
 * each in compile order (specific peers first, then `external` ones as `any`; see compile.ts).
 * A Protect end blocks what its rules deny; a Monitor end only reports it as a violation.
 */
import { APP_NAMES, appId, parsePorts, type PortRange } from '@mseg/dp';
import { MsegError } from '../errors.js';
import type { WorkloadFacts } from './criteria.js';
import { type PolicySnapshot, canonicalIp, groupsOfAddress, modeOfWorkload } from './membership.js';
import { EXTERNAL, type Mode, type Rule } from './model.js';

export type EndpointMode = Mode | 'mixed' | null;

export interface Endpoint {
  kind: 'workload' | 'group' | 'address';
  /** Workload id, group name or canonical address. */
  ref: string;
  /** Workload id when the endpoint is one workload. */
  workload: string | null;
  groups: Set<string>;
  /** Mode of the end's workloads; null when no workload is there to enforce. */
  mode: EndpointMode;
}

export interface Flow {
  proto: number;
  port: number;
  /** Application name as in APP_NAMES; null = not identified (rules naming applications do not match). */
  app: string | null;
}

interface PreparedRule {
  rule: Rule;
  ports: PortRange[];
  apps: Set<number> | null;
}

export interface SideDecision {
  ruleId: number;
  action: 'allow' | 'deny';
}

function prepare(r: Rule): PreparedRule {
  const ports = parsePorts(r.ports);
  return { rule: r, ports: typeof ports === 'string' ? [] : ports, apps: r.apps.includes('any') ? null : new Set(r.apps.map(appId)) };
}

/** The enabled rules of a snapshot in each end's evaluation order, ports and apps parsed once. */
export class Evaluator {
  private readonly egress: PreparedRule[];
  private readonly ingress: PreparedRule[];

  constructor(readonly snap: PolicySnapshot) {
    const enabled = snap.rules.filter((r) => r.enabled).map(prepare);
    this.egress = [...enabled.filter((p) => p.rule.to !== EXTERNAL), ...enabled.filter((p) => p.rule.to === EXTERNAL)];
    this.ingress = [...enabled.filter((p) => p.rule.from !== EXTERNAL), ...enabled.filter((p) => p.rule.from === EXTERNAL)];
  }

  /** First matching rule at one end, or the implicit deny (rule 0). */
  decide(side: 'client' | 'server', client: Endpoint, server: Endpoint, flow: Flow): SideDecision {
    const list = side === 'client' ? this.egress : this.ingress;
    const app = flow.app === null ? -1 : appId(flow.app);
    for (const p of list) {
      const r = p.rule;
      const own = side === 'client' ? client.groups.has(r.from) : server.groups.has(r.to);
      if (!own) continue;
      const peerGroup = side === 'client' ? r.to : r.from;
      const peer = side === 'client' ? server : client;
      if (peerGroup !== EXTERNAL && !peer.groups.has(peerGroup)) continue;
      if (!p.ports.some((x) => (x.proto === 0 || x.proto === flow.proto) && flow.port >= x.lo && flow.port <= x.hi)) continue;
      if (p.apps !== null && !p.apps.has(app)) continue;
      return { ruleId: r.id, action: r.action };
    }
    return { ruleId: 0, action: 'deny' };
  }
}

function bad(field: string, message: string): MsegError {
  return new MsegError('MSEG_ERR_VALIDATION', `${field}: ${message}`, field);
}

export function workloadEndpoint(snap: PolicySnapshot, id: string): Endpoint {
  const w = snap.workloads.get(id);
  if (!w) throw new MsegError('MSEG_ERR_NOT_FOUND', `workload "${id}" is not running`);
  return { kind: 'workload', ref: id, workload: id, groups: snap.groupsOf.get(id) as Set<string>, mode: modeOfWorkload(snap, w) };
}

export function addressEndpoint(snap: PolicySnapshot, ip: string): Endpoint {
  const owner = snap.ipOwner.get(ip);
  if (owner !== undefined) return { ...workloadEndpoint(snap, owner), kind: 'address', ref: ip };
  return { kind: 'address', ref: ip, workload: null, groups: groupsOfAddress(snap, ip), mode: null };
}

/**
 * A hypothetical member of a group: in the group itself and in every group all of its current
 * members share. Its mode is the service group's, else its members' when they agree.
 */
export function groupEndpoint(snap: PolicySnapshot, name: string): Endpoint {
  const g = snap.groups.get(name);
  if (!g) throw new MsegError('MSEG_ERR_NOT_FOUND', `group "${name}" does not exist`);
  const ids = snap.members.get(name) ?? [];
  const groups = new Set<string>([name]);
  if (ids.length > 0) {
    for (const shared of snap.groupsOf.get(ids[0]) ?? []) {
      if (ids.every((id) => snap.groupsOf.get(id)?.has(shared))) groups.add(shared);
    }
  }
  let mode: EndpointMode = g.mode;
  if (mode === null && ids.length > 0) {
    const modes = new Set(ids.map((id) => modeOfWorkload(snap, snap.workloads.get(id) as WorkloadFacts)));
    mode = modes.size === 1 ? [...modes][0] : 'mixed';
  }
  return { kind: 'group', ref: name, workload: null, groups, mode };
}

/** `from`/`to` of explain: an IP address, else a running workload's id, else a group name. */
export function resolveEndpoint(snap: PolicySnapshot, text: string, field: string): Endpoint {
  const ip = canonicalIp(text);
  if (ip !== null && !text.includes('/')) return addressEndpoint(snap, ip);
  if (snap.workloads.has(text)) return workloadEndpoint(snap, text);
  if (snap.groups.has(text)) return groupEndpoint(snap, text);
  throw bad(field, `"${text}" is no IP address, running workload id or group name`);
}

/** `tcp/80`, `udp/53`, `icmp`: one protocol and at most one port. */
export function parseFlowPort(text: string, field: string): { proto: number; port: number } {
  const r = parsePorts(text);
  if (typeof r === 'string') throw bad(field, r);
  if (r.length !== 1 || r[0].proto === 0) throw bad(field, 'must be one protocol and port, like tcp/80');
  const { proto, lo, hi } = r[0];
  if (proto === 1 || proto === 58) return { proto, port: 0 };
  if (lo !== hi) throw bad(field, 'must be one port, like tcp/80');
  return { proto, port: lo };
}

export function parseFlowApp(text: string | undefined, field: string): string | null {
  if (text === undefined || text === '') return null;
  const id = appId(text);
  if (id < 0) throw bad(field, `unknown application "${text}"`);
  return id === 0 ? null : APP_NAMES[id];
}

export type Enforcer = 'client' | 'server' | 'both' | 'none';

export interface Explanation {
  verdict: 'allow' | 'deny' | 'violate';
  /** The deciding rule; 0 = implicit deny. */
  ruleId: number;
  rule: Rule | null;
  /** Which ends enforce (are in Protect): the client at its egress, the server at its ingress. */
  enforcedBy: Enforcer;
  flow: Flow;
  client: SideReport;
  server: SideReport;
}

export interface SideReport {
  kind: Endpoint['kind'];
  ref: string;
  workload: string | null;
  groups: string[];
  mode: EndpointMode;
  /** This end's own decision; null when no workload is there to hold a policy. */
  decision: SideDecision | null;
}

export function explainFlow(ev: Evaluator, client: Endpoint, server: Endpoint, flow: Flow): Explanation {
  const c = client.mode !== null ? ev.decide('client', client, server, flow) : null;
  const s = server.mode !== null ? ev.decide('server', client, server, flow) : null;
  const cBlocks = c?.action === 'deny' && client.mode === 'protect';
  const sBlocks = s?.action === 'deny' && server.mode === 'protect';
  const cProtect = client.mode === 'protect';
  const sProtect = server.mode === 'protect';
  const enforcedBy: Enforcer = cProtect && sProtect ? 'both' : cProtect ? 'client' : sProtect ? 'server' : 'none';
  // Neither end holds a policy (e.g. two addresses): the rules still say what would apply.
  const fallback = c ?? s ?? ev.decide('client', client, server, flow);
  let verdict: Explanation['verdict'];
  let decisive: SideDecision;
  if (cBlocks || sBlocks) {
    verdict = 'deny';
    decisive = cBlocks ? (c as SideDecision) : (s as SideDecision);
  } else if (c?.action === 'deny' || s?.action === 'deny' || fallback.action === 'deny') {
    verdict = 'violate';
    decisive = c?.action === 'deny' ? c : s?.action === 'deny' ? s : fallback;
  } else {
    verdict = 'allow';
    decisive = fallback;
  }
  const side = (e: Endpoint, d: SideDecision | null): SideReport => ({ kind: e.kind, ref: e.ref, workload: e.workload, groups: [...e.groups].sort(), mode: e.mode, decision: d });
  return {
    verdict,
    ruleId: decisive.ruleId,
    rule: ev.snap.rules.find((r) => r.id === decisive.ruleId) ?? null,
    enforcedBy,
    flow,
    client: side(client, c),
    server: side(server, s),
  };
}
