/**
 * Table types of the controller's store, shared by SQLite and PostgreSQL (kysely). Times are
 * milliseconds since the epoch (bigint-safe numbers); JSON columns hold text. Column names are
 * snake_case in SQL and here.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** A 64-bit integer column that PostgreSQL returns as string and SQLite as number; normalised on read. */
type Int64 = ColumnType<number, number, number>;

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: 'admin' | 'reader';
  created_at: Int64;
}

export interface SessionsTable {
  /** SHA-256 of the bearer token; the token itself is never stored. */
  token_hash: string;
  user_id: number;
  created_at: Int64;
  expires_at: Int64;
}

export interface AgentsTable {
  id: string;
  host: string;
  version: string;
  state: 'online' | 'offline' | 'revoked';
  registered_at: Int64;
  last_seen: Int64;
  /** Last policy revision the agent acknowledged (watch stream resume point). */
  policy_revision: Int64;
}

export interface WorkloadsTable {
  id: string;
  agent_id: string;
  host: string;
  name: string;
  image: string;
  /** JSON object of labels. */
  labels: string;
  service: string;
  /** JSON array of {name, mac, ips: string[]} */
  interfaces: string;
  state: 'running' | 'stopped' | 'unmonitored';
  /** Why a running workload is not monitored (host network, paused…), else ''. */
  reason: string;
  created_at: Int64;
  updated_at: Int64;
}

export interface GroupsTable {
  name: string;
  comment: string;
  /** JSON array of {key, op, value}. */
  criteria: string;
  kind: 'user' | 'service' | 'reserved';
  /** Policy mode; only service groups carry one. */
  mode: 'monitor' | 'protect' | null;
  created_at: Int64;
  updated_at: Int64;
}

export interface RulesTable {
  id: Generated<number>;
  /** Order of evaluation, ascending; reorder rewrites positions. */
  position: number;
  from_group: string;
  to_group: string;
  ports: string;
  /** JSON array of application names, or ["any"]. */
  apps: string;
  action: 'allow' | 'deny';
  enabled: number;
  comment: string;
  hits: Int64;
  last_hit: Int64 | null;
  created_at: Int64;
  updated_at: Int64;
}

/** Conversations rolled up per resolution bucket: 0 raw (5 s reports), 60_000 (1 min), 3_600_000 (1 h). */
export interface ConversationsTable {
  id: Generated<number>;
  resolution: number;
  /** Bucket start, ms. */
  bucket: Int64;
  /** Workload id, or '' for an address that is no known workload. */
  client_workload: string;
  server_workload: string;
  client_ip: string;
  server_ip: string;
  server_port: number;
  proto: number;
  app: string;
  action: 'allow' | 'deny' | 'violate';
  rule_id: number;
  /** Which side decided: 'client', 'server' or 'both'. */
  enforced_by: string;
  bytes: Int64;
  packets: Int64;
  sessions: Int64;
  violations: Int64;
  threat_severity: number;
  first_seen: Int64;
  last_seen: Int64;
}

/**
 * The group-level network map per resolution bucket (0 raw 5 s and 60_000 written at ingest;
 * 3_600_000 rolled up). An end is a service group, a workload unknown at ingest, `nodes` or
 * `external`; its kind says which (ingest/batch.ts NODE_*).
 */
export interface GraphEdgesTable {
  resolution: number;
  bucket: Int64;
  client_node: string;
  client_kind: number;
  server_node: string;
  server_kind: number;
  server_port: number;
  proto: number;
  app: string;
  action: 'allow' | 'deny' | 'violate';
  rule_id: number;
  bytes: Int64;
  sessions: Int64;
  violations: Int64;
  last_seen: Int64;
}

export interface ViolationsTable {
  id: Generated<number>;
  client_workload: string;
  server_workload: string;
  client_ip: string;
  server_ip: string;
  server_port: number;
  proto: number;
  app: string;
  rule_id: number;
  action: 'deny' | 'violate';
  enforced_by: string;
  reported_by: string;
  /** Violating sessions as the client's end reported them, and as the server's end did. */
  client_count: ColumnType<number, number | undefined, number>;
  server_count: ColumnType<number, number | undefined, number>;
  /** max(client_count, server_count): the violation counted once when both ends saw it. */
  count: Int64;
  first_seen: Int64;
  last_seen: Int64;
}

export interface ThreatsTable {
  id: Generated<number>;
  threat_id: number;
  name: string;
  severity: string;
  workload_id: string;
  client: string;
  server: string;
  proto: number;
  app: string;
  detail: string;
  count: Int64;
  first_seen: Int64;
  last_seen: Int64;
}

/** Names the DP saw in DNS answers (feeds domain group criteria). */
export interface DnsNamesTable {
  name: string;
  ip: string;
  last_seen: Int64;
}

export interface ConfigTable {
  key: string;
  /** JSON value. */
  value: string;
}

/** Idempotency of agent reports: a batch id seen once is acknowledged again without re-ingesting. */
export interface ReportBatchesTable {
  agent_id: string;
  batch_id: string;
  received_at: Int64;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  agents: AgentsTable;
  workloads: WorkloadsTable;
  groups: GroupsTable;
  rules: RulesTable;
  conversations: ConversationsTable;
  graph_edges: GraphEdgesTable;
  violations: ViolationsTable;
  threats: ThreatsTable;
  dns_names: DnsNamesTable;
  config: ConfigTable;
  report_batches: ReportBatchesTable;
}

export type Rule = Selectable<RulesTable>;
export type NewRule = Insertable<RulesTable>;
export type RuleUpdate = Updateable<RulesTable>;
export type Group = Selectable<GroupsTable>;
export type Workload = Selectable<WorkloadsTable>;
export type Agent = Selectable<AgentsTable>;
export type Conversation = Selectable<ConversationsTable>;
export type Violation = Selectable<ViolationsTable>;
export type ThreatRow = Selectable<ThreatsTable>;
export type User = Selectable<UsersTable>;
