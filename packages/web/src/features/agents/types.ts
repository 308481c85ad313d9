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
}
