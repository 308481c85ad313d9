/**
 * GET /connections: conversations (both ends' reports merged at ingest) summed over a time
 * window, one item per (client, server, port, protocol, application, verdict, rule). The
 * conversations' roll-up job runs for as long as this app does.
 */
import { Type, type Static } from '@sinclair/typebox';
import { sql } from 'kysely';
import { startRollup } from '../ingest/rollup.js';
import type { ApiPlugin } from './index.js';
import { bucketCondition, bucketStep, inSegmentsFor, segmentsFor, storedPart, timeRange, Verdict, type EndFilter, type Segment } from './conversation-query.js';
import type { Context } from '../server/context.js';
import type { ConversationsTable } from '../store/schema.js';
import { ErrorResponses, PageOf } from './schemas/common.js';
import { emptyPage, Endpoint, Flow, LogQuery, resolveEndpoints } from './schemas/log-query.js';

export const Conversation = Type.Object({
  ...Flow,
  verdict: Verdict,
  bytes: Type.Integer(),
  packets: Type.Integer(),
  sessions: Type.Integer(),
  violations: Type.Integer(),
  threatSeverity: Type.Integer({ description: '0 none … 5 critical' }),
  firstSeen: Type.Integer(),
  lastSeen: Type.Integer(),
});
export type Conversation = Static<typeof Conversation>;

export const ConnectionQuery = LogQuery({
  from: Endpoint('client: workload id, group name or external'),
  to: Endpoint('server: workload id, group name or external'),
  app: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'application name' })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'server port' })),
  verdict: Type.Optional(Verdict),
});
export type ConnectionQuery = Static<typeof ConnectionQuery>;

const KEY = ['client_workload', 'server_workload', 'client_ip', 'server_ip', 'server_port', 'proto', 'app', 'action', 'rule_id'] as const;

const KEY_ORDER = KEY.map((c) => sql.ref(c));

/** A row's conversation key as text, column by column (numbers may come back as text from PostgreSQL). */
const keyOf = (r: Record<(typeof KEY)[number], unknown>): string[] => KEY.map((c) => String(r[c]));

/** A conversation key's sums over some rows (numbers may come back as text from PostgreSQL). */
interface Sums extends Pick<ConversationsTable, 'client_workload' | 'server_workload' | 'client_ip' | 'server_ip' | 'server_port' | 'proto' | 'app' | 'action'> {
  rule_id: number | string;
  min_enforced_by: string;
  max_enforced_by: string;
  bytes: number | string;
  packets: number | string;
  sessions: number | string;
  violations: number | string;
  threat_severity: number | string;
  first_seen: number | string;
  last_seen: number | string;
}

function mergeSums(a: Sums, b: Sums): Sums {
  return {
    ...a,
    min_enforced_by: a.min_enforced_by < b.min_enforced_by ? a.min_enforced_by : b.min_enforced_by,
    max_enforced_by: a.max_enforced_by > b.max_enforced_by ? a.max_enforced_by : b.max_enforced_by,
    bytes: Number(a.bytes) + Number(b.bytes),
    packets: Number(a.packets) + Number(b.packets),
    sessions: Number(a.sessions) + Number(b.sessions),
    violations: Number(a.violations) + Number(b.violations),
    threat_severity: Math.max(Number(a.threat_severity), Number(b.threat_severity)),
    first_seen: Math.min(Number(a.first_seen), Number(b.first_seen)),
    last_seen: Math.max(Number(a.last_seen), Number(b.last_seen)),
  };
}

/**
 * The newest `n` buckets of the window as segments, and whether that is all of it. A row's
 * last_seen lies in its bucket and segments follow each other in time, so a key found there has
 * its latest last_seen there, later than any key found only before: the newest part that holds
 * offset + limit keys holds the page, in the same order.
 */
function newestPart(segments: Segment[], n: number): { segments: Segment[]; whole: boolean } {
  const out: Segment[] = [];
  let left = n;
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i];
    const step = bucketStep(s.resolution);
    const last = Math.floor((s.to - 1) / step) * step;
    const from = last - (left - 1) * step;
    if (from <= s.from) {
      out.unshift(s);
      left -= Math.floor((last - Math.ceil(s.from / step) * step) / step) + 1;
      continue;
    }
    out.unshift({ resolution: s.resolution, from, to: s.to });
    return { segments: out, whole: false };
  }
  return { segments: out, whole: true };
}

/**
 * Sums of the given keys over one segment. The keys drive the join (CROSS JOIN: SQLite keeps
 * that order) so each (key, bucket) is one seek of the key index; their numbers are inlined, as
 * PostgreSQL would type untyped parameters in VALUES as text.
 */
async function pageSums(ctx: Context, keys: string[][], seg: Segment): Promise<Sums[]> {
  if (keys.length === 0) return [];
  const values = sql.join(
    keys.map(
      ([cw, sw, cip, sip, port, proto, app, action, rule]) =>
        sql`(${cw}, ${sw}, ${cip}, ${sip}, ${sql.lit(Number(port))}, ${sql.lit(Number(proto))}, ${app}, ${action}, ${sql.lit(Number(rule))})`,
    ),
  );
  const r = await sql<Sums>`
    with p (cw, sw, cip, sip, port, proto, app, action, rule_id) as (values ${values})
    select c.client_workload, c.server_workload, c.client_ip, c.server_ip, c.server_port, c.proto, c.app, c.action, c.rule_id,
      min(c.enforced_by) as min_enforced_by, max(c.enforced_by) as max_enforced_by, sum(c.bytes) as bytes, sum(c.packets) as packets,
      sum(c.sessions) as sessions, sum(c.violations) as violations, max(c.threat_severity) as threat_severity,
      min(c.first_seen) as first_seen, max(c.last_seen) as last_seen
    from p cross join conversations c
    where c.resolution = ${seg.resolution} and ${bucketCondition(seg.resolution, seg.from, seg.to)}
      and c.client_workload = p.cw and c.server_workload = p.sw and c.client_ip = p.cip and c.server_ip = p.sip
      and c.server_port = p.port and c.proto = p.proto and c.app = p.app and c.action = p.action and c.rule_id = p.rule_id
    group by c.client_workload, c.server_workload, c.client_ip, c.server_ip, c.server_port, c.proto, c.app, c.action, c.rule_id`.execute(ctx.store.db);
  return r.rows;
}

const connections: ApiPlugin = async (app, { ctx }) => {
  let stopRollup: (() => void) | null = null;
  app.addHook('onReady', async () => {
    stopRollup = startRollup(ctx);
  });
  app.addHook('onClose', async () => stopRollup?.());

  app.get(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Conversations in a time window (default the last hour); filters combine with AND',
        querystring: ConnectionQuery,
        response: { 200: PageOf(Conversation), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset, app: appName, port, verdict } = req.query;
      const range = timeRange(req.query, ctx.now(), 60 * 60_000);
      const segments = await storedPart(ctx, await segmentsFor(ctx, range));
      const ends = await resolveEndpoints(ctx, req.query, ['from', 'to']);
      if (!ends) return emptyPage(req.query);

      const db = ctx.store.db;
      const filter: EndFilter = { client: ends.from, server: ends.to };
      // The filters are all key columns: each step below reads the key index alone until step 3.
      const matching = (segs: Segment[]) => {
        let q = db.selectFrom('conversations').where((eb) => inSegmentsFor(eb, segs, filter));
        if (appName !== undefined) q = q.where('app', '=', appName);
        if (port !== undefined) q = q.where('server_port', '=', port);
        if (verdict !== undefined) q = q.where('action', '=', verdict);
        return q;
      };

      // 1. The total: distinct keys of the window, counted from the key index without a table row.
      // With only a server filter, that index would still cover the query, and SQLite would rather
      // read every key of each listed bucket than seek conversations_server and read the rows:
      // reading last_seen too makes it seek.
      const keys =
        filter.server && !filter.client
          ? matching(segments).groupBy([...KEY]).select([...KEY]).select((eb) => eb.fn.max('last_seen').as('last_seen'))
          : matching(segments).select([...KEY]).distinct();
      const total = Number((await db.selectFrom(keys.as('k')).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
      if (offset >= total) return { items: [], total, limit, offset };

      // 2. Which keys the page holds: the newest buckets first (see newestPart), as few as hold the
      // page, instead of summing every row of the window to sort the sums.
      const need = offset + limit;
      let recent: string[][] = [];
      for (let n = 1; ; n *= 2) {
        // When the page reaches the last key, the newest part would grow to the whole window anyway.
        const part = total <= need ? { segments, whole: true } : newestPart(segments, n);
        const rows = await matching(part.segments)
          .groupBy([...KEY])
          .select([...KEY])
          .select((eb) => eb.fn.max('last_seen').as('last_seen'))
          .orderBy('last_seen', 'desc')
          .orderBy(KEY_ORDER)
          .limit(need)
          .execute();
        recent = rows.map(keyOf);
        if (rows.length >= need || part.whole) break;
      }
      const page = recent.slice(offset);

      // 3. The page's sums over the whole window: a seek per key and bucket.
      const sums = new Map<string, Sums>();
      for (const seg of segments) {
        for (const r of await pageSums(ctx, page, seg)) {
          const k = JSON.stringify(keyOf(r));
          const prev = sums.get(k);
          sums.set(k, prev ? mergeSums(prev, r) : r);
        }
      }
      const rows = page.map((key) => sums.get(JSON.stringify(key)) as Sums);
      const items = rows.map(
        (r): Conversation => ({
          clientWorkload: r.client_workload,
          serverWorkload: r.server_workload,
          clientIp: r.client_ip,
          serverIp: r.server_ip,
          serverPort: r.server_port,
          proto: r.proto,
          app: r.app,
          verdict: r.action,
          ruleId: Number(r.rule_id),
          enforcedBy: (r.min_enforced_by === r.max_enforced_by ? r.min_enforced_by : 'both') as Conversation['enforcedBy'],
          bytes: Number(r.bytes),
          packets: Number(r.packets),
          sessions: Number(r.sessions),
          violations: Number(r.violations),
          threatSeverity: Number(r.threat_severity),
          firstSeen: Number(r.first_seen),
          lastSeen: Number(r.last_seen),
        }),
      );
      return { items, total, limit, offset };
    },
  );
};

export default connections;
