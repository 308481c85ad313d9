/** Shapes of GET /api/v1/graph and GET /api/v1/policies/explain, as the controller answers them. */

export type Verdict = 'allow' | 'violate' | 'deny';
export type Mode = 'monitor' | 'protect';
export type NodeKind = 'workload' | 'group' | 'external' | 'host';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  name: string;
  /** Service group of a workload; `external` or `nodes` for addresses. */
  group: string;
  mode: Mode | null;
}

export interface GraphEdge {
  from: string;
  to: string;
  ports: string[];
  apps: string[];
  bytes: number;
  sessions: number;
  violations: number;
  verdict: Verdict;
  lastSeen: number;
  ruleIds: number[];
}

export interface Graph {
  level: 'workload' | 'group';
  since: number;
  until: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Time windows of the map; `live` is the last 5 minutes, refreshed on new connection data. */
export type TimeWindow = 'live' | '15m' | '1h' | '24h';

export interface MapFilters {
  window: TimeWindow;
  groups: string[];
  apps: string[];
  verdicts: Verdict[];
}

interface ExplainSide {
  kind: 'workload' | 'group' | 'address';
  ref: string;
  workload: string | null;
  groups: string[];
  mode: Mode | 'mixed' | null;
  decision: { ruleId: number; action: 'allow' | 'deny' } | null;
}

export interface Explanation {
  verdict: Verdict;
  /** 0 = implicit deny. */
  ruleId: number;
  rule: { id: number; from: string; to: string; ports: string; apps: string[]; action: 'allow' | 'deny'; comment: string } | null;
  enforcedBy: 'client' | 'server' | 'both' | 'none';
  flow: { proto: number; port: number; app: string | null };
  client: ExplainSide;
  server: ExplainSide;
}
