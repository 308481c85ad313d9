/**
 * Shapes of GET /api/v1/graph and GET /api/v1/policies/explain. Nodes and edges are the
 * controller's own schemas (packages/controller/src/api/graph.ts, types only), so a field changed
 * there fails the web's typecheck instead of drifting.
 */
import type { GraphEdge, GraphNode } from '@mseg/controller/dist/api/graph.js';

export type { GraphEdge, GraphNode };
export type Verdict = GraphEdge['verdict'];
export type Mode = NonNullable<GraphNode['mode']>;
export type NodeKind = GraphNode['kind'];

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
