/** Shapes of the controller's /policies routes. */
export type Action = 'allow' | 'deny';

export interface Rule {
  id: number;
  position: number;
  from: string;
  to: string;
  ports: string;
  apps: string[];
  action: Action;
  enabled: boolean;
  comment: string;
  hits: number;
  lastHit: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface RuleInput {
  from: string;
  to: string;
  ports: string;
  apps: string[];
  action: Action;
  enabled: boolean;
  comment: string;
}

export interface ImportResult {
  groupsCreated: number;
  groupsUpdated: number;
  rulesCreated: number;
  rulesUpdated: number;
  rulesDeleted: number;
  reordered: boolean;
  revision: number | null;
}

export interface Explanation {
  verdict: 'allow' | 'deny' | 'violate';
  ruleId: number;
  rule: Rule | null;
  enforcedBy: 'client' | 'server' | 'both' | 'none';
  client: { ref: string; mode: 'monitor' | 'protect' | 'mixed' | null; groups: string[] };
  server: { ref: string; mode: 'monitor' | 'protect' | 'mixed' | null; groups: string[] };
}
