/**
 * One ingest batch: conversation, violation, rule-hit and DNS updates gathered in memory (merged
 * per key, so each key is written once per batch) and written as a few multi-row upserts in one
 * transaction. No SELECT per record: ingest has to keep up with tens of thousands of records a
 * second on SQLite.
 */
import { sql, type Kysely } from 'kysely';
import type { Context } from '../server/context.js';
import type { Database } from '../store/schema.js';

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

interface ConversationAcc extends ConversationKey, ConversationDelta {}

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

// SQLite allows 32,766 bound values per statement and PostgreSQL 65,535; rows have ≤ 20 columns.
const ROWS_PER_STATEMENT = 1000;

export class IngestBatch {
  private readonly conversations = new Map<string, ConversationAcc>();
  private readonly violations = new Map<string, ViolationAcc>();
  private readonly hits = new Map<number, { hits: number; last: number }>();
  private readonly dns = new Map<string, { name: string; ip: string }>();

  addConversation(k: ConversationKey, d: ConversationDelta): void {
    const key = `${k.bucket}|${k.clientWorkload}|${k.serverWorkload}|${k.clientIp}|${k.serverIp}|${k.serverPort}|${k.proto}|${k.app}|${k.action}|${k.ruleId}`;
    const a = this.conversations.get(key);
    if (!a) {
      this.conversations.set(key, { ...k, ...d });
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

  addViolation(k: Omit<ConversationKey, 'bucket' | 'action'> & { action: 'deny' | 'violate' }, d: ViolationDelta): void {
    const key = `${k.clientWorkload}|${k.serverWorkload}|${k.clientIp}|${k.serverIp}|${k.serverPort}|${k.proto}|${k.app}|${k.ruleId}|${k.action}`;
    const a = this.violations.get(key);
    if (!a) {
      this.violations.set(key, { ...k, side: d.side, clientCount: d.clientCount, serverCount: d.serverCount, firstSeen: d.firstSeen, lastSeen: d.lastSeen, sources: new Set([d.source]) });
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

  addDns(name: string, ip: string): void {
    this.dns.set(`${name}\n${ip}`, { name, ip });
  }

  get conversationCount(): number {
    return this.conversations.size;
  }

  get violationCount(): number {
    return this.violations.size;
  }

  /** Writes everything in one transaction (the caller's, when it runs inside one). */
  async write(ctx: Context): Promise<void> {
    const db = ctx.store.db;
    if (db.isTransaction) await this.writeIn(db, ctx.now());
    else await db.transaction().execute((tx) => this.writeIn(tx, ctx.now()));
  }

  private async writeIn(db: Kysely<Database>, now: number): Promise<void> {
    for (const rows of chunks(sortedValues(this.conversations))) {
      await db
        .insertInto('conversations')
        .values(
          rows.map((c) => ({
            resolution: 0,
            bucket: c.bucket,
            client_workload: c.clientWorkload,
            server_workload: c.serverWorkload,
            client_ip: c.clientIp,
            server_ip: c.serverIp,
            server_port: c.serverPort,
            proto: c.proto,
            app: c.app,
            action: c.action,
            rule_id: c.ruleId,
            enforced_by: SIDE_NAMES[c.side],
            bytes: c.bytes,
            packets: c.packets,
            sessions: c.sessions,
            violations: c.violations,
            threat_severity: c.threatSeverity,
            first_seen: c.firstSeen,
            last_seen: c.lastSeen,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['resolution', 'bucket', 'client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'action', 'rule_id']).doUpdateSet({
            // The other end's report of the same conversation: the row now stands for both.
            enforced_by: sql`case when conversations.enforced_by = excluded.enforced_by then conversations.enforced_by else 'both' end`,
            bytes: sql`conversations.bytes + excluded.bytes`,
            packets: sql`conversations.packets + excluded.packets`,
            sessions: sql`conversations.sessions + excluded.sessions`,
            violations: sql`conversations.violations + excluded.violations`,
            threat_severity: sql`case when excluded.threat_severity > conversations.threat_severity then excluded.threat_severity else conversations.threat_severity end`,
            first_seen: sql`case when excluded.first_seen < conversations.first_seen then excluded.first_seen else conversations.first_seen end`,
            last_seen: sql`case when excluded.last_seen > conversations.last_seen then excluded.last_seen else conversations.last_seen end`,
          }),
        )
        .execute();
    }

    for (const rows of chunks(sortedValues(this.violations))) {
      await db
        .insertInto('violations')
        .values(
          rows.map((v) => ({
            client_workload: v.clientWorkload,
            server_workload: v.serverWorkload,
            client_ip: v.clientIp,
            server_ip: v.serverIp,
            server_port: v.serverPort,
            proto: v.proto,
            app: v.app,
            rule_id: v.ruleId,
            action: v.action,
            enforced_by: SIDE_NAMES[v.side],
            reported_by: [...v.sources].sort().join(','),
            client_count: v.clientCount,
            server_count: v.serverCount,
            count: Math.max(v.clientCount, v.serverCount),
            first_seen: v.firstSeen,
            last_seen: v.lastSeen,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'rule_id', 'action']).doUpdateSet({
            enforced_by: sql`case when violations.enforced_by = excluded.enforced_by then violations.enforced_by else 'both' end`,
            reported_by: sql`case when violations.reported_by = excluded.reported_by then violations.reported_by else 'dp,nflog' end`,
            client_count: sql`violations.client_count + excluded.client_count`,
            server_count: sql`violations.server_count + excluded.server_count`,
            // Each end's own tally, summed above; the violation is the larger, never their sum.
            count: sql`case when violations.client_count + excluded.client_count > violations.server_count + excluded.server_count
              then violations.client_count + excluded.client_count else violations.server_count + excluded.server_count end`,
            first_seen: sql`case when excluded.first_seen < violations.first_seen then excluded.first_seen else violations.first_seen end`,
            last_seen: sql`case when excluded.last_seen > violations.last_seen then excluded.last_seen else violations.last_seen end`,
          }),
        )
        .execute();
    }

    // Few distinct rules per batch: one UPDATE each. Sorted so concurrent batches on PostgreSQL
    // lock rule rows in the same order and cannot deadlock.
    for (const [id, h] of [...this.hits].sort((a, b) => a[0] - b[0])) {
      await db
        .updateTable('rules')
        .set({
          hits: sql`hits + ${h.hits}`,
          last_hit: sql`case when last_hit is null or last_hit < ${h.last} then ${h.last} else last_hit end`,
        })
        .where('id', '=', id)
        .execute();
    }

    for (const rows of chunks([...this.dns.values()])) {
      await db
        .insertInto('dns_names')
        .values(rows.map((d) => ({ name: d.name, ip: d.ip, last_seen: now })))
        .onConflict((oc) => oc.columns(['name', 'ip']).doUpdateSet({ last_seen: sql`excluded.last_seen` }))
        .execute();
    }
  }
}

/**
 * Rows in key order: two batches upserting the same rows (both ends of a conversation, reported
 * by two agents at once) then take PostgreSQL's row locks in the same order and cannot deadlock.
 */
function sortedValues<T>(m: Map<string, T>): T[] {
  return [...m.keys()].sort().map((k) => m.get(k) as T);
}

function* chunks<T>(items: T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) yield items.slice(i, i + ROWS_PER_STATEMENT);
}
