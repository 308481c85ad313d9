/**
 * GET /connections: conversations (both ends' reports merged at ingest) summed over a time
 * window, one item per (client, server, port, protocol, application, verdict, rule). The
 * conversations' roll-up job runs for as long as this app does.
 */
import { Type, type Static } from '@sinclair/typebox';
import { sql } from 'kysely';
import { startRollup } from '../ingest/rollup.js';
import type { ApiPlugin } from './index.js';
import { inSegmentsFor, segmentsFor, timeRange, Verdict } from './conversation-query.js';
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
      const segments = await segmentsFor(ctx, range);
      const ends = await resolveEndpoints(ctx, req.query, ['from', 'to']);
      if (!ends) return emptyPage(req.query);

      let q = ctx.store.db.selectFrom('conversations').where((eb) => inSegmentsFor(eb, segments, { client: ends.from, server: ends.to }));
      if (appName !== undefined) q = q.where('app', '=', appName);
      if (port !== undefined) q = q.where('server_port', '=', port);
      if (verdict !== undefined) q = q.where('action', '=', verdict);
      const grouped = q.groupBy([...KEY]);

      // One aggregation for the page and the total (a window function over the groups): the
      // window's rows are read once, not once per query.
      const rows = await grouped
        .select([...KEY])
        .select((eb) => [
          sql<string>`case when min(enforced_by) = max(enforced_by) then min(enforced_by) else 'both' end`.as('enforced_by'),
          eb.fn.sum<number>('bytes').as('bytes'),
          eb.fn.sum<number>('packets').as('packets'),
          eb.fn.sum<number>('sessions').as('sessions'),
          eb.fn.sum<number>('violations').as('violations'),
          eb.fn.max('threat_severity').as('threat_severity'),
          eb.fn.min('first_seen').as('first_seen'),
          eb.fn.max('last_seen').as('last_seen'),
          sql<number>`count(*) over ()`.as('total'),
        ])
        .orderBy('last_seen', 'desc')
        .orderBy('client_workload')
        .orderBy('server_workload')
        .orderBy('client_ip')
        .orderBy('server_ip')
        .orderBy('server_port')
        .orderBy('proto')
        .orderBy('app')
        .orderBy('action')
        .orderBy('rule_id')
        .limit(limit)
        .offset(offset)
        .execute();
      // A page past the end has no row to carry the total: count apart.
      const total =
        rows.length > 0
          ? Number(rows[0].total)
          : offset === 0
            ? 0
            : Number((await ctx.store.db.selectFrom(grouped.select(sql`1`.as('one')).as('g')).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
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
          enforcedBy: r.enforced_by as Conversation['enforcedBy'],
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
