/**
 * Compiled form of a policy: peer sets with O(1) lookup for exact addresses, CIDRs and domain
 * patterns apart, port ranges and app-id sets as numbers. Evaluated once per session and again
 * once its application is known, never per packet.
 */
import { APP_UNKNOWN, appId } from '../dpi/apps.js';
import { addressKey, cidrContains, parseCidr, type Cidr } from '../net/address.js';
import { FqdnTable, domainMatches } from './fqdn-table.js';
import { parsePorts, type Mode, type PolicySpec, type PortRange } from './model.js';

export const Action = { none: 0, allow: 1, deny: 2, violate: 3 } as const;
export const ACTION_NAMES = ['none', 'allow', 'deny', 'violate'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Rule id of the implicit deny that ends every policy. */
export const IMPLICIT_DENY_RULE = 0;

class PeerSet {
  readonly any: boolean;
  private readonly exact = new Set<string>();
  private readonly cidrs: Cidr[] = [];
  private readonly domains: string[] = [];

  constructor(peers: readonly string[]) {
    this.any = peers.includes('any');
    for (const p of peers) {
      if (p === 'any') continue;
      const c = parseCidr(p);
      if (c) {
        if (c.bits === 128) this.exact.add(addressKey(c.words));
        else this.cidrs.push(c);
      } else {
        this.domains.push(p.toLowerCase());
      }
    }
  }

  has(addr: Uint32Array, fqdn: FqdnTable): boolean {
    if (this.any) return true;
    if (this.exact.size > 0 && this.exact.has(addressKey(addr))) return true;
    for (const c of this.cidrs) if (cidrContains(c, addr)) return true;
    if (this.domains.length > 0) {
      const names = fqdn.namesOf(addr);
      if (names) for (const n of names) for (const d of this.domains) if (domainMatches(d, n)) return true;
    }
    return false;
  }
}

export interface CompiledRule {
  id: number;
  from: PeerSet;
  to: PeerSet;
  ports: PortRange[];
  /** null = any application. */
  apps: Set<number> | null;
  allow: boolean;
}

export interface CompiledPolicy {
  mode: Mode;
  rules: CompiledRule[];
}

export function compilePolicy(spec: PolicySpec): CompiledPolicy {
  return {
    mode: spec.mode,
    rules: spec.rules.map((r) => {
      const ports = parsePorts(r.ports);
      if (typeof ports === 'string') throw new Error(`rule ${r.id}: ports: ${ports}`);
      const anyApp = r.apps.some((a) => a.toLowerCase() === 'any');
      return {
        id: r.id,
        from: new PeerSet(r.from),
        to: new PeerSet(r.to),
        ports,
        apps: anyApp ? null : new Set(r.apps.map(appId)),
        allow: r.action === 'allow',
      };
    }),
  };
}

export interface Verdict {
  action: number;
  ruleId: number;
  /** The deciding rule named an application that is not known yet: evaluate again once it is. */
  pending: boolean;
}

function portMatches(ports: PortRange[], proto: number, port: number): boolean {
  for (const r of ports) if ((r.proto === 0 || r.proto === proto) && port >= r.lo && port <= r.hi) return true;
  return false;
}

/**
 * First matching rule decides; no match is the implicit deny (rule 0). While the application is
 * unknown and `appFinal` is false, a rule that names applications matches provisionally and the
 * verdict is marked pending, so an app-specific allow does not block the first packets it needs
 * to be identified; the verdict is re-taken when DPI decides. Monitor turns deny into violate.
 */
export function evaluate(
  policy: CompiledPolicy,
  client: Uint32Array,
  server: Uint32Array,
  proto: number,
  serverPort: number,
  app: number,
  appFinal: boolean,
  fqdn: FqdnTable,
  out: Verdict,
): Verdict {
  let allow = false;
  let ruleId = IMPLICIT_DENY_RULE;
  let pending = false;
  for (const r of policy.rules) {
    if (!portMatches(r.ports, proto, serverPort)) continue;
    if (!r.from.has(client, fqdn) || !r.to.has(server, fqdn)) continue;
    if (r.apps !== null) {
      if (app === APP_UNKNOWN && !appFinal) {
        pending = true;
      } else if (!r.apps.has(app)) {
        continue;
      }
    }
    allow = r.allow;
    ruleId = r.id;
    break;
  }
  out.ruleId = ruleId;
  out.pending = pending;
  out.action = allow ? Action.allow : policy.mode === 'protect' ? Action.deny : Action.violate;
  return out;
}
