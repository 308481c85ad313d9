/** GET /threats: de-duplicated threat detections, newest first. */
import { Severity, type SeverityName } from '@mseg/dp';
import { Type, type Static } from '@sinclair/typebox';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, PageOf } from './schemas/common.js';
import { emptyPage, Endpoint, lastSeenIn, LogQuery, newestFirst, resolveEndpoints } from './schemas/log-query.js';

const SeverityName = Type.Union((Object.keys(Severity) as SeverityName[]).map((s) => Type.Literal(s)));

export const ThreatItem = Type.Object({
  id: Type.Integer(),
  threatId: Type.Integer({ description: 'catalogue id, e.g. 4003 SQL injection' }),
  name: Type.String(),
  severity: SeverityName,
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

export const ThreatQuery = LogQuery({
  workload: Endpoint('workload id or group name'),
  severity: Type.Optional(SeverityName),
  minSeverity: Type.Optional(SeverityName),
  threatId: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type ThreatQuery = Static<typeof ThreatQuery>;

const threats: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/threats',
    {
      schema: {
        tags: ['threats'],
        summary: 'Threats last seen in a time window (default: any time), newest first',
        querystring: ThreatQuery,
        response: { 200: PageOf(ThreatItem), ...ErrorResponses },
      },
    },
    async (req) => {
      const { severity, minSeverity, threatId } = req.query;
      const ends = await resolveEndpoints(ctx, req.query, ['workload']);
      if (!ends) return emptyPage(req.query);
      let q = lastSeenIn(ctx.store.db.selectFrom('threats'), req.query);
      if (ends.workload) q = q.where('workload_id', 'in', ends.workload);
      if (severity !== undefined) q = q.where('severity', '=', severity);
      if (minSeverity !== undefined) {
        const floor = Severity[minSeverity];
        q = q.where('severity', 'in', Object.entries(Severity).filter(([, v]) => v >= floor).map(([k]) => k));
      }
      if (threatId !== undefined) q = q.where('threat_id', '=', threatId);
      return newestFirst(
        q,
        req.query,
        (r): ThreatItem => ({
          id: Number(r.id),
          threatId: r.threat_id,
          name: r.name,
          // Written at ingest from the threat catalogue's names.
          severity: r.severity as SeverityName,
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
    },
  );
};

export default threats;
