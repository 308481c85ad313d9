/**
 * Protect from a container's first moment. The controller compiles a rule set per workload, so a
 * new container's own set arrives only after a round trip (workload report → recompile →
 * WatchPolicy push), which took seconds under load: the unprotected start-up window of the
 * reference design. The agent does not wait for it when the container's service is known to be in
 * Protect: the modes of every service it has seen arrive with the rule sets of its members, and
 * this keeps them (also after the last member is gone).
 *
 * Such a container gets a provisional table at once: the rules of an already-compiled member of
 * the same service, with the new container's addresses added where that member's own addresses
 * stood, or, without a member to copy, no rules at all (loopback, established and neighbour
 * discovery pass; everything else is logged and dropped). The controller's own rule set replaces
 * it when it arrives. The guess only ever errs towards closing: Protect wins when members of one
 * service disagree, and a service last seen in Protect stays so until the controller says otherwise.
 */
import type { Mode, RuleSpec } from '@mseg/dp';
import { containsAny, resolvePeer } from './peers.js';

/** What the agent knows of a running workload for this purpose. */
export interface ServiceMember {
  id: string;
  service: string;
  ips: readonly string[];
}

interface Template {
  ips: string[];
  rules: RuleSpec[];
}

interface Known {
  mode: Mode;
  /** A Protect member's compiled rules (null for Monitor, or when no member had addresses). */
  template: Template | null;
}

export class ServiceModes {
  private readonly services = new Map<string, Known>();

  /** Learns from the workloads that have their own rule set (`policies` by workload id). */
  learn(members: readonly ServiceMember[], policies: ReadonlyMap<string, { mode: Mode; rules: RuleSpec[] }>): void {
    const seen = new Map<string, Known>();
    // By id: the same table and policies always pick the same template.
    for (const m of [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const p = policies.get(m.id);
      if (!p || !m.service) continue;
      const k = seen.get(m.service);
      if (k?.mode === 'protect' && k.template) continue;
      if (k && p.mode !== 'protect') continue;
      const template = p.mode === 'protect' && m.ips.length ? { ips: [...m.ips], rules: p.rules } : null;
      seen.set(m.service, { mode: p.mode, template });
    }
    for (const [s, k] of seen) this.services.set(s, k);
  }

  /** Rules for a workload of `service` that has no rule set yet, or null unless the service is in Protect. */
  provisional(service: string, ips: readonly string[]): RuleSpec[] | null {
    const k = this.services.get(service);
    if (k?.mode !== 'protect') return null;
    return k.template ? adoptRules(k.template.rules, k.template.ips, ips) : [];
  }
}

/**
 * A member's rules made to apply to another member: each side (`from`, `to`) that covers the
 * member's addresses also gets `ips`. Only the own side decides whether a rule applies (see
 * compile.ts); the peers stay as compiled.
 */
export function adoptRules(rules: readonly RuleSpec[], memberIps: readonly string[], ips: readonly string[]): RuleSpec[] {
  const none = new Map<string, string[]>();
  const widen = (side: string[]): string[] => {
    if (!containsAny(side.flatMap((p) => resolvePeer(p, none)), memberIps)) return side;
    return [...side, ...ips.filter((ip) => !side.includes(ip))];
  };
  return rules.map((r) => ({ ...r, from: widen(r.from), to: widen(r.to) }));
}
