/** GET /agents items (packages/controller/src/api/agents.ts). */
export type AgentState = 'online' | 'offline' | 'revoked';

export interface Agent {
  id: string;
  host: string;
  version: string;
  state: AgentState;
  registeredAt: number;
  lastSeen: number;
  policyRevision: number;
  workloads: number;
  /** the last heartbeat; null before the first one */
  status: AgentStatus | null;
}

export interface AgentStatus {
  at: number;
  workloads: number;
  protectedWorkloads: number;
  dataPlane: { running: boolean; restarts: number; packets: number; drops: number; sessions: number };
  problems: string[];
}

/** GET /agents filters (a type, not an interface: it is passed as a query record). */
export type AgentFilters = {
  host?: string;
  state?: AgentState;
};
