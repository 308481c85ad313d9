/** GET /connections items (packages/controller/src/api/connections.ts). */
export type Verdict = 'allow' | 'deny' | 'violate';
export const VERDICTS: Verdict[] = ['allow', 'violate', 'deny'];

export interface Conversation {
  /** '' for an outside address */
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  /** IP protocol number */
  proto: number;
  app: string;
  verdict: Verdict;
  /** 0 = the implicit deny */
  ruleId: number;
  enforcedBy: 'client' | 'server' | 'both';
  bytes: number;
  packets: number;
  sessions: number;
  violations: number;
  threatSeverity: number;
  firstSeen: number;
  lastSeen: number;
}

export interface ConnectionFilters {
  /** client: workload id, group name or `external` */
  from?: string;
  to?: string;
  app?: string;
  port?: number;
  verdict?: Verdict;
  since?: number;
  until?: number;
}
