/**
 * Shapes of the controller's /policies routes. A rule is the controller's own schema
 * (packages/controller/src/api/policies.ts, its TypeBox type; types only), so a field changed
 * there fails the web's typecheck instead of drifting.
 */
import type { RuleSchema } from '@mseg/controller/dist/api/policies.js';

export type Rule = (typeof RuleSchema)['static'];
export type Action = Rule['action'];

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
