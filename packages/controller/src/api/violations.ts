/** GET /violations: de-duplicated policy violations (deny and violate), newest first. */
import { Type, type Static } from '@sinclair/typebox';
import type { ApiPlugin } from './index.js';
import { ErrorResponses, PageOf } from './schemas/common.js';
import { emptyPage, Endpoint, Flow, lastSeenIn, LogQuery, newestFirst, resolveEndpoints } from './schemas/log-query.js';

export const ViolationItem = Type.Object({
  id: Type.Integer(),
  ...Flow,
  action: Type.Union([Type.Literal('deny'), Type.Literal('violate')]),
  reportedBy: Type.String({ description: 'dp (data plane), nflog (kernel drop log) or both' }),
  count: Type.Integer({ description: 'violating sessions (or drops), counted once when both ends saw them' }),
  firstSeen: Type.Integer(),
  lastSeen: Type.Integer(),
});
export type ViolationItem = Static<typeof ViolationItem>;

export const ViolationQuery = LogQuery({
  workload: Endpoint('either end: workload id, group name or external'),
  from: Endpoint('client: workload id, group name or external'),
  to: Endpoint('server: workload id, group name or external'),
  action: Type.Optional(ViolationItem.properties.action),
  rule: Type.Optional(Type.Integer({ minimum: 0, description: 'deciding rule id' })),
});
export type ViolationQuery = Static<typeof ViolationQuery>;

const violations: ApiPlugin = async (app, { ctx }) => {
  app.get(
    '/violations',
    {
      schema: {
        tags: ['violations'],
        summary: 'Policy violations last seen in a time window (default: any time), newest first',
        querystring: ViolationQuery,
        response: { 200: PageOf(ViolationItem), ...ErrorResponses },
      },
    },
    async (req) => {
      const { action, rule } = req.query;
      const ends = await resolveEndpoints(ctx, req.query, ['workload', 'from', 'to']);
      if (!ends) return emptyPage(req.query);
      let q = lastSeenIn(ctx.store.db.selectFrom('violations'), req.query);
      const { workload, from, to } = ends;
      if (workload) q = q.where((eb) => eb.or([eb('client_workload', 'in', workload), eb('server_workload', 'in', workload)]));
      if (from) q = q.where('client_workload', 'in', from);
      if (to) q = q.where('server_workload', 'in', to);
      if (action !== undefined) q = q.where('action', '=', action);
      if (rule !== undefined) q = q.where('rule_id', '=', rule);
      return newestFirst(
        q,
        req.query,
        (r): ViolationItem => ({
          id: Number(r.id),
          clientWorkload: r.client_workload,
          serverWorkload: r.server_workload,
          clientIp: r.client_ip,
          serverIp: r.server_ip,
          serverPort: r.server_port,
          proto: r.proto,
          app: r.app,
          ruleId: Number(r.rule_id),
          action: r.action,
          enforcedBy: r.enforced_by as ViolationItem['enforcedBy'],
          reportedBy: r.reported_by,
          count: Number(r.count),
          firstSeen: Number(r.first_seen),
          lastSeen: Number(r.last_seen),
        }),
      );
    },
  );
};

export default violations;
