/**
 * Shapes of the controller's /groups routes. A group is the controller's own schema
 * (packages/controller/src/api/groups.ts, its TypeBox type; types only), so a field changed there
 * fails the web's typecheck instead of drifting.
 */
import type { GroupSchema } from '@mseg/controller/dist/api/groups.js';

export type Group = (typeof GroupSchema)['static'];
export type Criterion = Group['criteria'][number];
export type Mode = NonNullable<Group['mode']>;
export type GroupKind = Group['kind'];
/** The editor's choices, in its order; each must be one the controller accepts. */
export const CRITERION_KEYS = ['image', 'name', 'label', 'service', 'host', 'address', 'domain'] as const satisfies readonly Criterion['key'][];
export const CRITERION_OPS = ['=', '!=', 'contains', 'prefix', 'regex'] as const satisfies readonly Criterion['op'][];

/** The first members (by name) of what criteria select, and how many there are in all. */
export interface GroupPreview {
  members: { id: string; name: string; service: string; host: string }[];
  total: number;
}

export interface WouldBlock {
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  side: 'egress' | 'ingress';
  ruleId: number;
  sessions: number;
  bytes: number;
  lastSeen: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}
