/** GET /threats items (packages/controller/src/api/threats.ts). */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Threat {
  id: number;
  /** catalogue id, e.g. 4003 SQL injection */
  threatId: number;
  name: string;
  severity: Severity;
  workloadId: string;
  client: string;
  /** address:port */
  server: string;
  proto: number;
  app: string;
  detail: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

export interface ThreatFilters {
  workload?: string;
  severity?: Severity;
  minSeverity?: Severity;
  threatId?: number;
  since?: number;
  until?: number;
}
