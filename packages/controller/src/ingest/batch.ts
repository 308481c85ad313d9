/**
 * One ingest batch: conversation, graph edge, violation, rule-hit, DNS and report-batch updates
 * gathered in memory (merged per key, so each key is written once per batch; the group commit
 * merges the batches of many reports, so both ends of a conversation usually become one row
 * write) and turned into a few multi-row upserts for one transaction. No SELECT per record:
 * ingest has to keep up with tens of thousands of records a second on SQLite.
 */
import type { Dialect } from '../store/dialect.js';
import { MINUTE, RAW } from './rollup.js';
import type { EdgeEnds } from './address-book.js';
import { upserts, type Statement, type UpsertTable } from './statements.js';

/** The end of a connection a report came from, as bits: both ends = CLIENT | SERVER. */
export const CLIENT = 1;
export const SERVER = 2;
const SIDE_NAMES = ['', 'client', 'server', 'both'] as const;

/** Raw conversations are kept per 5 s slot, the data plane's report interval. */
export const RAW_BUCKET_MS = 5_000;

export type Verdict = 'allow' | 'deny' | 'violate';

export interface ConversationKey {
  bucket: number;
  clientWorkload: string;
  serverWorkload: string;
  clientIp: string;
  serverIp: string;
  serverPort: number;
  proto: number;
  app: string;
  action: Verdict;
  ruleId: number;
}

export interface ConversationDelta {
  /** Which end reported (CLIENT or SERVER): recorded as enforced_by, the end whose policy decided. */
  side: number;
  bytes: number;
  packets: number;
  sessions: number;
  violations: number;
  threatSeverity: number;
  firstSeen: number;
  lastSeen: number;
}

interface ConversationAcc extends ConversationKey, ConversationDelta {
  /** Its ends on the group map, as the address book placed them when it was reported. */
  clientNode: string;
  clientKind: number;
  serverNode: string;
  serverKind: number;
}

interface EdgeAcc extends EdgeEnds {
  resolution: number;
  bucket: number;
  serverPort: number;
  proto: number;
  app: string;
  action: Verdict;
  ruleId: number;
  bytes: number;
  sessions: number;
  violations: number;
  lastSeen: number;
}

export interface ViolationDelta {
  side: number;
  source: 'dp' | 'nflog';
  clientCount: number;
  serverCount: number;
  firstSeen: number;
  lastSeen: number;
}

interface ViolationAcc extends Omit<ConversationKey, 'bucket' | 'action'>, Omit<ViolationDelta, 'source'> {
  action: 'deny' | 'violate';
  sources: Set<string>;
}

/**
 * What a report's ingest adds, record by record: an IngestBatch itself (PostgreSQL), or the
 * encoded log of these calls that the SQLite writer thread replays into its batch (oplog.ts).
 */
export interface IngestSink {
  /** Records the report was made of (what the group commit sizes its transactions by). */
  records: number;
  /** The sink copies what it keeps: a caller may pass the same objects again, refilled (oplog.ts replay). */
  addConversation(k: ConversationKey, d: ConversationDelta, e: EdgeEnds): void;
  addViolation(k: ViolationKey, d: ViolationDelta): void;
  addHit(ruleId: number, sessions: number, at: number): void;
  addDns(name: string, ip: string, at: number): void;
  addReport(agentId: string, batchId: string, at: number): void;
}

export type ViolationKey = Omit<ConversationKey, 'bucket' | 'action'> & { action: 'deny' | 'violate' };

/**
 * Rows keyed by their bucket, then by the rest of their key as text. A bucket (ms) is past 2^31,
 * no small integer: turning it into text for each record's key cost more than the lookup itself.
 */
class ByBucket<T> {
  private readonly buckets = new Map<number, Map<string, T>>();

  of(bucket: number): Map<string, T> {
    let m = this.buckets.get(bucket);
    if (!m) {
      m = new Map();
      this.buckets.set(bucket, m);
    }
    return m;
  }

  *values(): Generator<T> {
    for (const m of this.buckets.values()) yield* m.values();
  }

  /** Every row, in (bucket, key) order on PostgreSQL (see inLockOrder). */
  rows(dialect: Dialect): T[] {
    if (dialect !== 'postgres') return [...this.values()];
    const out: T[] = [];
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) out.push(...inLockOrder(this.of(b), dialect));
    return out;
  }
}

export class IngestBatch implements IngestSink {
  private readonly conversations = new ByBucket<ConversationAcc>();
  private readonly violations = new Map<string, ViolationAcc>();
  private readonly hits = new Map<number, { hits: number; last: number }>();
  private readonly dns = new Map<string, { name: string; ip: string; at: number }>();
  private readonly reports = new Map<string, { agentId: string; batchId: string; at: number }>();
  records = 0;

  addConversation(k: ConversationKey, d: ConversationDelta, e: EdgeEnds): void {
    const key = `${k.clientWorkload}|${k.serverWorkload}|${k.clientIp}|${k.serverIp}|${k.serverPort}|${k.proto}|${k.app}|${k.action}|${k.ruleId}`;
    const rows = this.conversations.of(k.bucket);
    const a = rows.get(key);
    if (!a) {
      // Spelled out, not spread: one object shape for all rows, which V8 handles many times faster.
      rows.set(key, {
        bucket: k.bucket,
        clientWorkload: k.clientWorkload,
        serverWorkload: k.serverWorkload,
        clientIp: k.clientIp,
        serverIp: k.serverIp,
        serverPort: k.serverPort,
        proto: k.proto,
        app: k.app,
        action: k.action,
        ruleId: k.ruleId,
        side: d.side,
        bytes: d.bytes,
        packets: d.packets,
        sessions: d.sessions,
        violations: d.violations,
        threatSeverity: d.threatSeverity,
        firstSeen: d.firstSeen,
        lastSeen: d.lastSeen,
        clientNode: e.client,
        clientKind: e.clientKind,
        serverNode: e.server,
        serverKind: e.serverKind,
      });
      return;
    }
    a.side |= d.side;
    a.bytes += d.bytes;
    a.packets += d.packets;
    a.sessions += d.sessions;
    a.violations += d.violations;
    if (d.threatSeverity > a.threatSeverity) a.threatSeverity = d.threatSeverity;
    if (d.firstSeen < a.firstSeen) a.firstSeen = d.firstSeen;
    if (d.lastSeen > a.lastSeen) a.lastSeen = d.lastSeen;
  }

  /** Adds a conversation's counters to its group-map edge of `bucket`; `key` is the edge's key within the bucket. */
  private static addEdge(edges: ByBucket<EdgeAcc>, resolution: number, bucket: number, key: string, k: ConversationAcc): void {
    const rows = edges.of(bucket);
    const a = rows.get(key);
    if (!a) {
      rows.set(key, {
        client: k.clientNode,
        clientKind: k.clientKind,
        server: k.serverNode,
        serverKind: k.serverKind,
        resolution,
        bucket,
        serverPort: k.serverPort,
        proto: k.proto,
        app: k.app,
        action: k.action,
        ruleId: k.ruleId,
        bytes: k.bytes,
        sessions: k.sessions,
        violations: k.violations,
        lastSeen: k.lastSeen,
      });
      return;
    }
    a.bytes += k.bytes;
    a.sessions += k.sessions;
    a.violations += k.violations;
    if (k.lastSeen > a.lastSeen) a.lastSeen = k.lastSeen;
  }

  addViolation(k: ViolationKey, d: ViolationDelta): void {
    const key = `${k.clientWorkload}|${k.serverWorkload}|${k.clientIp}|${k.serverIp}|${k.serverPort}|${k.proto}|${k.app}|${k.ruleId}|${k.action}`;
    const a = this.violations.get(key);
    if (!a) {
      const { clientWorkload, serverWorkload, clientIp, serverIp, serverPort, proto, app, ruleId, action } = k;
      this.violations.set(key, {
        clientWorkload, serverWorkload, clientIp, serverIp, serverPort, proto, app, ruleId, action,
        side: d.side, clientCount: d.clientCount, serverCount: d.serverCount, firstSeen: d.firstSeen, lastSeen: d.lastSeen, sources: new Set([d.source]),
      });
      return;
    }
    a.side |= d.side;
    a.sources.add(d.source);
    a.clientCount += d.clientCount;
    a.serverCount += d.serverCount;
    if (d.firstSeen < a.firstSeen) a.firstSeen = d.firstSeen;
    if (d.lastSeen > a.lastSeen) a.lastSeen = d.lastSeen;
  }

  /** Counts sessions a rule decided; rule 0 (the implicit deny) is no stored rule. */
  addHit(ruleId: number, sessions: number, at: number): void {
    if (ruleId === 0) return;
    const h = this.hits.get(ruleId);
    if (!h) this.hits.set(ruleId, { hits: sessions, last: at });
    else {
      h.hits += sessions;
      if (at > h.last) h.last = at;
    }
  }

  addDns(name: string, ip: string, at: number): void {
    const key = `${name}\n${ip}`;
    const d = this.dns.get(key);
    if (!d) this.dns.set(key, { name, ip, at });
    else if (at > d.at) d.at = at;
  }

  /** Records an agent's report batch as ingested, in the same transaction as its rows. */
  addReport(agentId: string, batchId: string, at: number): void {
    this.reports.set(`${agentId}\n${batchId}`, { agentId, batchId, at });
  }

  /**
   * The statements that write this batch, for one transaction. The group map's edges, per 5 s
   * and per minute, are summed here from the merged conversations (so per conversation, not per
   * record).
   */
  *statements(dialect: Dialect): Generator<Statement> {
    yield* upserts(CONVERSATIONS, this.conversations.rows(dialect), dialect, (c, o, i) => {
      o[i] = RAW;
      o[i + 1] = c.bucket;
      o[i + 2] = c.clientWorkload;
      o[i + 3] = c.serverWorkload;
      o[i + 4] = c.clientIp;
      o[i + 5] = c.serverIp;
      o[i + 6] = c.serverPort;
      o[i + 7] = c.proto;
      o[i + 8] = c.app;
      o[i + 9] = c.action;
      o[i + 10] = c.ruleId;
      o[i + 11] = SIDE_NAMES[c.side];
      o[i + 12] = c.bytes;
      o[i + 13] = c.packets;
      o[i + 14] = c.sessions;
      o[i + 15] = c.violations;
      o[i + 16] = c.threatSeverity;
      o[i + 17] = c.firstSeen;
      o[i + 18] = c.lastSeen;
    });
    // Per resolution and bucket; one key text per conversation serves both resolutions.
    const raw = new ByBucket<EdgeAcc>();
    const minutes = new ByBucket<EdgeAcc>();
    for (const c of this.conversations.values()) {
      const key = `${c.clientNode}|${c.clientKind}|${c.serverNode}|${c.serverKind}|${c.serverPort}|${c.proto}|${c.app}|${c.action}|${c.ruleId}`;
      IngestBatch.addEdge(raw, RAW, c.bucket, key, c);
      IngestBatch.addEdge(minutes, MINUTE, c.bucket - (c.bucket % MINUTE), key, c);
    }
    yield* upserts(GRAPH_EDGES, [...raw.rows(dialect), ...minutes.rows(dialect)], dialect, (e, o, i) => {
      o[i] = e.resolution;
      o[i + 1] = e.bucket;
      o[i + 2] = e.client;
      o[i + 3] = e.clientKind;
      o[i + 4] = e.server;
      o[i + 5] = e.serverKind;
      o[i + 6] = e.serverPort;
      o[i + 7] = e.proto;
      o[i + 8] = e.app;
      o[i + 9] = e.action;
      o[i + 10] = e.ruleId;
      o[i + 11] = e.bytes;
      o[i + 12] = e.sessions;
      o[i + 13] = e.violations;
      o[i + 14] = e.lastSeen;
    });
    yield* upserts(VIOLATIONS, inLockOrder(this.violations, dialect), dialect, (v, o, i) => {
      o[i] = v.clientWorkload;
      o[i + 1] = v.serverWorkload;
      o[i + 2] = v.clientIp;
      o[i + 3] = v.serverIp;
      o[i + 4] = v.serverPort;
      o[i + 5] = v.proto;
      o[i + 6] = v.app;
      o[i + 7] = v.ruleId;
      o[i + 8] = v.action;
      o[i + 9] = SIDE_NAMES[v.side];
      o[i + 10] = [...v.sources].sort().join(',');
      o[i + 11] = v.clientCount;
      o[i + 12] = v.serverCount;
      o[i + 13] = Math.max(v.clientCount, v.serverCount);
      o[i + 14] = v.firstSeen;
      o[i + 15] = v.lastSeen;
    });
    // Few distinct rules per batch: one UPDATE each. Sorted so concurrent batches on PostgreSQL
    // lock rule rows in the same order and cannot deadlock.
    const hit = dialect === 'postgres' ? HIT_PG : HIT_SQLITE;
    for (const [id, h] of [...this.hits].sort((a, b) => a[0] - b[0])) yield { text: hit, params: [h.hits, h.last, h.last, id] };
    yield* upserts(DNS_NAMES, inLockOrder(this.dns, dialect), dialect, (d, o, i) => {
      o[i] = d.name;
      o[i + 1] = d.ip;
      o[i + 2] = d.at;
    });
    yield* upserts(REPORT_BATCHES, inLockOrder(this.reports, dialect), dialect, (r, o, i) => {
      o[i] = r.agentId;
      o[i + 1] = r.batchId;
      o[i + 2] = r.at;
    });
  }
}

const CONVERSATIONS: UpsertTable = {
  table: 'conversations',
  columns: ['resolution', 'bucket', 'client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'action', 'rule_id',
    'enforced_by', 'bytes', 'packets', 'sessions', 'violations', 'threat_severity', 'first_seen', 'last_seen'],
  conflict: ['resolution', 'bucket', 'client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'action', 'rule_id'],
  // The other end's report of the same conversation: the row now stands for both.
  update: `enforced_by = case when conversations.enforced_by = excluded.enforced_by then conversations.enforced_by else 'both' end,
    bytes = conversations.bytes + excluded.bytes,
    packets = conversations.packets + excluded.packets,
    sessions = conversations.sessions + excluded.sessions,
    violations = conversations.violations + excluded.violations,
    threat_severity = case when excluded.threat_severity > conversations.threat_severity then excluded.threat_severity else conversations.threat_severity end,
    first_seen = case when excluded.first_seen < conversations.first_seen then excluded.first_seen else conversations.first_seen end,
    last_seen = case when excluded.last_seen > conversations.last_seen then excluded.last_seen else conversations.last_seen end`,
};

const GRAPH_EDGES: UpsertTable = {
  table: 'graph_edges',
  columns: ['resolution', 'bucket', 'client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'proto', 'app', 'action', 'rule_id',
    'bytes', 'sessions', 'violations', 'last_seen'],
  conflict: ['resolution', 'bucket', 'client_node', 'client_kind', 'server_node', 'server_kind', 'server_port', 'proto', 'app', 'action', 'rule_id'],
  update: `bytes = graph_edges.bytes + excluded.bytes,
    sessions = graph_edges.sessions + excluded.sessions,
    violations = graph_edges.violations + excluded.violations,
    last_seen = case when excluded.last_seen > graph_edges.last_seen then excluded.last_seen else graph_edges.last_seen end`,
};

// count: each end's own tally is summed apart; the violation is the larger, never their sum.
const VIOLATIONS: UpsertTable = {
  table: 'violations',
  columns: ['client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'rule_id', 'action',
    'enforced_by', 'reported_by', 'client_count', 'server_count', 'count', 'first_seen', 'last_seen'],
  conflict: ['client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'rule_id', 'action'],
  update: `enforced_by = case when violations.enforced_by = excluded.enforced_by then violations.enforced_by else 'both' end,
    reported_by = case when violations.reported_by = excluded.reported_by then violations.reported_by else 'dp,nflog' end,
    client_count = violations.client_count + excluded.client_count,
    server_count = violations.server_count + excluded.server_count,
    count = case when violations.client_count + excluded.client_count > violations.server_count + excluded.server_count
      then violations.client_count + excluded.client_count else violations.server_count + excluded.server_count end,
    first_seen = case when excluded.first_seen < violations.first_seen then excluded.first_seen else violations.first_seen end,
    last_seen = case when excluded.last_seen > violations.last_seen then excluded.last_seen else violations.last_seen end`,
};

const DNS_NAMES: UpsertTable = { table: 'dns_names', columns: ['name', 'ip', 'last_seen'], conflict: ['name', 'ip'], update: 'last_seen = excluded.last_seen' };

const REPORT_BATCHES: UpsertTable = { table: 'report_batches', columns: ['agent_id', 'batch_id', 'received_at'], conflict: ['agent_id', 'batch_id'], update: '' };

const HIT_SQLITE = 'update rules set hits = hits + ?, last_hit = case when last_hit is null or last_hit < ? then ? else last_hit end where id = ?';
const HIT_PG = 'update rules set hits = hits + $1, last_hit = case when last_hit is null or last_hit < $2 then $3 else last_hit end where id = $4';

/**
 * A map's rows, in key order on PostgreSQL: two batches upserting the same rows (both ends of a
 * conversation, reported by two agents at once) then take its row locks in the same order and
 * cannot deadlock. SQLite has one writer and no row locks: there the sort is time for nothing.
 */
function inLockOrder<T>(m: Map<string, T>, dialect: Dialect): T[] {
  if (dialect !== 'postgres') return [...m.values()];
  return [...m.keys()].sort().map((k) => m.get(k) as T);
}
