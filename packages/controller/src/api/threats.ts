/** GET /threats: de-duplicated threat detections, newest first. */
import { Severity } from '@mseg/dp';
import { Type, type Static } from '@sinclair/typebox';
import type { ApiPlugin } from './index.js';
import { endpointIds, parseTime, Window } from './conversation-query.js';
import { ErrorResponses, PageOf, Paging } from './schemas/common.js';

const SeverityName = Type.Union(Object.keys(Severity).map((s) => Type.Literal(s)));

export const ThreatItem = Type.Object({
  id: Type.Integer(),
  threatId: Type.Integer({ description: 'catalogue id, e.g. 4003 SQL injection' }),
  name: Type.String(),
  severity: Type.String(),
  workloadId: Type.String({ description: 'the workload whose data plane saw it' }),
  client: Type.String({ description: 'client address' }),
  server: Type.String({ description: 'server address:port' }),
  proto: Type.Integer(),
  app: Type.String(),
  detail: Type.String({ description: 'of the latest detection' }),
  count: Type.Integer(),
  firstSeen: Type.Integer(),
  lastSeen: Type.Integer(),
});
export type ThreatItem = Static<typeof ThreatItem>;

const Filters = Type.Object(
  {
    ...Paging,
    ...Window,
    workload: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'workload id or group name' })),
    severity: Type.Optional(SeverityName),
    minSeverity: Type.Optional(SeverityName),
    threatId: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const threats: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/threats',
    {
      schema: {
        tags: ['threats'],
        summary: 'Threats last seen in a time window (default: any time), newest first',
        querystring: Filters,
        response: { 200: PageOf(ThreatItem), ...ErrorResponses },
      },
    },
    async (req) => {
      const { limit, offset, workload, severity, minSeverity, threatId, since, until } = req.query;
      let q = ctx.store.db.selectFrom('threats');
      if (since !== undefined) q = q.where('last_seen', '>=', parseTime(since, 'query.since'));
      if (until !== undefined) q = q.where('last_seen', '<', parseTime(until, 'query.until'));
      if (workload !== undefined) {
        const ids = await endpointIds(ctx, workload, 'query.workload');
        if (ids.length === 0) return { items: [], total: 0, limit, offset };
        q = q.where('workload_id', 'in', ids);
      }
      if (severity !== undefined) q = q.where('severity', '=', severity);
      if (minSeverity !== undefined) {
        const floor = Severity[minSeverity as keyof typeof Severity];
        q = q.where('severity', 'in', Object.entries(Severity).filter(([, v]) => v >= floor).map(([k]) => k));
      }
      if (threatId !== undefined) q = q.where('threat_id', '=', threatId);
      const [rows, total] = await Promise.all([
        q.selectAll().orderBy('last_seen', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      const items = rows.map(
        (r): ThreatItem => ({
          id: Number(r.id),
          threatId: r.threat_id,
          name: r.name,
          severity: r.severity,
          workloadId: r.workload_id,
          client: r.client,
          server: r.server,
          proto: r.proto,
          app: r.app,
          detail: r.detail,
          count: Number(r.count),
          firstSeen: Number(r.first_seen),
          lastSeen: Number(r.last_seen),
        }),
      );
      return { items, total: Number(total.n), limit, offset };
    },
  );
};

export default threats;
