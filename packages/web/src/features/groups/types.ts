/** Shapes of the controller's /groups routes. */
export type Mode = 'monitor' | 'protect';
export type GroupKind = 'user' | 'service' | 'reserved';
export const CRITERION_KEYS = ['image', 'name', 'label', 'service', 'host', 'address', 'domain'] as const;
export const CRITERION_OPS = ['=', '!=', 'contains', 'prefix', 'regex'] as const;

export interface Criterion {
  key: (typeof CRITERION_KEYS)[number];
  op: (typeof CRITERION_OPS)[number];
  value: string;
}

export interface Group {
  name: string;
  comment: string;
  criteria: Criterion[];
  kind: GroupKind;
  mode: Mode | null;
  members: number;
  createdAt: number;
  updatedAt: number;
}

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
