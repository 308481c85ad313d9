/**
 * The policy API model: groups (criteria over workload attributes, addresses and domains) and
 * ordered rules between groups. Kept apart from the compiled per-workload form (compile.ts), as
 * cilium keeps pkg/policy/api apart from its repository.
 */
import type { Group as GroupRow, Rule as RuleRow } from '../store/schema.js';

export const CRITERION_KEYS = ['image', 'name', 'label', 'service', 'host', 'address', 'domain'] as const;
export type CriterionKey = (typeof CRITERION_KEYS)[number];

export const CRITERION_OPS = ['=', '!=', 'contains', 'prefix', 'regex'] as const;
export type CriterionOp = (typeof CRITERION_OPS)[number];

/**
 * One condition of a group. Criteria with the same key and a positive op (=, contains, prefix,
 * regex) are alternatives (OR); different keys, and every `!=`, must all hold (AND). So
 * `image=nginx, image=httpd, label!=tier=test` means "nginx or httpd, and not labelled tier=test".
 */
export interface Criterion {
  key: CriterionKey;
  op: CriterionOp;
  /** label: `k=v` or `k`; address: IP or CIDR; domain: FQDN, `*.` wildcard allowed. */
  value: string;
}

export type Mode = 'monitor' | 'protect';
export type GroupKind = 'user' | 'service' | 'reserved';

export interface Group {
  name: string;
  comment: string;
  criteria: Criterion[];
  kind: GroupKind;
  /** Only service groups carry a mode. */
  mode: Mode | null;
  createdAt: number;
  updatedAt: number;
}

export type Action = 'allow' | 'deny';

export interface Rule {
  id: number;
  position: number;
  from: string;
  to: string;
  ports: string;
  /** ['any'] or application names as in @mseg/dp APP_NAMES. */
  apps: string[];
  action: Action;
  enabled: boolean;
  comment: string;
  hits: number;
  lastHit: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Anything that is neither a known workload nor a host. */
export const EXTERNAL = 'external';
/** The hosts' own addresses. */
export const NODES = 'nodes';
/** Every monitored workload. */
export const CONTAINERS = 'containers';
export const RESERVED_GROUPS = [EXTERNAL, NODES, CONTAINERS] as const;

export const RESERVED_COMMENTS: Record<(typeof RESERVED_GROUPS)[number], string> = {
  external: 'any address that is not a known workload or host',
  nodes: 'the hosts running workloads',
  containers: 'all workloads',
};

/** Service groups are named `svc.<service>` and made automatically. */
export const SERVICE_PREFIX = 'svc.';

export function serviceGroupName(service: string): string {
  return SERVICE_PREFIX + service;
}

export function isReserved(name: string): boolean {
  return (RESERVED_GROUPS as readonly string[]).includes(name);
}

export function groupFromRow(r: GroupRow): Group {
  return {
    name: r.name,
    comment: r.comment,
    criteria: JSON.parse(r.criteria) as Criterion[],
    kind: r.kind,
    mode: r.mode,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function ruleFromRow(r: RuleRow): Rule {
  return {
    id: Number(r.id),
    position: Number(r.position),
    from: r.from_group,
    to: r.to_group,
    ports: r.ports,
    apps: JSON.parse(r.apps) as string[],
    action: r.action,
    enabled: Number(r.enabled) === 1,
    comment: r.comment,
    hits: Number(r.hits),
    lastHit: r.last_hit === null ? null : Number(r.last_hit),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
