/** GET /violations items (packages/controller/src/api/violations.ts). */
export type ViolationAction = 'deny' | 'violate';

export interface Violation {
  id: number;
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  ruleId: number;
  action: ViolationAction;
  enforcedBy: string;
  reportedBy: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

export interface ViolationFilters {
  workload?: string;
  from?: string;
  to?: string;
  action?: ViolationAction;
  rule?: number;
  since?: number;
  until?: number;
}
